//! The delivery worker, one per gateway: claims due deliveries endpoint by endpoint (up to
//! `webhook_concurrency` in flight per endpoint, so a slow receiver holds only its own
//! slots), sends each in its own task and records the outcome. Refunds never wait on it:
//! events are written by the ledger and sent from here.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};

use super::sender::{self, Outcome};
use super::Endpoint;
use crate::config::EventsConfig;
use crate::service::events::Event;
use crate::storage::deliveries::Attempt;
use crate::storage::{now_ms, Storage};

pub struct Worker {
    pub storage: Storage,
    pub endpoints: Vec<Arc<Endpoint>>,
    pub config: EventsConfig,
    /// This gateway, as leases name it.
    pub owner: String,
    pub wake: Arc<Notify>,
}

impl Worker {
    /// Runs until the task is aborted.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.run())
    }

    async fn run(self) {
        if self.endpoints.is_empty() {
            return;
        }
        let http = sender::client(self.config.webhook_timeout);
        let slots: HashMap<String, Arc<Semaphore>> = self
            .endpoints
            .iter()
            .map(|e| {
                let permits = self.config.webhook_concurrency.max(1) as usize;
                (e.name.clone(), Arc::new(Semaphore::new(permits)))
            })
            .collect();
        // A lease outlives the request it covers: the timeout and a margin.
        let lease_ms = (self.config.webhook_timeout + Duration::from_secs(5)).as_millis() as i64;
        loop {
            for endpoint in &self.endpoints {
                let slot = &slots[&endpoint.name];
                let free = slot.available_permits() as i64;
                if free == 0 {
                    continue;
                }
                let claimed = match self
                    .storage
                    .claim_deliveries(
                        &self.owner,
                        lease_ms,
                        std::slice::from_ref(&endpoint.name),
                        free,
                    )
                    .await
                {
                    Ok(claimed) => claimed,
                    Err(e) => {
                        tracing::warn!(error = %e, "webhook deliveries could not be claimed");
                        break;
                    }
                };
                for claim in claimed {
                    let Ok(permit) = slot.clone().try_acquire_owned() else {
                        break; // leases run out; another pass takes them
                    };
                    let storage = self.storage.clone();
                    let endpoint = endpoint.clone();
                    let http = http.clone();
                    let owner = self.owner.clone();
                    let config = self.config.clone();
                    let wake = self.wake.clone();
                    tokio::spawn(async move {
                        let attempts = claim.delivery.attempts;
                        let event = Event::of(claim.event);
                        let outcome = sender::send(&http, &endpoint, &event).await;
                        let attempt = attempt_of(outcome, attempts, &config);
                        if let Attempt::Retry { error, .. } = &attempt {
                            tracing::info!(endpoint = %endpoint.name, delivery = %claim.delivery.id, %error, "webhook delivery will be retried");
                        }
                        if let Err(e) = storage
                            .record_attempt(&claim.delivery.id, &owner, &attempt)
                            .await
                        {
                            tracing::warn!(error = %e, "a webhook attempt could not be recorded; its lease will run out and it is sent again");
                        }
                        drop(permit);
                        // The next event of the same refund may be due now.
                        wake.notify_one();
                    });
                }
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                // This process committed an event with deliveries: send it now. The poll
                // finds other gateways' events.
                _ = self.storage.deliveries_written.notified() => {}
                _ = tokio::time::sleep(self.config.webhook_poll) => {}
            }
        }
    }
}

/// The attempt to record for `outcome`, after `attempts` earlier ones.
fn attempt_of(outcome: Outcome, attempts: i64, config: &EventsConfig) -> Attempt {
    match outcome {
        Outcome::Accepted(status) => Attempt::Delivered { status },
        Outcome::Gone(status) => Attempt::Gone { status },
        Outcome::Refused { status, error } => {
            let wait = crate::backoff::delay(
                attempts.clamp(0, 31) as u32,
                config.webhook_retry_first,
                config.webhook_retry_max,
            );
            Attempt::Retry {
                status,
                error,
                next_at: now_ms() + wait.as_millis() as i64,
            }
        }
    }
}
