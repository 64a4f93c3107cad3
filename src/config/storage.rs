//! `[storage]`, `[idempotency]` and `[reconcile]`: the ledger's database, how long
//! idempotency keys live, and how unknown outcomes are settled.

use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// `sqlite://path/to/file.db` (created on first start) or `postgres://user@host/db`.
    /// `sqlite::memory:` keeps the ledger in memory (tests, benchmarks: lost on exit).
    #[serde(default = "default_url")]
    pub url: String,
}

fn default_url() -> String {
    "sqlite://data/refund-gateway.db".into()
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig { url: default_url() }
    }
}

impl StorageConfig {
    /// The URL without its password, for messages.
    pub fn redacted_url(&self) -> String {
        match url::Url::parse(&self.url) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some("***"));
                u.to_string()
            }
            _ => self.url.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdempotencyConfig {
    /// Creates without an `Idempotency-Key` header are refused (400) unless this is false.
    #[serde(default = "default_required")]
    pub required: bool,
    /// How long a key and its stored answer are kept.
    #[serde(default = "default_retention", with = "humantime_serde")]
    pub retention: Duration,
}

fn default_required() -> bool {
    true
}

fn default_retention() -> Duration {
    Duration::from_secs(24 * 3600)
}

impl Default for IdempotencyConfig {
    fn default() -> Self {
        IdempotencyConfig {
            required: default_required(),
            retention: default_retention(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconcileConfig {
    /// How often the background reconciler looks for unknown outcomes to settle.
    #[serde(default = "default_interval", with = "humantime_serde")]
    pub interval: Duration,
}

fn default_interval() -> Duration {
    Duration::from_secs(5)
}

impl Default for ReconcileConfig {
    fn default() -> Self {
        ReconcileConfig {
            interval: default_interval(),
        }
    }
}
