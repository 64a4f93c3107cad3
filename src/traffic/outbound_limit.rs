//! The outbound pace of one provider instance (governor), and the pauses a vendor asks for
//! with 429 + Retry-After. Callers over the pace wait in a fair (FIFO) line up to
//! `max_wait`, then get `Throttled` with a Retry-After: never dropped silently.
//!
//! Creates come first: lookups are paced a second time, at `lookup_share` of the pace,
//! before they may join the line, so however many lookups clients ask for (`no-cache` ones
//! included), the rest of the vendor budget stays free for creates. Whether a call is part
//! of a create or a lookup is said by the caller with `Purpose::scope`.
//!
//! With `[coordination]` (`share`), the pace is held in Redis for every gateway: Redis says
//! "now" or "retry after", the line and `max_wait` stay here. While Redis is unavailable
//! the pace falls back to this gateway's share (`limit / expected_gateways`), or refuses.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use refund_provider::TransportError;
use serde::Serialize;
use tokio::time::Instant;

use crate::config::RateLimitConfig;
use crate::coordination::{Coordination, Rate};

mod shared_pace;

use shared_pace::Shared;

/// How long a 429 without Retry-After pauses the instance.
const DEFAULT_VENDOR_PAUSE: Duration = Duration::from_secs(1);
/// Waiting for a pause is bounded by this when no rate limit (and so no max_wait) is set.
const PAUSE_WAIT_WITHOUT_LIMIT: Duration = Duration::from_secs(2);
pub struct OutboundLimit {
    pace: Option<Pace>,
    paused_until: Mutex<Option<Instant>>,
    waiting: AtomicUsize,
    /// The pace held in Redis for every gateway, once `share` is called.
    shared: OnceLock<Shared>,
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
    local: Buckets,
    /// Tokio's mutex is fair: callers get their turn in arrival order.
    line: tokio::sync::Mutex<()>,
}

/// A pace held in this process.
struct Buckets {
    limiter: DefaultDirectRateLimiter,
    /// The lookups' own pace, at `lookup_share` of `limiter`'s.
    lookups: DefaultDirectRateLimiter,
}

impl Buckets {
    fn new(rate: Rate, lookup_share: f64) -> Buckets {
        let quota = |per_second: f64, burst: f64| {
            let period = Duration::from_secs_f64(1.0 / per_second);
            let burst = NonZeroU32::new(burst.ceil() as u32).unwrap_or(NonZeroU32::MIN);
            Quota::with_period(period)
                .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
                .allow_burst(burst)
        };
        let burst = f64::from(rate.burst);
        Buckets {
            limiter: RateLimiter::direct(quota(rate.per_second, burst)),
            lookups: RateLimiter::direct(quota(
                rate.per_second * lookup_share,
                burst * lookup_share,
            )),
        }
    }
}

impl Pace {
    fn rate(&self) -> Rate {
        Rate {
            per_second: self.config.per_second,
            burst: self.config.burst(),
        }
    }

    fn lookup_rate(&self) -> Rate {
        let share = self.config.lookup_share;
        Rate {
            per_second: self.config.per_second * share,
            burst: (f64::from(self.config.burst()) * share).ceil().max(1.0) as u32,
        }
    }
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
            let rate = Rate {
                per_second: config.per_second,
                burst: config.burst(),
            };
            Pace {
                local: Buckets::new(rate, config.lookup_share),
                config,
                line: tokio::sync::Mutex::new(()),
            }
        });
        OutboundLimit {
            pace,
            paused_until: Mutex::new(None),
            waiting: AtomicUsize::new(0),
            shared: OnceLock::new(),
        }
    }

    /// Holds the pace (and vendor pauses) of `instance` in Redis from now on, shared by
    /// every gateway configured alike. Without a rate limit only pauses are shared.
    pub fn share(&self, coordination: Arc<Coordination>, instance: &str) {
        let fallback = self.pace.as_ref().map(|pace| {
            Buckets::new(
                pace.rate().share(coordination.expected_gateways()),
                pace.config.lookup_share,
            )
        });
        let _ = self
            .shared
            .set(Shared::new(coordination, instance, fallback));
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
            if let Some(shared) = self.shared.get() {
                // No pace, but a pause asked by the vendor through another gateway holds.
                return tokio::time::timeout_at(deadline, shared.paused(shared_pace::pace_free()))
                    .await
                    .map_err(|_| TransportError::Throttled {
                        retry_after: Duration::from_secs(1),
                    });
            }
            return Ok(());
        };
        let lookup = Purpose::current() == Purpose::Lookup;
        let shared = self.shared.get();
        let turn = async {
            if lookup {
                // A lookup first waits for its own share, outside the line creates use.
                match shared {
                    Some(shared) => shared.turn(true, pace.lookup_rate()).await,
                    None => pace.local.lookups.until_ready().await,
                }
            }
            match shared {
                Some(shared) => shared.turn_in_line(&pace.line, pace.rate()).await,
                None => {
                    let _line = pace.line.lock().await;
                    pace.local.limiter.until_ready().await
                }
            }
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
            if let Some(shared) = self.shared.get() {
                let coordination = shared.coordination.clone();
                let instance = shared.instance.clone();
                tokio::spawn(async move { coordination.pause(&instance, pause).await });
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
