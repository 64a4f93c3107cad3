//! `[coordination]`: several gateways sharing vendor budgets through Redis. Absent, every
//! limit is held in this process alone and no Redis is touched.
//!
//! ```toml
//! [coordination]
//! redis = { url = { env = "REDIS_URL" } }   # or url = "redis://127.0.0.1:6379" (no password)
//! # TLS: url = "rediss://redis.internal:6380", trusting the system's roots, or only
//! # ca_file's (PEM) when given. A certificate that does not verify is an error, never a
//! # plaintext connection.
//! # redis = { url = "rediss://redis.internal:6380", ca_file = "/etc/refund-gateway/redis-ca.pem" }
//! on_unavailable = "local_share"            # or "refuse"
//! expected_gateways = 3
//! acquire_timeout = "100ms"
//! ```

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use refund_provider::SecretRef;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoordinationConfig {
    pub redis: RedisConfig,
    /// What vendor calls and client limits do while Redis cannot be reached in time.
    #[serde(default)]
    pub on_unavailable: OnUnavailable,
    /// How many gateways share each budget: the local share while Redis is away is
    /// `limit / expected_gateways`, so that the total stays at or under the limit.
    #[serde(default = "default_expected_gateways")]
    pub expected_gateways: NonZeroU32,
    /// The longest one acquire waits for Redis before counting it unavailable: a slow
    /// Redis must not stall requests.
    #[serde(
        default = "default_acquire_timeout",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub acquire_timeout: Duration,
    /// Prefix of every Redis key and channel, so several deployments (or tests) can share
    /// one Redis without sharing budgets.
    #[serde(default = "default_key_prefix")]
    pub key_prefix: String,
}

/// `redis = { url = ... }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    pub url: RedisUrl,
    /// The CA certificate(s) (PEM) a `rediss://` server's certificate must chain to,
    /// instead of the system's roots: a private Redis' own CA.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

/// The Redis URL, written in config only when it holds no password; a URL with
/// credentials is referenced (`{ env = .. }` / `{ file = .. }`) like every other secret.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RedisUrl {
    Inline(String),
    Reference(SecretRef),
}

/// `on_unavailable`: never unlimited, either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnUnavailable {
    /// Each gateway keeps to its share of every limit (`limit / expected_gateways`).
    #[default]
    LocalShare,
    /// Vendor calls wait (up to `max_wait`), then are refused as rate limited.
    Refuse,
}

fn default_expected_gateways() -> NonZeroU32 {
    NonZeroU32::MIN
}

fn default_acquire_timeout() -> Duration {
    Duration::from_millis(100)
}

fn default_key_prefix() -> String {
    "refund-gateway".into()
}

impl CoordinationConfig {
    /// Checks what can be checked without reading secrets; the error names the key.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if let RedisUrl::Inline(url) = &self.redis.url {
            check_url(url).map_err(|m| ("coordination.redis.url", m))?;
            if url::Url::parse(url).is_ok_and(|u| u.password().is_some()) {
                return Err((
                    "coordination.redis.url",
                    "a URL with a password is a secret: use { env = \"VARIABLE\" } or { file = \"path\" }"
                        .into(),
                ));
            }
        }
        if let (RedisUrl::Inline(url), Some(_)) = (&self.redis.url, &self.redis.ca_file) {
            if !is_tls(url) {
                return Err((
                    "coordination.redis.ca_file",
                    "a CA file is for TLS: the URL must start with rediss://".into(),
                ));
            }
        }
        if self.acquire_timeout.is_zero() || self.acquire_timeout > Duration::from_secs(5) {
            return Err((
                "coordination.acquire_timeout",
                "must be more than 0 and at most 5s".into(),
            ));
        }
        if self.key_prefix.is_empty() || self.key_prefix.len() > 100 {
            return Err((
                "coordination.key_prefix",
                "must be 1 to 100 characters".into(),
            ));
        }
        Ok(())
    }

    /// The URL, read from wherever it is kept. The error names where it looked.
    pub fn resolve_url(&self) -> Result<SecretString, String> {
        let url = match &self.redis.url {
            RedisUrl::Inline(url) => SecretString::from(url.clone()),
            RedisUrl::Reference(reference) => reference.resolve()?,
        };
        check_url(url.expose_secret())?;
        Ok(url)
    }

    /// The CA certificates `ca_file` names (PEM), checked for the `rediss://` URL `url`;
    /// none: the system's roots (or no TLS). The error names the file, never the URL.
    pub fn trusted_roots(&self, url: &str) -> Result<Option<Vec<u8>>, String> {
        let Some(path) = &self.redis.ca_file else {
            return Ok(None);
        };
        if !is_tls(url) {
            return Err(
                "ca_file is for TLS, but the Redis URL does not start with rediss://".into(),
            );
        }
        let pem = std::fs::read(path)
            .map_err(|e| format!("cannot read the CA file {}: {e}", path.display()))?;
        if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
            return Err(format!(
                "the CA file {} holds no PEM certificate",
                path.display()
            ));
        }
        Ok(Some(pem))
    }

    /// The URL for messages: a referenced one by its reference, never its text; with the
    /// CA it trusts, if one is configured.
    pub fn describe_url(&self) -> String {
        let url = self.describe_url_only();
        match &self.redis.ca_file {
            Some(ca) => format!("{url} (TLS, trusting {})", ca.display()),
            None => url,
        }
    }

    fn describe_url_only(&self) -> String {
        match &self.redis.url {
            RedisUrl::Inline(url) => url.clone(),
            RedisUrl::Reference(SecretRef::Env(var)) => format!("the URL in ${var}"),
            RedisUrl::Reference(SecretRef::File(path)) => {
                format!("the URL in {}", path.display())
            }
        }
    }
}

fn is_tls(url: &str) -> bool {
    url.trim().starts_with("rediss://")
}

/// `redis://`, `rediss://` (TLS) or `unix://`; the message never repeats the URL.
fn check_url(url: &str) -> Result<(), String> {
    match url::Url::parse(url.trim()) {
        Ok(u) if ["redis", "rediss", "unix", "redis+unix"].contains(&u.scheme()) => Ok(()),
        Ok(_) => Err("the URL must start with redis://, rediss:// or unix://".into()),
        Err(e) => Err(format!("not a URL: {e}")),
    }
}
