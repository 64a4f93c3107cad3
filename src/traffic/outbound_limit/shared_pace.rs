//! The shared pace of one provider instance, held in Redis for every gateway: Redis says
//! when each turn is ("now", "at", or "retry after"); while Redis cannot answer, this
//! gateway's share of the pace decides (`on_unavailable = "local_share"`) or nothing goes
//! (`"refuse"`). The fair line and `max_wait` stay with the caller (`OutboundLimit`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::Buckets;
use crate::config::OnUnavailable;
use crate::coordination::redis_pace::Budget;
use crate::coordination::{Coordination, Decision, Rate};

/// How far ahead a caller may reserve its turn in the shared pace. The line is held only
/// while asking, so a gateway keeps several turns reserved (in its line's order), and a
/// gateway slow to ask again leaves no gap in the pace; this bounds how many turns can be
/// lost when their callers give up.
const RESERVE_AHEAD: Duration = Duration::from_millis(500);
/// A shared turn taken later than this share of the pace's interval is given up, and a new
/// turn is reserved. Turns are granted exactly one interval apart in Redis time, so a
/// vendor counting any one-second window `[t, t + 1 s)` sees at most `limit + burst - 1`
/// calls sent on time: one interval of slack for calls leaving late. A gateway woken late
/// (a descheduled process) spends at most half of it; the other half is for the instants
/// between taking the turn and the request's write. Only a turn that left the budget
/// empty is given up (with room left, no window is full). Never under `MIN_LATE_TURN`, the
/// timer's own resolution, or every turn of a fast pace would be given up.
const LATE_TURN_SHARE: f64 = 0.5;
const MIN_LATE_TURN: Duration = Duration::from_millis(2);
/// With `on_unavailable = "refuse"`, how often a waiting call asks Redis again.
const REFUSED_RETRY: Duration = Duration::from_millis(100);

/// The instance's pace in Redis, and this gateway's share of it for when Redis is away.
pub(super) struct Shared {
    pub(super) coordination: Arc<Coordination>,
    pub(super) instance: String,
    /// This gateway's share of the pace; none without a pace (only pauses are shared).
    fallback: Option<Buckets>,
    /// Whether the last turn was decided by `fallback`.
    falling_back: AtomicBool,
}

/// An unlimited rate, for instances without a pace that still share vendor pauses.
pub(super) fn pace_free() -> Rate {
    Rate {
        per_second: 1_000_000.0,
        burst: 1_000_000,
    }
}

impl Shared {
    pub(super) fn new(
        coordination: Arc<Coordination>,
        instance: &str,
        fallback: Option<Buckets>,
    ) -> Shared {
        Shared {
            coordination,
            instance: instance.to_string(),
            fallback,
            falling_back: AtomicBool::new(false),
        }
    }

    /// Waits for a turn of the shared pace (the whole one, or the lookups' share): Redis
    /// says when; while it cannot, this gateway's share of the pace decides, or nothing
    /// goes (`refuse`) and the caller's `max_wait` ends the wait.
    pub(super) async fn turn(&self, lookup: bool, rate: Rate) {
        self.take_turn(lookup, None, rate).await
    }

    /// `turn` for the whole pace, in this gateway's fair line: held while asking Redis (and
    /// while waiting to ask again), released once a turn is reserved.
    pub(super) async fn turn_in_line(&self, line: &tokio::sync::Mutex<()>, rate: Rate) {
        self.take_turn(false, Some(line), rate).await
    }

    async fn take_turn(&self, lookup: bool, line: Option<&tokio::sync::Mutex<()>>, rate: Rate) {
        let budget = if lookup {
            Budget::Lookups(&self.instance)
        } else {
            Budget::Instance(&self.instance)
        };
        let late_limit =
            Duration::from_secs_f64(LATE_TURN_SHARE / rate.per_second).max(MIN_LATE_TURN);
        let mut in_line = None;
        loop {
            if in_line.is_none() {
                if let Some(line) = line {
                    in_line = Some(line.lock().await);
                }
            }
            match self.coordination.reserve(budget, rate, RESERVE_AHEAD).await {
                Decision::Allowed { at, remaining } => {
                    // Reserved: the next in line may ask for the turn after this one.
                    in_line = None;
                    self.falling_back.store(false, Ordering::SeqCst);
                    let at = Instant::from_std(at);
                    if at > Instant::now() {
                        tokio::time::sleep_until(at).await;
                    }
                    let late = Instant::now().saturating_duration_since(at);
                    if !lookup && remaining == 0 && late > late_limit {
                        // Sent now, this call would arrive bunched with the next turn
                        // (another gateway's, on time): the turn is lost, not the limit.
                        // Only a turn that emptied the budget (the pace is saturated) can
                        // bunch into a full window; with room left, a late call goes.
                        metrics::counter!(
                            "refund_gateway_coordination_late_turns_total",
                            "instance" => self.instance.clone(),
                        )
                        .increment(1);
                        tracing::debug!(
                            late_ms = late.as_millis() as u64,
                            "shared turn taken too late; reserving another"
                        );
                        continue;
                    }
                    return;
                }
                Decision::RetryAfter(wait) => tokio::time::sleep(wait).await,
                Decision::Unavailable => {
                    self.coordination.count_fallback("outbound");
                    match self.coordination.on_unavailable() {
                        OnUnavailable::LocalShare => {
                            if let Some(fallback) = &self.fallback {
                                if !self.falling_back.swap(true, Ordering::SeqCst) {
                                    // The shared budget may just have been spent: the
                                    // share starts empty, not with a burst on top.
                                    let _ = fallback.limiter.check();
                                    let _ = fallback.lookups.check();
                                }
                                let local = if lookup {
                                    &fallback.lookups
                                } else {
                                    &fallback.limiter
                                };
                                local.until_ready().await;
                            }
                            return;
                        }
                        OnUnavailable::Refuse => tokio::time::sleep(REFUSED_RETRY).await,
                    }
                }
            }
        }
    }

    /// Waits out a pause of the instance shared through Redis (instances without a pace).
    pub(super) async fn paused(&self, rate: Rate) {
        loop {
            match self
                .coordination
                .take(Budget::Instance(&self.instance), rate)
                .await
            {
                Decision::RetryAfter(wait) => tokio::time::sleep(wait).await,
                Decision::Allowed { .. } | Decision::Unavailable => return,
            }
        }
    }
}
