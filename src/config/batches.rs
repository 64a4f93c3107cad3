//! `[batches]`: bulk refunds.

use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchConfig {
    /// Largest batch accepted.
    #[serde(default = "default_max_items")]
    pub max_items: usize,
    /// Items of one provider instance worked at the same time by one gateway. The
    /// instance's `rate_limit` paces them; this only bounds what waits in line.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// How long a claimed item may go without its outcome before another gateway (or this
    /// one, restarted) treats its holder as dead. Added to the instance's timeouts.
    #[serde(
        default = "default_lease_margin",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub lease_margin: Duration,
}

fn default_max_items() -> usize {
    100_000
}

fn default_concurrency() -> usize {
    4
}

fn default_lease_margin() -> Duration {
    Duration::from_secs(5)
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_items: default_max_items(),
            concurrency: default_concurrency(),
            lease_margin: default_lease_margin(),
        }
    }
}
