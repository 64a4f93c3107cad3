//! Redis' clock (`TIME`, the one every shared budget is kept in) read as this process'
//! `Instant`s, so a turn granted for a Redis instant is taken at that instant however long
//! the answer took to come back. Each script answer carries Redis' time; the offset is
//! taken from the answer with the shortest round trip (NTP's rule: its midpoint is the
//! best-known moment Redis read its clock), so the error is at most half that round trip
//! (a fraction of a millisecond on a LAN), not the answer's full delay on a busy host.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A sample this much older counts as this much less precise (µs per second of age), so a
/// fresher sample replaces a stale best one before the clocks can drift apart.
const AGING_US_PER_S: u64 = 100;

pub(super) struct RedisClock {
    /// Local instants are counted in µs from here.
    epoch: Instant,
    best: Mutex<Option<Sample>>,
}

#[derive(Clone, Copy)]
struct Sample {
    /// Redis µs minus local µs at the same moment.
    offset_us: i128,
    round_trip_us: u64,
    taken: Instant,
}

impl RedisClock {
    pub(super) fn new() -> RedisClock {
        RedisClock {
            epoch: Instant::now(),
            best: Mutex::new(None),
        }
    }

    fn local_us(&self, at: Instant) -> i128 {
        at.saturating_duration_since(self.epoch).as_micros() as i128
    }

    /// Notes Redis' time `redis_us`, read by a script sent at `sent` and answered at `answered`.
    pub(super) fn observe(&self, sent: Instant, answered: Instant, redis_us: u64) {
        let round_trip_us = answered.saturating_duration_since(sent).as_micros() as u64;
        let midpoint = (self.local_us(sent) + self.local_us(answered)) / 2;
        let sample = Sample {
            offset_us: i128::from(redis_us) - midpoint,
            round_trip_us,
            taken: answered,
        };
        let mut best = self.best.lock().unwrap_or_else(|e| e.into_inner());
        let better = best.is_none_or(|b| {
            let aged = b.round_trip_us
                + answered.saturating_duration_since(b.taken).as_secs() * AGING_US_PER_S;
            sample.round_trip_us <= aged
        });
        if better {
            *best = Some(sample);
        }
    }

    /// The local instant of Redis' instant `redis_us` (never before `now`: the past is now).
    pub(super) fn local(&self, redis_us: u64) -> Instant {
        let now = Instant::now();
        let Some(best) = *self.best.lock().unwrap_or_else(|e| e.into_inner()) else {
            return now;
        };
        let local_us = i128::from(redis_us) - best.offset_us;
        let ahead = local_us - self.local_us(now);
        if ahead <= 0 {
            now
        } else {
            now + Duration::from_micros(ahead as u64)
        }
    }
}
