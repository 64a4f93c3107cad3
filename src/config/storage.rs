//! `[storage]`, `[idempotency]` and `[reconcile]`: the ledger's database, how long
//! idempotency keys live, and how unknown outcomes are settled.

use std::time::Duration;

use serde::Deserialize;

/// Debug shows `redacted_url`: the URL may hold the database's password (keep it out of
/// the file with `REFUND_GATEWAY__STORAGE__URL`).
#[derive(Clone, Deserialize)]
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

impl std::fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageConfig")
            .field("url", &self.redacted_url())
            .finish()
    }
}

impl StorageConfig {
    /// The URL without its password (in the user part, or a query parameter such as
    /// PostgreSQL's `password` or `sslpassword`), for messages.
    pub fn redacted_url(&self) -> String {
        let Ok(mut u) = url::Url::parse(&self.url) else {
            return self.url.clone();
        };
        if u.password().is_some() {
            let _ = u.set_password(Some("***"));
        }
        let secret = |name: &str| name.to_ascii_lowercase().contains("password");
        if u.query_pairs().any(|(name, _)| secret(&name)) {
            let pairs: Vec<(String, String)> = u
                .query_pairs()
                .map(|(name, value)| {
                    let value = if secret(&name) {
                        "***".into()
                    } else {
                        value.into_owned()
                    };
                    (name.into_owned(), value)
                })
                .collect();
            u.query_pairs_mut().clear().extend_pairs(pairs);
        }
        u.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::StorageConfig;

    #[test]
    fn passwords_never_show_in_messages_or_debug() {
        for url in [
            "postgres://refunds:hunter2@db.internal/ledger",
            "postgres://refunds@db.internal/ledger?sslmode=require&password=hunter2",
            "postgres://db.internal/ledger?sslpassword=hunter2&user=refunds",
        ] {
            let config = StorageConfig { url: url.into() };
            let shown = [config.redacted_url(), format!("{config:?}")];
            for text in shown {
                assert!(!text.contains("hunter2"), "{text}");
                assert!(text.contains("db.internal/ledger"), "{text}");
            }
        }
        let plain = StorageConfig {
            url: "sqlite://data/refund-gateway.db".into(),
        };
        assert_eq!(plain.redacted_url(), "sqlite://data/refund-gateway.db");
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdempotencyConfig {
    /// Creates without an `Idempotency-Key` header are refused (400) unless this is false.
    #[serde(default = "default_required")]
    pub required: bool,
    /// How long a key and its stored answer are kept.
    #[serde(
        default = "default_retention",
        deserialize_with = "crate::config::duration::bounded"
    )]
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
    #[serde(
        default = "default_interval",
        deserialize_with = "crate::config::duration::bounded"
    )]
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
