//! Traffic settings: per-instance outbound limits, lookup cache TTLs, circuit breaking and
//! lookup retries, and the per-client inbound limit of `[server]`.

use std::time::Duration;

use serde::Deserialize;

/// `rate_limit = { per_second = 5, burst = 5, max_wait = "2s" }` on an instance: how fast
/// the gateway may call that vendor account. Requests over it wait in line up to `max_wait`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    pub per_second: f64,
    #[serde(default)]
    pub burst: Option<u32>,
    #[serde(
        default = "default_max_wait",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub max_wait: Duration,
    /// The share of the pace lookups may use (0 < share <= 1), so that lookups, `no-cache`
    /// ones included, never starve creates: the rest is kept for creates.
    #[serde(default = "default_lookup_share")]
    pub lookup_share: f64,
}

fn default_max_wait() -> Duration {
    Duration::from_secs(2)
}

fn default_lookup_share() -> f64 {
    0.5
}

impl RateLimitConfig {
    pub fn burst(&self) -> u32 {
        self.burst.unwrap_or(1).max(1)
    }

    pub fn validate(&self) -> Result<(), String> {
        check_rate(self.per_second)?;
        if self.burst == Some(0) {
            return Err("burst must be at least 1".into());
        }
        if !(self.lookup_share > 0.0 && self.lookup_share <= 1.0) {
            return Err("lookup_share must be more than 0 and at most 1".into());
        }
        if self.per_second * self.lookup_share < MIN_RATE {
            return Err(format!(
                "per_second * lookup_share (the lookups' pace) must be at least {MIN_RATE}"
            ));
        }
        if self.max_wait > MAX_WAIT {
            return Err("max_wait must be at most 1h: a caller waits that long in line".into());
        }
        Ok(())
    }
}

/// The slowest pace a limit may have (one call per 1,000 s): slower is a typo, and its
/// interval would not fit a clock.
const MIN_RATE: f64 = 0.001;
/// The fastest: faster is no limit at all.
const MAX_RATE: f64 = 100_000.0;
/// The longest a caller may be kept waiting in line for its turn.
const MAX_WAIT: Duration = Duration::from_secs(3600);

fn check_rate(per_second: f64) -> Result<(), String> {
    if !(per_second.is_finite() && (MIN_RATE..=MAX_RATE).contains(&per_second)) {
        return Err(format!(
            "per_second must be a number from {MIN_RATE} to {MAX_RATE}"
        ));
    }
    Ok(())
}

/// `cache = { ttl = "5s", final_ttl = "10m" }`: how long a lookup is reused. Refunds in a
/// final status (succeeded, failed, canceled) change no more, so they keep longer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    #[serde(
        default = "default_ttl",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub ttl: Duration,
    #[serde(
        default = "default_final_ttl",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub final_ttl: Duration,
}

fn default_ttl() -> Duration {
    Duration::from_secs(5)
}

fn default_final_ttl() -> Duration {
    Duration::from_secs(600)
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            ttl: default_ttl(),
            final_ttl: default_final_ttl(),
        }
    }
}

/// `circuit = { failures = 5, cool_down = "30s" }`: after `failures` consecutive vendor
/// failures the instance fails fast for `cool_down`, then one probe decides.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CircuitConfig {
    #[serde(default = "default_failures")]
    pub failures: u32,
    #[serde(
        default = "default_cool_down",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub cool_down: Duration,
}

fn default_failures() -> u32 {
    5
}

fn default_cool_down() -> Duration {
    Duration::from_secs(30)
}

impl Default for CircuitConfig {
    fn default() -> Self {
        CircuitConfig {
            failures: default_failures(),
            cool_down: default_cool_down(),
        }
    }
}

/// `retry = { attempts = 3, backoff = "100ms" }`: lookups only (creates are never
/// retried). `attempts` counts the first try; the default is 1 (no retry), so the gateway
/// never multiplies the load on a struggling vendor unless an operator chooses to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    #[serde(
        default = "default_backoff",
        deserialize_with = "crate::config::duration::bounded"
    )]
    pub backoff: Duration,
}

fn default_attempts() -> u32 {
    1
}

fn default_backoff() -> Duration {
    Duration::from_millis(100)
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            attempts: default_attempts(),
            backoff: default_backoff(),
        }
    }
}

/// `[server.client_rate_limit]`: per client (remote address), answered with 429.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientLimitConfig {
    pub per_second: f64,
    #[serde(default)]
    pub burst: Option<u32>,
}

impl ClientLimitConfig {
    pub fn validate(&self) -> Result<(), String> {
        check_rate(self.per_second)?;
        if self.burst == Some(0) {
            return Err("burst must be at least 1".into());
        }
        Ok(())
    }

    pub fn burst(&self) -> u32 {
        self.burst.unwrap_or(self.per_second.ceil() as u32).max(1)
    }
}

/// `[server.cache]`: the lookup cache's global bound.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheBounds {
    /// Approximate memory for cached lookups, in bytes; each entry counts at least 1 KiB,
    /// so this bounds the number of entries too.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
}

fn default_max_bytes() -> u64 {
    32 * 1024 * 1024
}

impl Default for CacheBounds {
    fn default() -> Self {
        CacheBounds {
            max_bytes: default_max_bytes(),
        }
    }
}
