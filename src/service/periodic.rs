//! The service's background passes (reconciler, vendor follow-up, event purge): each runs
//! every interval for as long as the service lives, and never keeps it alive itself.

use std::future::Future;
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use super::Refunds;

/// Runs `pass` at `first`, then every `every` (a slow pass delays the next rather than
/// bunching them), until the service is dropped.
pub(crate) fn every<F, Fut>(
    state: Weak<Refunds>,
    first: Instant,
    every: Duration,
    pass: F,
) -> JoinHandle<()>
where
    F: Fn(Arc<Refunds>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(first, every);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(state) = state.upgrade() else { break };
            pass(state).await;
        }
    })
}
