//! Changes found at the vendor: refunds not final there are polled on a backoff schedule
//! until final or `[events] follow_for` after they were first seen, and every status change
//! becomes an event, so a client learns of vendor-side progress without asking. Two kinds:
//! ledger refunds the vendor answered `pending`, settled through the one settle point; and
//! vendor refunds a client looked up while not final (Paylogic's `requested`: Paylogic is
//! lookup-only here), whose changes are events for that client. Polls are lookups through
//! the lookup cache, so they count against the instance's lookup share of its outbound
//! pace and leave room for creates; each pass polls at most `follow_batch` of each kind.

use std::sync::Weak;
use std::time::Duration;

use refund_provider::{RefundStatus, VendorRef};

use super::{Client, Refunds};
use crate::backoff;
use crate::instances::Instance;
use crate::storage::follows::Followed;
use crate::storage::now_ms;
use crate::storage::refunds::{status_str, LedgerRow, Settle, Settlement};
use crate::traffic::lookup_cache::Listing;

/// How long a claimed poll is held before another gateway may take it.
const POLL_LEASE_MS: i64 = 60_000;

/// The vendor refunds this gateway started following lately, so repeated lookups of one
/// (cache hits included) do not each write to the ledger.
pub struct Recent(moka::sync::Cache<(String, String), ()>);

impl Default for Recent {
    fn default() -> Self {
        Recent(
            moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(600))
                .build(),
        )
    }
}

impl Refunds {
    /// The wait before the next poll, after `attempts` polls.
    fn next_poll(&self, attempts: i64) -> i64 {
        let attempt = u32::try_from(attempts.max(0)).unwrap_or(u32::MAX);
        now_ms()
            + backoff::delay(attempt, self.events.follow_first, self.events.follow_max)
                .max(Duration::from_millis(100))
                .as_millis() as i64
    }

    /// Follows a vendor refund `client` just looked up, if it is not final and not one of
    /// the ledger's (those are followed as ledger rows). A failure only costs the following.
    pub(crate) async fn follow_if_open(
        &self,
        client: &Client,
        instance: &Instance,
        listing: &Listing,
    ) {
        let Some(refund) = listing.refunds.first() else {
            return;
        };
        let ours = listing.ledger_ids.first().is_some_and(Option::is_some);
        if ours || refund.status.is_final() || refund.vendor_reference.as_str().is_empty() {
            return;
        }
        let key = (client.name().to_string(), refund.id.to_string());
        if self.recently_followed.0.contains_key(&key) {
            return;
        }
        let now = now_ms();
        let followed = self
            .storage
            .follow_vendor_refund(&Followed {
                client: client.name().to_string(),
                refund_id: refund.id.to_string(),
                provider: instance.name.as_str().to_string(),
                vendor_reference: refund.vendor_reference.as_str().to_string(),
                status: status_str(refund.status).to_string(),
                attempts: 0,
                next_poll_at: self.next_poll(0),
                until_at: now + self.events.follow_for.as_millis() as i64,
            })
            .await;
        match followed {
            Ok(()) => self.recently_followed.0.insert(key, ()),
            Err(e) => {
                tracing::warn!(error = %e, refund = %refund.id, "a refund not final at the vendor could not be followed")
            }
        }
    }

    /// Polls one followed vendor refund.
    async fn poll_followed(&self, followed: Followed) {
        let Some(instance) = self.instances.get(&followed.provider) else {
            let _ = self.storage.followed_unanswered(&followed, i64::MAX).await;
            return;
        };
        let reference = VendorRef::new(followed.vendor_reference.clone());
        let saved = match self.lookups.get(instance, &reference, true).await {
            Ok((mut fresh, _)) => {
                fresh.raw = None;
                let status = fresh.status;
                let data = serde_json::to_value(&fresh).unwrap_or_default();
                self.storage
                    .followed_seen(
                        &followed,
                        status,
                        data,
                        self.next_poll(followed.attempts + 1),
                    )
                    .await
            }
            Err(e) => {
                tracing::info!(refund = %followed.refund_id, error = %e.message, "a followed refund could not be looked up; will try again");
                self.storage
                    .followed_unanswered(&followed, self.next_poll(followed.attempts + 1))
                    .await
            }
        };
        if let Err(e) = saved {
            tracing::warn!(error = %e, "a followed refund's poll could not be recorded");
        }
    }

    /// Polls one ledger refund the vendor answered `pending`: a changed status is settled
    /// (and so becomes an event); an unchanged one is polled again later.
    async fn poll_pending(&self, row: LedgerRow) {
        let instance = self.instances.get(&row.provider);
        let reference = row.vendor_reference.clone().map(VendorRef::new);
        let (Some(instance), Some(reference)) = (instance, reference) else {
            let _ = self.storage.defer_pending_poll(&row.id, i64::MAX).await;
            return;
        };
        if !instance.provider.capabilities().get {
            let _ = self.storage.defer_pending_poll(&row.id, i64::MAX).await;
            return;
        }
        let result = match self.lookups.get(instance, &reference, true).await {
            Ok((fresh, _)) if fresh.status != RefundStatus::Pending => self
                .storage
                .settle(Settle::Refund(&row.id), &Settlement::from_vendor(fresh))
                .await
                .map(|_| ()),
            Ok((fresh, _)) => {
                let _ = self.storage.refresh_snapshot(&row.id, &fresh).await;
                self.storage
                    .defer_pending_poll(&row.id, self.next_poll(row.settle_attempts + 1))
                    .await
            }
            Err(_) => {
                self.storage
                    .defer_pending_poll(&row.id, self.next_poll(row.settle_attempts + 1))
                    .await
            }
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, refund = %row.id, "a pending refund's poll could not be recorded");
        }
    }

    /// One pass: polls what is due, of both kinds.
    pub async fn follow_once(&self) -> Result<(), crate::storage::StorageError> {
        let batch = i64::from(self.events.follow_batch);
        for followed in self.storage.claim_followed(POLL_LEASE_MS, batch).await? {
            self.poll_followed(followed).await;
        }
        let since = now_ms() - self.events.follow_for.as_millis() as i64;
        for row in self
            .storage
            .claim_pending_at_vendor(since, POLL_LEASE_MS, batch)
            .await?
        {
            self.poll_pending(row).await;
        }
        Ok(())
    }
}

/// Polls refunds not final at their vendor every `[events] follow_interval`, until the
/// service is dropped.
pub fn spawn(state: Weak<Refunds>, every: Duration) -> tokio::task::JoinHandle<()> {
    let now = tokio::time::Instant::now();
    super::periodic::every(state, now, every, |state| async move {
        if let Err(e) = state.follow_once().await {
            tracing::warn!(error = %e, "following refunds at their vendors failed; will try again");
        }
    })
}
