//! `[coordination]`: several gateways sharing vendor budgets through Redis. Absent, every
//! limit is held in this process alone and no Redis is touched.
//!
//! ```toml
//! [coordination]
//! redis = { url = { env = "REDIS_URL" } }   # or url = "redis://127.0.0.1:6379" (no password)
//! on_unavailable = "local_share"            # or "refuse"
//! expected_gateways = 3
//! acquire_timeout = "100ms"
//! ```

use std::num::NonZeroU32;
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
    #[serde(default = "default_acquire_timeout", with = "humantime_serde")]
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

    /// The URL for messages: a referenced one by its reference, never its text.
    pub fn describe_url(&self) -> String {
        match &self.redis.url {
            RedisUrl::Inline(url) => url.clone(),
            RedisUrl::Reference(SecretRef::Env(var)) => format!("the URL in ${var}"),
            RedisUrl::Reference(SecretRef::File(path)) => {
                format!("the URL in {}", path.display())
            }
        }
    }
}

/// `redis://`, `rediss://` (TLS) or `unix://`; the message never repeats the URL.
fn check_url(url: &str) -> Result<(), String> {
    match url::Url::parse(url.trim()) {
        Ok(u) if ["redis", "rediss", "unix", "redis+unix"].contains(&u.scheme()) => Ok(()),
        Ok(_) => Err("the URL must start with redis://, rediss:// or unix://".into()),
        Err(e) => Err(format!("not a URL: {e}")),
    }
}
