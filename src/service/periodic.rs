//! The service's background passes (reconciler, vendor follow-up, event purge): each runs
//! every interval for as long as the service lives, and never keeps it alive itself. A pass
//! that panics (a bug) is logged and the next one runs: one bad refund must not end the
//! settling of every other for the life of the process.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

/// Runs `pass` at `first`, then every `every` (a slow pass delays the next rather than
/// bunching them), until the service (`state`) is dropped.
pub(crate) fn every<S, F, Fut>(
    state: Weak<S>,
    first: Instant,
    every: Duration,
    pass: F,
) -> JoinHandle<()>
where
    S: Send + Sync + 'static,
    F: Fn(Arc<S>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(first, every);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(state) = state.upgrade() else { break };
            if AssertUnwindSafe(pass(state)).catch_unwind().await.is_err() {
                tracing::error!("a background pass panicked; the next one runs as planned");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_pass_that_panics_is_followed_by_the_next() {
        let passes = Arc::new(AtomicUsize::new(0));
        let task = every(
            Arc::downgrade(&passes),
            Instant::now(),
            Duration::from_millis(5),
            |passes: Arc<AtomicUsize>| async move {
                if passes.fetch_add(1, Ordering::SeqCst) == 0 {
                    panic!("the first pass's bug");
                }
            },
        );
        let started = std::time::Instant::now();
        while passes.load(Ordering::SeqCst) < 3 {
            assert!(!task.is_finished(), "the passes ended with the first panic");
            assert!(started.elapsed() < Duration::from_secs(10));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        task.abort();
    }
}
