//! The per-client inbound limit: each client gets its own governor bucket, by its API key
//! where `[[clients]]` are configured, else by remote address (forwarded-for headers are
//! not trusted). Every answer carries the IETF `RateLimit-Policy` and `RateLimit` headers; a
//! client over its limit gets 429 problem+json with Retry-After.
//!
//! With `[coordination]`, each bucket is held in Redis for every gateway (`share`); while
//! Redis is unavailable, each gateway keeps to its share (`limit / expected_gateways`)
//! whatever `on_unavailable` says: refusing every client would take the service down.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use super::problem::ApiError;
use super::Caller;
use crate::config::ClientLimitConfig;
use crate::coordination::redis_pace::Budget;
use crate::coordination::{Coordination, Decision, Rate};

type KeyedLimiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

pub const POLICY_NAME: &str = "client";

pub struct ClientLimiter {
    limiter: KeyedLimiter,
    clock: DefaultClock,
    burst: u32,
    window: f64,
    per_second: f64,
    /// The buckets in Redis, and this gateway's share for when Redis is away.
    shared: Option<(Arc<Coordination>, KeyedLimiter)>,
}

fn keyed(per_second: f64, burst: u32, clock: &DefaultClock) -> KeyedLimiter {
    let period = Duration::from_secs_f64(1.0 / per_second.max(0.001));
    let quota = Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
    RateLimiter::dashmap_with_clock(quota, clock.clone())
        .with_middleware::<StateInformationMiddleware>()
}

impl ClientLimiter {
    pub fn new(config: &ClientLimitConfig) -> Arc<Self> {
        Self::new_shared(config, None)
    }

    /// `new`, the buckets held in Redis when `coordination` is given.
    pub fn new_shared(
        config: &ClientLimitConfig,
        coordination: Option<Arc<Coordination>>,
    ) -> Arc<Self> {
        let burst = config.burst();
        let clock = DefaultClock::default();
        let limiter = keyed(config.per_second, burst, &clock);
        let shared = coordination.map(|c| {
            let share = Rate {
                per_second: config.per_second,
                burst,
            }
            .share(c.expected_gateways());
            let fallback = keyed(share.per_second, share.burst, &clock);
            (c, fallback)
        });
        let this = Arc::new(ClientLimiter {
            limiter,
            clock,
            burst,
            window: f64::from(burst) / config.per_second,
            per_second: config.per_second,
            shared,
        });
        // Forget idle clients so memory stays bounded by the active ones.
        let weak = Arc::downgrade(&this);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                match weak.upgrade() {
                    Some(limiter) => {
                        limiter.limiter.retain_recent();
                        if let Some((_, fallback)) = &limiter.shared {
                            fallback.retain_recent();
                        }
                    }
                    None => break,
                }
            }
        });
        this
    }

    pub fn policy_item(&self) -> String {
        policy_item(POLICY_NAME, self.burst, self.window)
    }

    /// One request of `key`: what is left of its burst, or how long until it may come.
    async fn check(&self, key: &str) -> Result<u32, Duration> {
        let Some((coordination, fallback)) = &self.shared else {
            return self.check_local(&self.limiter, key);
        };
        let rate = Rate {
            per_second: self.per_second,
            burst: self.burst,
        };
        match coordination.take(Budget::Client(key), rate).await {
            Decision::Allowed { remaining, .. } => Ok(remaining),
            Decision::RetryAfter(wait) => Err(wait),
            Decision::Unavailable => {
                coordination.count_fallback("client");
                self.check_local(fallback, key)
            }
        }
    }

    fn check_local(&self, limiter: &KeyedLimiter, key: &str) -> Result<u32, Duration> {
        limiter
            .check_key(&key.to_string())
            .map(|snapshot| snapshot.remaining_burst_capacity())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// One item of `RateLimit-Policy`: quota `q` per window `w` seconds.
pub fn policy_item(name: &str, quota: u32, window_secs: f64) -> String {
    format!(
        "\"{name}\";q={quota};w={}",
        window_secs.ceil().max(1.0) as u64
    )
}

/// The bucket of a request: its client where clients have keys, else its address.
fn bucket(request: &Request) -> String {
    match request.extensions().get::<Caller>() {
        Some(client) if !client.is_open() => format!("client:{}", client.name()),
        _ => {
            let ip = request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
                .unwrap_or(IpAddr::from([0, 0, 0, 0]));
            format!("addr:{ip}")
        }
    }
}

/// Probes of the gateway's own health are never limited: a busy client must not make a
/// load balancer take the gateway out.
const UNLIMITED: &[&str] = &["/healthz", "/readyz", "/openapi.json"];

pub async fn enforce(
    State(limiter): State<Arc<ClientLimiter>>,
    request: Request,
    next: Next,
) -> Response {
    if UNLIMITED.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let key = bucket(&request);
    let (mut response, remaining, reset) = match limiter.check(&key).await {
        Ok(remaining) => {
            let used = limiter.burst.saturating_sub(remaining);
            let reset = f64::from(used) * limiter.window / f64::from(limiter.burst);
            (next.run(request).await, remaining, reset)
        }
        Err(wait) => {
            metrics::counter!("refund_gateway_client_limit_rejections_total").increment(1);
            let error = ApiError::ClientRateLimited(wait.max(Duration::from_secs(1)));
            (error.into_response(), 0, wait.as_secs_f64())
        }
    };
    let headers = response.headers_mut();
    let policy_name = HeaderName::from_static("ratelimit-policy");
    // A handler may already have named a stricter provider policy: keep both.
    let policy = match headers.get(&policy_name).and_then(|v| v.to_str().ok()) {
        Some(existing) => format!("{}, {existing}", limiter.policy_item()),
        None => limiter.policy_item(),
    };
    if let Ok(v) = HeaderValue::from_str(&policy) {
        headers.insert(policy_name, v);
    }
    let state = format!("\"{POLICY_NAME}\";r={remaining};t={}", reset.ceil() as u64);
    if let Ok(v) = HeaderValue::from_str(&state) {
        headers.insert(HeaderName::from_static("ratelimit"), v);
    }
    response
}
