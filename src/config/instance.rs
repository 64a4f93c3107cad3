//! `[providers.<name>]`: the keys every instance has (`kind`, `base_url`, `sandbox`,
//! timeouts) are the gateway's; every other key belongs to the vendor and is read by the
//! vendor's own config type when the instance is built. Splitting the table this way keeps
//! unknown-key checks strict on both sides (serde cannot combine `flatten` with
//! `deny_unknown_fields`).

use std::time::Duration;

use figment::value::{Dict, Value};
use refund_provider::InstanceName;
use serde::Deserialize;
use url::Url;

use super::traffic::{CacheConfig, CircuitConfig, RateLimitConfig, RetryConfig};
use super::{dict_value, ConfigError};

/// Keys read by the gateway; the rest of an instance's table goes to the vendor.
const COMMON_KEYS: &[&str] = &[
    "kind",
    "base_url",
    "sandbox",
    "timeout",
    "connect_timeout",
    "rate_limit",
    "cache",
    "circuit",
    "retry",
    "settle_window",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceCommon {
    pub kind: String,
    /// The vendor's base URL; defaults to the vendor's production URL where it has one.
    #[serde(default)]
    pub base_url: Option<Url>,
    /// Serve a local stand-in for the vendor and use it: no credentials, no real money.
    #[serde(default)]
    pub sandbox: bool,
    /// Total time for one vendor call, answer included.
    #[serde(
        default = "default_timeout",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub timeout: Duration,
    #[serde(
        default = "default_connect_timeout",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub connect_timeout: Duration,
    /// Outbound pace for this vendor account; unlimited when absent.
    #[serde(default)]
    pub rate_limit: Option<RateLimitConfig>,
    #[serde(default)]
    pub cache: CacheConfig,
    #[serde(default)]
    pub circuit: CircuitConfig,
    #[serde(default)]
    pub retry: RetryConfig,
    /// How long after a create whose outcome is unknown the vendor may still show it; a
    /// lookup that finds nothing after this settles the refund as `failed` / `not_applied`.
    #[serde(
        default = "default_settle_window",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub settle_window: Duration,
}

fn default_settle_window() -> Duration {
    Duration::from_secs(120)
}

fn default_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_connect_timeout() -> Duration {
    Duration::from_secs(3)
}

/// One instance, with its vendor settings still raw.
#[derive(Debug, Clone)]
pub struct InstanceSpec {
    pub name: InstanceName,
    pub common: InstanceCommon,
    pub vendor_settings: Value,
    /// Where the config came from, for messages about vendor keys.
    pub origin: String,
}

impl InstanceSpec {
    pub(super) fn parse(origin: &str, name: &str, dict: Dict) -> Result<Self, ConfigError> {
        let prefix = format!("providers.{name}");
        let instance = InstanceName::new(name).map_err(|m| ConfigError::new(origin, &prefix, m))?;
        let (common, vendor): (Dict, Dict) = dict
            .into_iter()
            .partition(|(key, _)| COMMON_KEYS.contains(&key.as_str()));
        let common: InstanceCommon = dict_value(common)
            .deserialize()
            .map_err(|e| ConfigError::from_figment(origin, &prefix, e))?;
        if let Some(url) = &common.base_url {
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(ConfigError::new(
                    origin,
                    format!("{prefix}.base_url"),
                    format!("`{url}` is not an http(s) URL with a host"),
                ));
            }
            if common.sandbox {
                return Err(ConfigError::new(
                    origin,
                    format!("{prefix}.base_url"),
                    "a sandbox instance serves its own vendor; remove base_url or set sandbox = false",
                ));
            }
        }
        if let Some(limit) = &common.rate_limit {
            limit
                .validate()
                .map_err(|m| ConfigError::new(origin, format!("{prefix}.rate_limit"), m))?;
        }
        if common.circuit.failures == 0 {
            return Err(ConfigError::new(
                origin,
                format!("{prefix}.circuit.failures"),
                "must be at least 1",
            ));
        }
        if common.retry.attempts == 0 {
            return Err(ConfigError::new(
                origin,
                format!("{prefix}.retry.attempts"),
                "must be at least 1 (the first try)",
            ));
        }
        if common.timeout.is_zero() || common.connect_timeout.is_zero() {
            return Err(ConfigError::new(
                origin,
                format!("{prefix}.timeout"),
                "timeouts must be greater than zero",
            ));
        }
        Ok(InstanceSpec {
            name: instance,
            common,
            vendor_settings: dict_value(vendor),
            origin: origin.to_string(),
        })
    }

    /// The key prefix of this instance in config (`providers.<name>`).
    pub fn key(&self, field: &str) -> String {
        if field.is_empty() {
            format!("providers.{}", self.name)
        } else {
            format!("providers.{}.{field}", self.name)
        }
    }
}
