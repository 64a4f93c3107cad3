//! The one backoff rule: exponential growth from a first delay up to a cap, with full
//! jitter (a uniformly random wait between zero and that bound), so that many callers
//! failing at once spread their retries instead of coming back together. Lookups, the
//! reconciler and the batch worker all wait by it.

use std::time::Duration;

/// The wait before try `attempt + 1`, after `attempt` failed tries (0 = the first retry).
pub fn delay(attempt: u32, first: Duration, cap: Duration) -> Duration {
    bound(attempt, first, cap).mul_f64(fastrand::f64())
}

/// The upper bound of `delay`: `first * 2^attempt`, at most `cap`.
pub fn bound(attempt: u32, first: Duration, cap: Duration) -> Duration {
    first
        .saturating_mul(2u32.saturating_pow(attempt.min(31)))
        .min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_to_the_cap_with_jitter_below_the_bound() {
        let first = Duration::from_millis(100);
        let cap = Duration::from_secs(5);
        assert_eq!(bound(0, first, cap), first);
        assert_eq!(bound(3, first, cap), Duration::from_millis(800));
        assert_eq!(bound(40, first, cap), cap);
        let waits: Vec<Duration> = (0..200).map(|_| delay(4, first, cap)).collect();
        assert!(waits.iter().all(|w| *w <= Duration::from_millis(1600)));
        let distinct: std::collections::BTreeSet<_> = waits.iter().collect();
        assert!(distinct.len() > 100, "full jitter spreads the waits");
    }
}
