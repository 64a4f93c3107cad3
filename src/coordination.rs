//! Budgets shared by several gateways through Redis (`[coordination]`): each provider
//! instance's outbound pace and each client's inbound limit as a GCRA held in Redis
//! (`redis_pace`), vendor-requested pauses seen by every gateway, and lookup-cache
//! invalidations published to every gateway (`invalidation`).
//!
//! Redis only answers "allowed now, or retry after X": waiting lines, `max_wait` and HTTP
//! answers stay with the callers. When Redis cannot answer within `acquire_timeout`, the
//! caller is told `Unavailable` and falls back (never unlimited): each gateway keeps to
//! `limit / expected_gateways`, or refuses, as configured. Nothing here knows HTTP.

mod clock;
pub mod invalidation;
pub mod redis_pace;

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::ExposeSecret;

use crate::config::{CoordinationConfig, OnUnavailable};

/// While Redis is unavailable, one call in this long still tries it (the others fall back
/// at once), so a dead Redis costs no timeout per call.
const PROBE_EVERY: Duration = Duration::from_millis(250);
/// How long a readiness or `check-config` probe waits for Redis.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// The connection to Redis and what every budget shares: settings and Redis' health.
pub struct Coordination {
    client: redis::Client,
    conn: ConnectionManager,
    prefix: String,
    on_unavailable: OnUnavailable,
    expected_gateways: NonZeroU32,
    acquire_timeout: Duration,
    /// Where the URL came from, for messages (never the URL's secret parts).
    described_url: String,
    health: Health,
    /// Redis' clock as local instants, for reserved turns.
    clock: clock::RedisClock,
}

/// Whether Redis answered lately, so a change is logged once, not per call.
struct Health {
    available: AtomicBool,
    next_probe: Mutex<Option<Instant>>,
}

/// A rate: `per_second` sustained, `burst` at once.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub per_second: f64,
    pub burst: u32,
}

impl Rate {
    /// This gateway's share of the rate while Redis is away: at least one call at once.
    pub fn share(self, gateways: NonZeroU32) -> Rate {
        let n = gateways.get();
        Rate {
            per_second: self.per_second / f64::from(n),
            burst: (self.burst / n).max(1),
        }
    }
}

/// Redis' answer to one acquire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go at `at` (now, unless a turn was reserved ahead); `remaining` more may go at once.
    Allowed { remaining: u32, at: Instant },
    /// Not before this long from now (the pace, or a vendor's pause).
    RetryAfter(Duration),
    /// Redis did not answer in time: the caller falls back.
    Unavailable,
}

impl Coordination {
    /// Reads the URL and prepares the connection; nothing is sent yet, so a gateway starts
    /// (in fallback) even while Redis is down. The error names no secret.
    pub fn connect(config: &CoordinationConfig) -> Result<Coordination, String> {
        let url = config.resolve_url()?;
        let url = url.expose_secret().trim();
        // `rediss://` is TLS with the system's roots, or only `ca_file`'s: a certificate
        // that does not verify fails the connection (the redis crate never downgrades).
        let client = match config.trusted_roots(url)? {
            Some(root_cert) => redis::Client::build_with_tls(
                url,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(root_cert),
                },
            ),
            None => redis::Client::open(url),
        }
        .map_err(|e| format!("not a usable Redis URL: {}", e.kind_label()))?;
        let manager = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.acquire_timeout.max(PROBE_TIMEOUT)))
            .set_response_timeout(Some(config.acquire_timeout.max(PROBE_TIMEOUT)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), manager)
            .map_err(|e| format!("cannot prepare the Redis connection: {e}"))?;
        Ok(Coordination {
            client,
            conn,
            prefix: config.key_prefix.clone(),
            on_unavailable: config.on_unavailable,
            expected_gateways: config.expected_gateways,
            acquire_timeout: config.acquire_timeout,
            described_url: config.describe_url(),
            health: Health {
                available: AtomicBool::new(true),
                next_probe: Mutex::new(None),
            },
            clock: clock::RedisClock::new(),
        })
    }

    pub fn on_unavailable(&self) -> OnUnavailable {
        self.on_unavailable
    }

    pub fn expected_gateways(&self) -> NonZeroU32 {
        self.expected_gateways
    }

    /// Whether the last call reached Redis.
    pub fn available(&self) -> bool {
        self.health.available.load(Ordering::SeqCst)
    }

    /// A key (or channel) of this deployment.
    fn key(&self, parts: &[&str]) -> String {
        let mut key = self.prefix.clone();
        for part in parts {
            key.push(':');
            key.push_str(part);
        }
        key
    }

    /// PING, for `/readyz` and `check-config`; the error names the URL's source only.
    pub async fn ping(&self) -> Result<(), String> {
        let mut conn = self.conn.clone();
        let answer = tokio::time::timeout(
            PROBE_TIMEOUT,
            redis::cmd("PING").query_async::<String>(&mut conn),
        )
        .await;
        let result = match answer {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("Redis at {} answers no: {e}", self.described_url)),
            Err(_) => Err(match self.why_not_connected().await {
                Some(e) => format!("Redis at {} answers no: {e}", self.described_url),
                None => format!(
                    "Redis at {} did not answer within {PROBE_TIMEOUT:?}",
                    self.described_url
                ),
            }),
        };
        self.record(result.is_ok());
        result
    }

    /// Why a fresh connection fails, if it fails at once: the shared connection retries
    /// with backoff, so a probe through it can time out before saying why (a certificate
    /// that does not verify, a refused port).
    async fn why_not_connected(&self) -> Option<String> {
        let attempt = tokio::time::timeout(
            PROBE_TIMEOUT,
            self.client.get_multiplexed_async_connection(),
        )
        .await;
        match attempt {
            Ok(Err(e)) => Some(e.to_string()),
            _ => None,
        }
    }

    /// While Redis is down, whether this call should skip it (another probed lately).
    fn skip_redis(&self) -> bool {
        if self.available() {
            return false;
        }
        let mut next = self
            .health
            .next_probe
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        match *next {
            Some(at) if at > now => true,
            _ => {
                *next = Some(now + PROBE_EVERY);
                false
            }
        }
    }

    /// Notes whether Redis answered; a change is logged and set on the gauge once.
    fn record(&self, reached: bool) {
        let was = self.health.available.swap(reached, Ordering::SeqCst);
        if was == reached {
            return;
        }
        metrics::gauge!("refund_gateway_coordination_available").set(if reached {
            1.0
        } else {
            0.0
        });
        if reached {
            tracing::warn!(redis = %self.described_url, "Redis reachable again: limits are shared across gateways");
        } else {
            let fallback = match self.on_unavailable {
                OnUnavailable::LocalShare => format!(
                    "each gateway keeps to 1/{} of every limit",
                    self.expected_gateways
                ),
                OnUnavailable::Refuse => "vendor calls wait, then are refused".to_string(),
            };
            tracing::warn!(redis = %self.described_url, fallback = %fallback, "Redis unavailable: limits are no longer shared");
        }
    }

    /// Counts an acquire that could not use Redis, by what it limits (`outbound`, `client`).
    pub fn count_fallback(&self, limit: &'static str) {
        metrics::counter!("refund_gateway_coordination_fallbacks_total", "limit" => limit)
            .increment(1);
    }
}

/// Why Redis failed, without any text that could carry a URL.
trait KindLabel {
    fn kind_label(&self) -> String;
}

impl KindLabel for redis::RedisError {
    fn kind_label(&self) -> String {
        format!("{:?}", self.kind())
    }
}
