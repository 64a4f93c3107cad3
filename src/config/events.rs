//! `[events]`: how long events are kept, how often batch progress is told, and how webhook
//! deliveries are sent and retried (the endpoints themselves are `[[webhooks]]`).

use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsConfig {
    /// How long events are kept (`GET /v1/events`); one still being delivered stays.
    #[serde(
        default = "default_retention",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub retention: Duration,
    /// How often expired events are purged.
    #[serde(
        default = "default_purge_interval",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub purge_interval: Duration,
    /// A `batch.progress` event after this many more items are done ...
    #[serde(default = "default_progress_items")]
    pub batch_progress_items: u32,
    /// ... or after this long since the last one, when some more are.
    #[serde(
        default = "default_progress_interval",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub batch_progress_interval: Duration,
    /// Each webhook request's whole time limit: a slow receiver holds only its own deliveries.
    #[serde(
        default = "default_webhook_timeout",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub webhook_timeout: Duration,
    /// How long a delivery is retried before it is marked failed.
    #[serde(
        default = "default_retry_for",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub webhook_retry_for: Duration,
    /// The first retry's bound; each next one doubles, up to `webhook_retry_max`, with full jitter.
    #[serde(
        default = "default_retry_first",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub webhook_retry_first: Duration,
    #[serde(
        default = "default_retry_max",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub webhook_retry_max: Duration,
    /// How often each gateway looks for deliveries due (new events also wake it at once).
    #[serde(
        default = "default_poll",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub webhook_poll: Duration,
    /// Requests in flight to one endpoint at a time, per gateway.
    #[serde(default = "default_concurrency")]
    pub webhook_concurrency: u32,
    /// How often refunds not final at their vendor are looked for polls due.
    #[serde(
        default = "default_follow_interval",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub follow_interval: Duration,
    /// How long such a refund is followed after it was first seen (the horizon).
    #[serde(
        default = "default_follow_for",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub follow_for: Duration,
    /// The first poll's bound; each next one doubles, up to `follow_max`, with full jitter.
    #[serde(
        default = "default_follow_first",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub follow_first: Duration,
    #[serde(
        default = "default_follow_max",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub follow_max: Duration,
    /// Polls of each kind (ledger `pending`, looked-up vendor refunds) per pass, per gateway.
    #[serde(default = "default_follow_batch")]
    pub follow_batch: u32,
}

fn default_follow_interval() -> Duration {
    Duration::from_secs(5)
}
fn default_follow_for() -> Duration {
    Duration::from_secs(7 * 24 * 3600)
}
fn default_follow_first() -> Duration {
    Duration::from_secs(30)
}
fn default_follow_max() -> Duration {
    Duration::from_secs(6 * 3600)
}
fn default_follow_batch() -> u32 {
    20
}

fn default_retention() -> Duration {
    Duration::from_secs(30 * 24 * 3600)
}
fn default_purge_interval() -> Duration {
    Duration::from_secs(3600)
}
fn default_progress_items() -> u32 {
    100
}
fn default_progress_interval() -> Duration {
    Duration::from_secs(10)
}
fn default_webhook_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_retry_for() -> Duration {
    Duration::from_secs(3 * 24 * 3600)
}
fn default_retry_first() -> Duration {
    Duration::from_secs(5)
}
fn default_retry_max() -> Duration {
    Duration::from_secs(3600)
}
fn default_poll() -> Duration {
    Duration::from_secs(1)
}
fn default_concurrency() -> u32 {
    8
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            retention: default_retention(),
            purge_interval: default_purge_interval(),
            batch_progress_items: default_progress_items(),
            batch_progress_interval: default_progress_interval(),
            webhook_timeout: default_webhook_timeout(),
            webhook_retry_for: default_retry_for(),
            webhook_retry_first: default_retry_first(),
            webhook_retry_max: default_retry_max(),
            webhook_poll: default_poll(),
            webhook_concurrency: default_concurrency(),
            follow_interval: default_follow_interval(),
            follow_for: default_follow_for(),
            follow_first: default_follow_first(),
            follow_max: default_follow_max(),
            follow_batch: default_follow_batch(),
        }
    }
}
