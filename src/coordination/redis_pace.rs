//! The GCRA (generic cell rate algorithm) held in Redis: one key per budget holding its
//! "theoretical arrival time", updated by one atomic Lua script per acquire with Redis'
//! own clock (`TIME`), so the gateways' host clocks never matter. A vendor's pause is a
//! second key with a millisecond expiry, consulted by the same script.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use redis::Script;

use super::{Coordination, Decision, Rate};

/// KEYS[1]: the budget's TAT (µs, Redis time); KEYS[2]: its pause key.
/// ARGV[1]: emission interval (µs); ARGV[2]: burst tolerance (µs); ARGV[3]: how far ahead
/// a turn may be reserved (µs; 0: now or never).
/// Returns {allowed 0/1, the instant (Redis µs) of the turn or of the retry (when the turn
/// comes within reach of ARGV[3]), remaining, now (Redis µs)}. Reserving keeps turns back
/// to back in Redis time: a caller that woke late to retry would otherwise lose the slot it
/// waited for, and the pace would run below its rate.
/// The turn is an instant, not a wait, so the caller goes at that instant in Redis time
/// (`clock`), not that long after the answer happened to reach it.
static TAKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then
  return {0, now + paused * 1000, 0, now}
end
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then
  tat = now
end
local wait = tat - tolerance - now
if wait > tonumber(ARGV[3]) then
  return {0, now + math.ceil(wait - tonumber(ARGV[3])), 0, now}
end
if wait < 0 then
  wait = 0
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
local remaining = math.floor((tolerance + interval - (new_tat - now)) / interval)
if remaining < 0 then
  remaining = 0
end
return {1, now + math.ceil(wait), remaining, now}
"#,
    )
});

/// KEYS[1]: the pause key; ARGV[1]: the pause (ms). Only ever lengthens a pause.
static PAUSE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local left = redis.call('PTTL', KEYS[1])
if left < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1
"#,
    )
});

/// Which budget of an instance or client: its whole pace, or the lookups' share of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget<'a> {
    Instance(&'a str),
    Lookups(&'a str),
    Client(&'a str),
}

impl Coordination {
    fn budget_keys(&self, budget: Budget<'_>) -> (String, String) {
        match budget {
            Budget::Instance(name) => (self.key(&["pace", name]), self.key(&["pause", name])),
            Budget::Lookups(name) => (self.key(&["lookups", name]), self.key(&["pause", name])),
            Budget::Client(name) => (
                self.key(&["client", name]),
                self.key(&["client-pause", name]),
            ),
        }
    }

    /// One acquire: allowed now, or when to try again; `Unavailable` when Redis does not
    /// answer within `acquire_timeout` (or is known down and another call probes it).
    pub async fn take(&self, budget: Budget<'_>, rate: Rate) -> Decision {
        self.reserve(budget, rate, Duration::ZERO).await
    }

    /// `take`, but a turn up to `ahead` from now is reserved (`Allowed` with its instant):
    /// the caller waits until then, then goes.
    pub async fn reserve(&self, budget: Budget<'_>, rate: Rate, ahead: Duration) -> Decision {
        if self.skip_redis() {
            return Decision::Unavailable;
        }
        let (tat, pause) = self.budget_keys(budget);
        let interval = 1_000_000.0 / rate.per_second;
        let tolerance = interval * f64::from(rate.burst.max(1) - 1);
        let mut conn = self.conn.clone();
        let mut invocation = TAKE.key(&tat);
        invocation
            .key(&pause)
            .arg(interval.round().max(1.0) as u64)
            .arg(tolerance.round() as u64)
            .arg(ahead.as_micros() as u64);
        let sent = Instant::now();
        let answer = tokio::time::timeout(
            self.acquire_timeout,
            invocation.invoke_async::<(u8, u64, u64, u64)>(&mut conn),
        )
        .await;
        match answer {
            Ok(Ok((allowed, at_us, remaining, now_us))) => {
                self.record(true);
                self.clock.observe(sent, Instant::now(), now_us);
                let at = self.clock.local(at_us);
                if allowed == 1 {
                    Decision::Allowed {
                        remaining: u32::try_from(remaining).unwrap_or(u32::MAX),
                        at,
                    }
                } else {
                    let wait = at.saturating_duration_since(Instant::now());
                    Decision::RetryAfter(wait.max(Duration::from_micros(1)))
                }
            }
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "Redis acquire failed");
                self.record(false);
                Decision::Unavailable
            }
            Err(_) => {
                self.record(false);
                Decision::Unavailable
            }
        }
    }

    /// Pauses an instance for every gateway (a vendor's 429 with Retry-After). Best
    /// effort: each gateway also pauses itself, so a lost write only loses the sharing.
    pub async fn pause(&self, instance: &str, pause: Duration) {
        let (_, key) = self.budget_keys(Budget::Instance(instance));
        let mut conn = self.conn.clone();
        let ms = pause.as_millis().max(1) as u64;
        let mut invocation = PAUSE.key(&key);
        invocation.arg(ms);
        let answer = tokio::time::timeout(
            self.acquire_timeout.max(Duration::from_millis(200)),
            invocation.invoke_async::<i64>(&mut conn),
        )
        .await;
        if !matches!(answer, Ok(Ok(_))) {
            tracing::warn!("could not share a vendor's pause through Redis");
        }
    }
}
