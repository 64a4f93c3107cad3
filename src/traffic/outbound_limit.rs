//! The outbound pace of one provider instance (governor), and the pauses a vendor asks for
//! with 429 + Retry-After. Callers over the pace wait in a fair (FIFO) line up to
//! `max_wait`, then get `Throttled` with a Retry-After: never dropped silently.
//!
//! Creates come first: lookups are paced a second time, at `lookup_share` of the pace,
//! before they may join the line, so however many lookups clients ask for (`no-cache` ones
//! included), the rest of the vendor budget stays free for creates. Whether a call is part
//! of a create or a lookup is said by the caller with `Purpose::scope`.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use refund_provider::TransportError;
use serde::Serialize;
use tokio::time::Instant;

use crate::config::RateLimitConfig;

/// How long a 429 without Retry-After pauses the instance.
const DEFAULT_VENDOR_PAUSE: Duration = Duration::from_secs(1);
/// Waiting for a pause is bounded by this when no rate limit (and so no max_wait) is set.
const PAUSE_WAIT_WITHOUT_LIMIT: Duration = Duration::from_secs(2);

pub struct OutboundLimit {
    pace: Option<Pace>,
    paused_until: Mutex<Option<Instant>>,
    waiting: AtomicUsize,
}

/// What a vendor call is for, as the caller says around it (`Purpose::scope`). A call
/// made outside any scope counts as a create's: the full budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Create,
    Lookup,
}

tokio::task_local! {
    static PURPOSE: Purpose;
}

impl Purpose {
    /// Runs `call` with every vendor request in it counted as this purpose.
    pub async fn scope<F: std::future::Future>(self, call: F) -> F::Output {
        PURPOSE.scope(self, call).await
    }

    fn current() -> Purpose {
        PURPOSE.try_with(|p| *p).unwrap_or(Purpose::Create)
    }
}

struct Pace {
    config: RateLimitConfig,
    limiter: DefaultDirectRateLimiter,
    /// The lookups' own pace, at `lookup_share` of `limiter`'s.
    lookups: DefaultDirectRateLimiter,
    /// Tokio's mutex is fair: callers get their turn in arrival order.
    line: tokio::sync::Mutex<()>,
}

/// What `GET /v1/providers` shows.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LimitState {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_second: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_wait_ms: Option<u64>,
    /// Requests waiting for their turn right now.
    pub waiting: usize,
    /// Milliseconds left of a pause the vendor asked for (429), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paused_for_ms: Option<u64>,
}

struct WaitGuard<'a>(&'a AtomicUsize);

impl Drop for WaitGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl OutboundLimit {
    pub fn new(config: Option<RateLimitConfig>) -> Self {
        let pace = config.map(|config| {
            let quota = |per_second: f64, burst: f64| {
                let period = Duration::from_secs_f64(1.0 / per_second);
                let burst = NonZeroU32::new(burst.ceil() as u32).unwrap_or(NonZeroU32::MIN);
                Quota::with_period(period)
                    .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
                    .allow_burst(burst)
            };
            let burst = f64::from(config.burst());
            let share = config.lookup_share;
            Pace {
                limiter: RateLimiter::direct(quota(config.per_second, burst)),
                lookups: RateLimiter::direct(quota(config.per_second * share, burst * share)),
                config,
                line: tokio::sync::Mutex::new(()),
            }
        });
        OutboundLimit {
            pace,
            paused_until: Mutex::new(None),
            waiting: AtomicUsize::new(0),
        }
    }

    /// The longest a call waits in line before it is refused.
    pub fn max_wait(&self) -> Duration {
        self.pace
            .as_ref()
            .map_or(PAUSE_WAIT_WITHOUT_LIMIT, |p| p.config.max_wait)
    }

    /// Waits for this instance's turn, or refuses once waiting would exceed `max_wait`.
    pub async fn acquire(&self) -> Result<(), TransportError> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let _guard = WaitGuard(&self.waiting);
        let deadline = Instant::now() + self.max_wait();
        if let Some(until) = self.paused_until() {
            if until > deadline {
                return Err(TransportError::Throttled {
                    retry_after: until - Instant::now(),
                });
            }
            tokio::time::sleep_until(until).await;
        }
        let Some(pace) = &self.pace else {
            return Ok(());
        };
        let lookup = Purpose::current() == Purpose::Lookup;
        let turn = async {
            if lookup {
                // A lookup first waits for its own share, outside the line creates use.
                pace.lookups.until_ready().await;
            }
            let _line = pace.line.lock().await;
            pace.limiter.until_ready().await;
        };
        tokio::time::timeout_at(deadline, turn)
            .await
            .map_err(|_| TransportError::Throttled {
                retry_after: self.estimated_wait(pace),
            })
    }

    /// Roughly how long the line ahead takes to clear, for Retry-After.
    fn estimated_wait(&self, pace: &Pace) -> Duration {
        let ahead = self.waiting.load(Ordering::SeqCst).max(1) as f64;
        Duration::from_secs_f64(ahead / pace.config.per_second).max(Duration::from_secs(1))
    }

    /// Called with every vendor answer: a 429 pauses the instance for what it asks.
    pub fn observe(&self, status: u16, retry_after: Option<Duration>) {
        if status == 429 {
            let pause = retry_after.unwrap_or(DEFAULT_VENDOR_PAUSE);
            let until = Instant::now() + pause;
            let mut paused = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
            if paused.is_none_or(|current| current < until) {
                *paused = Some(until);
            }
            tracing::warn!(
                pause_ms = pause.as_millis() as u64,
                "vendor asked to slow down; instance paused"
            );
        }
    }

    fn paused_until(&self) -> Option<Instant> {
        let mut paused = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        match *paused {
            Some(until) if until > Instant::now() => Some(until),
            Some(_) => {
                *paused = None;
                None
            }
            None => None,
        }
    }

    pub fn state(&self) -> LimitState {
        LimitState {
            per_second: self.pace.as_ref().map(|p| p.config.per_second),
            burst: self.pace.as_ref().map(|p| p.config.burst()),
            max_wait_ms: self
                .pace
                .as_ref()
                .map(|p| p.config.max_wait.as_millis() as u64),
            waiting: self.waiting.load(Ordering::SeqCst),
            paused_for_ms: self
                .paused_until()
                .map(|until| (until - Instant::now()).as_millis() as u64),
        }
    }

    /// The pace as an IETF RateLimit-Policy item (quota per window), if limited.
    pub fn policy(&self) -> Option<(u32, f64)> {
        self.pace.as_ref().map(|p| {
            let burst = p.config.burst();
            (burst, f64::from(burst) / p.config.per_second)
        })
    }
}
