//! A circuit breaker per provider instance: after `failures` consecutive vendor failures
//! (no answer, or a 5xx) calls fail fast for `cool_down`; then a single probe is let
//! through, and its result closes the circuit or opens it again.

use std::sync::Mutex;
use std::time::Duration;

use refund_provider::TransportError;
use serde::Serialize;
use tokio::time::Instant;

use crate::config::CircuitConfig;

/// How long callers are told to wait while a probe is in flight.
const PROBE_RETRY_AFTER: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy)]
enum Phase {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen,
}

pub struct Circuit {
    config: CircuitConfig,
    phase: Mutex<Phase>,
}

/// What `GET /v1/providers` shows.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CircuitState {
    /// `closed`, `open` or `half_open`.
    pub state: &'static str,
    pub consecutive_failures: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_for_ms: Option<u64>,
    pub failure_threshold: u32,
    pub cool_down_ms: u64,
}

impl Circuit {
    pub fn new(config: CircuitConfig) -> Self {
        Circuit {
            config,
            phase: Mutex::new(Phase::Closed { failures: 0 }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Lets a call through, or refuses it without touching the vendor.
    pub fn admit(&self) -> Result<(), TransportError> {
        let mut phase = self.lock();
        match *phase {
            Phase::Closed { .. } => Ok(()),
            Phase::Open { until } if until > Instant::now() => Err(TransportError::CircuitOpen {
                retry_after: (until - Instant::now()).max(Duration::from_millis(1)),
            }),
            Phase::Open { .. } => {
                *phase = Phase::HalfOpen;
                tracing::info!("circuit half-open: probing the vendor");
                Ok(())
            }
            Phase::HalfOpen => Err(TransportError::CircuitOpen {
                retry_after: PROBE_RETRY_AFTER,
            }),
        }
    }

    /// Records how an admitted call went. `None`: it never reached the vendor (our own
    /// limiter refused it), which says nothing about the vendor's health.
    pub fn record(&self, healthy: Option<bool>) {
        let mut phase = self.lock();
        *phase = match (*phase, healthy) {
            (Phase::HalfOpen, None) => Phase::Open {
                until: Instant::now(),
            },
            (current, None) => current,
            (_, Some(true)) => Phase::Closed { failures: 0 },
            (Phase::Closed { failures }, Some(false)) if failures + 1 < self.config.failures => {
                Phase::Closed {
                    failures: failures + 1,
                }
            }
            (_, Some(false)) => {
                tracing::warn!(
                    cool_down_ms = self.config.cool_down.as_millis() as u64,
                    "circuit open"
                );
                Phase::Open {
                    until: Instant::now() + self.config.cool_down,
                }
            }
        };
    }

    pub fn state(&self) -> CircuitState {
        let phase = *self.lock();
        let (state, failures, open_for) = match phase {
            Phase::Closed { failures } => ("closed", failures, None),
            Phase::Open { until } if until > Instant::now() => {
                ("open", self.config.failures, Some(until - Instant::now()))
            }
            Phase::Open { .. } => ("half_open", self.config.failures, None),
            Phase::HalfOpen => ("half_open", self.config.failures, None),
        };
        CircuitState {
            state,
            consecutive_failures: failures,
            open_for_ms: open_for.map(|d| d.as_millis() as u64),
            failure_threshold: self.config.failures,
            cool_down_ms: self.config.cool_down.as_millis() as u64,
        }
    }
}
