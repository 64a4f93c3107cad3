//! The batch worker of one gateway process. For every provider instance it keeps up to
//! `concurrency` items in flight, claiming them in order; the instance's outbound limiter
//! paces the vendor calls. Several gateways sharing a database work the same queue: claims
//! are compare-and-set, so no item is worked twice, and a dead holder's claims are
//! recovered when their lease runs out.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::watch;

use refund_provider::{ErrorKind, Outcome, ProviderError};

use crate::api::refund_input::CreateRefundBody;
use crate::api::AppState;
use crate::instances::Instance;
use crate::ledger::create::settlement_of;
use crate::ledger::new_refund_id;
use crate::storage::batches::{ClaimedItem, MAX_ATTEMPTS};
use crate::storage::now_ms;
use crate::storage::refunds::Intent;

/// How long the worker sleeps when there is nothing to claim (a submit wakes it at once).
const IDLE_POLL: Duration = Duration::from_millis(250);
/// How often claims of dead holders are looked for.
const RECOVERY_EVERY: Duration = Duration::from_secs(1);

/// Runs until `stop` turns true, then claims nothing more and returns once the items it has
/// in flight are finished: a graceful stop leaves no refund `unknown`.
pub fn spawn(
    state: Weak<AppState>,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let owner = format!("worker-{}", ulid::Ulid::new());
        let mut in_flight: HashMap<String, Arc<AtomicUsize>> = HashMap::new();
        let mut last_recovery: Option<tokio::time::Instant> = None;
        loop {
            if *stop.borrow() {
                drain(&in_flight).await;
                break;
            }
            let Some(state) = state.upgrade() else { break };
            if last_recovery.is_none_or(|t| t.elapsed() >= RECOVERY_EVERY) {
                last_recovery = Some(tokio::time::Instant::now());
                if let Err(e) = state.storage.recover_items().await {
                    tracing::warn!(error = %e, "batch recovery failed; will try again");
                }
            }
            let mut claimed_any = false;
            for instance in state
                .instances
                .iter()
                .filter(|i| i.provider.capabilities().create)
            {
                let counter = in_flight
                    .entry(instance.name.to_string())
                    .or_default()
                    .clone();
                while counter.load(Ordering::SeqCst) < state.batches.concurrency {
                    match claim(&state, instance, &owner).await {
                        Ok(Some(item)) => {
                            claimed_any = true;
                            counter.fetch_add(1, Ordering::SeqCst);
                            let (state, counter) = (state.clone(), counter.clone());
                            let name = instance.name.to_string();
                            tokio::spawn(async move {
                                if let Some(instance) = state.instances.get(&name) {
                                    work(&state, instance, item).await;
                                }
                                counter.fetch_sub(1, Ordering::SeqCst);
                                state.batch_work.notify_one();
                            });
                        }
                        Ok(None) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, instance = %instance.name, "cannot claim batch items");
                            break;
                        }
                    }
                }
            }
            let wake = state.batch_work.clone();
            drop(state);
            if !claimed_any {
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = stop.changed() => {}
                    _ = tokio::time::sleep(IDLE_POLL) => {}
                }
            }
        }
    })
}

/// Waits for the items in flight to finish.
async fn drain(in_flight: &HashMap<String, Arc<AtomicUsize>>) {
    let busy = || {
        in_flight
            .values()
            .map(|c| c.load(Ordering::SeqCst))
            .sum::<usize>()
    };
    if busy() > 0 {
        tracing::info!(
            items = busy(),
            "finishing the batch items in flight before stopping"
        );
    }
    while busy() > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A claim's lease: longer than the item can take (queue wait, then the vendor call).
fn lease(state: &AppState, instance: &Instance) -> Duration {
    instance.traffic.limit.max_wait() * 2 + instance.timeout * 2 + state.batches.lease_margin
}

async fn claim(
    state: &AppState,
    instance: &Instance,
    owner: &str,
) -> Result<Option<ClaimedItem>, crate::storage::StorageError> {
    let provider = instance.name.to_string();
    let intent = |refund_id: &str, batch_id: &str, client: &str, body: &str| {
        let body: CreateRefundBody = serde_json::from_str(body).ok()?;
        let request = body.into_request(instance.provider.capabilities()).ok()?;
        Some(Intent {
            id: refund_id.to_string(),
            client: client.to_string(),
            provider: provider.clone(),
            provider_kind: instance.kind.to_string(),
            target: request.target,
            amount: request.amount,
            reason: request.reason,
            metadata: request.metadata,
            idempotency_key: None,
            request_hash: None,
            batch_id: Some(batch_id.to_string()),
            in_flight_until: 0,
        })
    };
    state
        .storage
        .claim_item(
            &provider,
            owner,
            lease(state, instance).as_millis() as i64,
            new_refund_id,
            intent,
        )
        .await
}

/// Why a failed item goes back in line instead of failing: nothing was applied, and trying
/// again later may work.
enum Again {
    /// Our own limiter or an open circuit held it back: not a try at all.
    HeldBack(Duration),
    /// The vendor failed transiently before applying anything (a read before the refund
    /// timed out, a 5xx on it): a try, counted against `MAX_ATTEMPTS`.
    Transient(Duration),
}

fn again(error: &ProviderError, attempts: i64) -> Option<Again> {
    if error.outcome != Outcome::NotApplied {
        return None;
    }
    let wait = error.retry_after.unwrap_or(Duration::from_secs(1));
    match error.kind {
        ErrorKind::RateLimited => Some(Again::HeldBack(wait)),
        ErrorKind::Unavailable if error.retry_after.is_some() => Some(Again::HeldBack(wait)),
        ErrorKind::Unavailable | ErrorKind::Timeout | ErrorKind::BadResponse
            if attempts + 1 < MAX_ATTEMPTS =>
        {
            Some(Again::Transient(
                wait * 2u32.pow(attempts.clamp(0, 8) as u32),
            ))
        }
        _ => None,
    }
}

async fn work(state: &AppState, instance: &Instance, item: ClaimedItem) {
    let storage = &state.storage;
    let request = serde_json::from_str::<CreateRefundBody>(&item.body)
        .map_err(|e| ProviderError::invalid("", format!("the stored item no longer reads: {e}")))
        .and_then(|body| {
            body.into_request(instance.provider.capabilities())
                .map_err(|e| ProviderError::invalid("", e.to_string()))
        });
    let result = match request {
        Ok(mut request) => {
            request.gateway_reference = Some(item.refund_id.clone());
            let result = instance.provider.create(&request).await;
            state
                .lookups
                .invalidate_target(&instance.name, &request.target);
            result
        }
        Err(e) => Err(e),
    };
    if let Some(again) = result.as_ref().err().and_then(|e| again(e, item.attempts)) {
        let (wait, counted) = match again {
            Again::HeldBack(wait) => (wait, false),
            Again::Transient(wait) => (wait, true),
        };
        let not_before = now_ms() + wait.as_millis() as i64;
        if let Err(e) = storage
            .requeue_item(
                &item.batch_id,
                item.seq,
                &item.refund_id,
                not_before,
                counted,
            )
            .await
        {
            tracing::warn!(error = %e, "could not put a batch item back in line");
        }
        return;
    }
    let (settlement, _) = settlement_of(&result);
    if let Err(e) = storage.settle(&item.refund_id, &settlement).await {
        // The claim's lease runs out; recovery makes the refund unknown: never lost.
        tracing::error!(error = %e, refund = %item.refund_id, "could not record a batch item's outcome");
        return;
    }
    if let Err(e) = storage.finish_item(&item.batch_id, item.seq).await {
        tracing::error!(error = %e, batch = %item.batch_id, seq = item.seq, "could not finish a batch item");
    }
}
