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

use super::create::{NewRefund, Origin};
use super::{new_refund_id, Client, Refunds, ServiceError};
use crate::instances::Instance;
use crate::storage::batches::ClaimedItem;
use crate::storage::now_ms;
use crate::storage::refunds::{Intent, Settle, Settlement};
use refund_provider::RefundStatus;

/// How long the worker sleeps when there is nothing to claim (a submit wakes it at once).
const IDLE_POLL: Duration = Duration::from_millis(250);
/// How often claims of dead holders are looked for.
const RECOVERY_EVERY: Duration = Duration::from_secs(1);

/// Runs until `stop` turns true, then claims nothing more and returns once the items it has
/// in flight are finished: a graceful stop leaves no refund `unknown`.
pub fn spawn(state: Weak<Refunds>, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
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
                            let slot = Slot::take(
                                counter.clone(),
                                instance.name.to_string(),
                                state.batch_work.clone(),
                            );
                            let state = state.clone();
                            tokio::spawn(async move {
                                let _slot = slot;
                                work(&state, item).await;
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

/// One item in flight on an instance: counted from its claim until its task ends, however
/// it ends (a panic included), so an item that fails can never keep its instance's slot.
struct Slot {
    counter: Arc<AtomicUsize>,
    instance: String,
    wake: Arc<tokio::sync::Notify>,
}

impl Slot {
    fn take(counter: Arc<AtomicUsize>, instance: String, wake: Arc<tokio::sync::Notify>) -> Slot {
        counter.fetch_add(1, Ordering::SeqCst);
        in_flight_metric(&instance, &counter);
        Slot {
            counter,
            instance,
            wake,
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::SeqCst);
        in_flight_metric(&self.instance, &self.counter);
        self.wake.notify_one();
    }
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
fn lease(state: &Refunds, instance: &Instance) -> Duration {
    instance.traffic.limit.max_wait() * 2 + instance.timeout * 2 + state.batches.lease_margin
}

async fn claim(
    state: &Refunds,
    instance: &Instance,
    owner: &str,
) -> Result<Option<ClaimedItem>, crate::storage::StorageError> {
    let provider = instance.name.to_string();
    let intent = |refund_id: &str, batch_id: &str, client: &str, body: &str| {
        let new: NewRefund = serde_json::from_str(body).ok()?;
        Some(Intent {
            id: refund_id.to_string(),
            client: client.to_string(),
            provider: provider.clone(),
            provider_kind: instance.kind.to_string(),
            target: new.request.target,
            amount: new.request.amount,
            reason: new.request.reason,
            metadata: new.request.metadata,
            idempotency_key: None,
            request_hash: None,
            batch_id: Some(batch_id.to_string()),
            in_flight_until: 0,
            owner: Some(state.gateway_id.clone()),
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

/// Works one claimed item through the same create as `POST /v1/refunds`.
async fn work(state: &Refunds, item: ClaimedItem) {
    let storage = &state.storage;
    let client = Client::named(&item.client);
    let origin = Origin::BatchItem {
        id: item.refund_id.clone(),
        attempts: item.attempts,
    };
    let result = match serde_json::from_str::<NewRefund>(&item.body) {
        Ok(new) => match state.check(&client, new) {
            Ok(checked) => state.create(&client, checked, origin).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(ServiceError::invalid(
            "",
            format!("the stored item no longer reads: {e}"),
        )),
    };
    item_metric(&result);
    match result {
        Err(ServiceError::Deferred { wait, counted, .. }) => {
            let wait = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
            let not_before = now_ms().saturating_add(wait);
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
        // Refused before it was sent (the stored item no longer fits its provider): the
        // item fails with the reason, and the queue moves on.
        Err(
            e @ (ServiceError::Invalid { .. }
            | ServiceError::Provider(_)
            | ServiceError::UnknownProvider(_)
            | ServiceError::ProviderForbidden(_)),
        ) => {
            let failed = Settlement::because(RefundStatus::Failed, "not_applied", e.to_string());
            if let Err(e) = storage
                .settle(Settle::Refund(&item.refund_id), &failed)
                .await
            {
                tracing::error!(error = %e, refund = %item.refund_id, "could not record a batch item's failure");
                return;
            }
        }
        // Settled by `create` (or left to the lease and the reconciler when the ledger failed).
        Ok(_) | Err(ServiceError::CreateFailed(_)) => {}
        Err(e) => {
            // The claim's lease runs out; recovery makes the refund unknown: never lost.
            tracing::error!(error = %e, refund = %item.refund_id, "could not record a batch item's outcome");
            return;
        }
    }
    if let Err(e) = storage.finish_item(&item.batch_id, item.seq).await {
        tracing::error!(error = %e, batch = %item.batch_id, seq = item.seq, "could not finish a batch item");
    }
}

/// `refund_gateway_batch_items_in_flight`: items of an instance being worked now.
fn in_flight_metric(instance: &str, counter: &AtomicUsize) {
    metrics::gauge!("refund_gateway_batch_items_in_flight", "instance" => instance.to_string())
        .set(counter.load(Ordering::SeqCst) as f64);
}

/// `refund_gateway_batch_items_total`: what working an item came to: the refund's status
/// (`succeeded`, `failed`, `unknown`, `pending`...), `deferred` (back in line for the
/// outbound pace) or `refused` (no longer fits its provider).
fn item_metric(result: &Result<refund_provider::Refund, ServiceError>) {
    let state = match result {
        Ok(created) => crate::storage::refunds::status_str(created.status),
        Err(ServiceError::Deferred { .. }) => "deferred",
        Err(ServiceError::CreateFailed(_)) => "create_failed",
        Err(_) => "refused",
    };
    metrics::counter!("refund_gateway_batch_items_total", "state" => state).increment(1);
}
