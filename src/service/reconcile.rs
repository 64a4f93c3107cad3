//! Settling unknown outcomes by looking, never by resending. For each refund whose outcome
//! is unknown, the vendor's refunds of the same target are listed live and one is matched:
//! first by the gateway's own id where the vendor keeps free text with a refund (iVvy
//! notes), else by amount and a time window after the intent. A match settles the refund
//! with the vendor's status; no match after the instance's settle window settles it as
//! `failed` / `not_applied`; vendors that cannot be read leave it for an operator.

use std::time::Duration;

use refund_provider::chrono::{TimeZone, Utc};
use refund_provider::{Money, Refund, RefundStatus};

use super::create::interrupted;
use super::{Refunds, ServiceError};
use crate::backoff;
use crate::instances::Instance;
use crate::storage::now_ms;
use crate::storage::refunds::{LedgerRow, Settle, Settlement};

/// Vendor clocks and ours differ: a vendor refund may carry a time slightly before our intent.
const CLOCK_SKEW_MS: i64 = 120_000;
/// How long to wait before asking again: the one backoff rule, from this first wait up to the cap.
const FIRST_RETRY: Duration = Duration::from_secs(2);
const MAX_RETRY: Duration = Duration::from_secs(300);
/// A vendor that cannot be read is asked about again only this rarely (its row waits for an operator).
const UNREADABLE_RETRY_MS: i64 = 3_600_000;

fn backoff(attempts: i64) -> i64 {
    let attempt = u32::try_from(attempts.max(0)).unwrap_or(u32::MAX);
    backoff::delay(attempt, FIRST_RETRY, MAX_RETRY).as_millis() as i64
}

/// Tries once to settle an unknown refund; returns what the row became.
pub async fn settle(state: &Refunds, row: &LedgerRow) -> Result<(), ServiceError> {
    let storage = &state.storage;
    let defer = |detail: String, after: i64| async move {
        settlement_metric("deferred");
        storage
            .defer_settle(&row.id, now_ms() + after, &detail)
            .await
            .map_err(ServiceError::from)
    };
    let Some(instance) = state.instances.get(&row.provider) else {
        return defer(
            format!(
                "provider instance `{}` is no longer configured",
                row.provider
            ),
            UNREADABLE_RETRY_MS,
        )
        .await;
    };
    if !instance.provider.capabilities().list {
        return defer(
            format!(
                "{} cannot be read, so this outcome cannot be checked: an operator must settle it (POST /v1/refunds/{}/resolve)",
                instance.kind, row.id
            ),
            UNREADABLE_RETRY_MS,
        )
        .await;
    }
    let listing = state
        .lookups
        .list(instance, &row.target, true, |refunds| {
            state.ledger_ids(instance, super::reads::vendor_references(refunds))
        })
        .await;
    let vendor_refunds = match listing {
        Ok((listing, _)) => listing.refunds.clone(),
        Err(e) => {
            return defer(
                format!(
                    "the outcome is still unknown: the vendor lookup failed ({})",
                    e.message
                ),
                backoff(row.settle_attempts),
            )
            .await;
        }
    };
    let claimed = storage.claimed_vendor_references(&row.provider).await?;
    let unclaimed: Vec<&Refund> = vendor_refunds
        .iter()
        .filter(|r| !claimed.iter().any(|c| c == r.vendor_reference.as_str()))
        .collect();
    if let Some((found, how)) = find_match(row, instance, &unclaimed) {
        let (status, part) = settled_status(row.amount, found);
        let mut settlement = Settlement::because(
            status,
            "reconciled",
            format!("settled by a vendor lookup: found {how}{part}"),
        );
        settlement.refund = Some(found.clone());
        storage.settle(Settle::Refund(&row.id), &settlement).await?;
        settlement_metric("matched");
        return Ok(());
    }
    let window_ms = instance.settle_window.as_millis() as i64;
    if now_ms() >= row.created_at + window_ms {
        let settlement = Settlement::because(
            RefundStatus::Failed,
            "not_applied",
            format!(
                "the vendor shows no such refund {} s after the gateway took it: it was not applied",
                window_ms / 1000
            ),
        );
        // A batch item proven not applied is safe to try again (a new refund, a new id):
        // queued again in the transaction that settles it.
        let which = match row.batch_id {
            Some(_) => Settle::NotAppliedBatchRefund(&row.id),
            None => Settle::Refund(&row.id),
        };
        let settled = storage.settle(which, &settlement).await? == 1;
        settlement_metric("not_applied");
        if settled && row.batch_id.is_some() {
            state.batch_work.notify_one();
        }
        return Ok(());
    }
    let wait = backoff(row.settle_attempts)
        .min(row.created_at + window_ms - now_ms())
        .max(100);
    defer(
        "the outcome is still unknown: the vendor does not show it yet".into(),
        wait,
    )
    .await
}

/// The status a found vendor refund settles ours with: a refund the vendor applied for
/// less than was asked (iVvy's "could not be applied in full") is `partially_succeeded`,
/// never `succeeded`, and says how much of what was asked.
fn settled_status(asked: Option<Money>, found: &Refund) -> (RefundStatus, String) {
    match (found.status, asked, found.amount) {
        (RefundStatus::Succeeded, Some(asked), Some(applied))
            if applied.currency() == asked.currency() && applied.value() < asked.value() =>
        {
            (
                RefundStatus::PartiallySucceeded,
                format!("; {applied} of the {asked} asked was applied"),
            )
        }
        (status, _, _) => (status, String::new()),
    }
}

/// The vendor refund that is ours: by our id in its free text, else by amount and time.
fn find_match<'a>(
    row: &LedgerRow,
    instance: &Instance,
    candidates: &[&'a Refund],
) -> Option<(&'a Refund, String)> {
    let mentions_us = |r: &Refund| {
        r.reason.as_deref().is_some_and(|t| t.contains(&row.id))
            || r.notes.iter().any(|n| n.contains(&row.id))
            || r.vendor_refs.values().any(|v| v.contains(&row.id))
    };
    if let Some(found) = candidates.iter().find(|r| mentions_us(r)) {
        return Some((found, "by the gateway's id in the vendor's notes".into()));
    }
    let from = row.created_at - CLOCK_SKEW_MS;
    let until = row.created_at + instance.settle_window.as_millis() as i64 + CLOCK_SKEW_MS;
    let in_window = |r: &Refund| {
        r.created_at
            .map(|t| t.timestamp_millis())
            .is_some_and(|t| t >= from && t <= until)
    };
    let same_amount = |r: &Refund| match (&row.amount, &r.amount) {
        (Some(ours), Some(theirs)) => ours == theirs,
        (None, _) => true,
        (Some(_), None) => false,
    };
    candidates
        .iter()
        .filter(|r| same_amount(r) && in_window(r))
        .min_by_key(|r| r.created_at)
        .map(|found| {
            let at = Utc
                .timestamp_millis_opt(row.created_at)
                .single()
                .map(|t| t.to_rfc3339())
                .unwrap_or_default();
            (
                *found,
                format!(
                    "by amount and time (a matching refund within the settle window after {at})"
                ),
            )
        })
}

/// The background reconciler: marks interrupted intents unknown, settles what is due,
/// purges expired idempotency keys. Runs until the state is dropped.
pub fn spawn(
    state: std::sync::Weak<Refunds>,
    every: Duration,
    key_retention: Duration,
) -> tokio::task::JoinHandle<()> {
    // The first pass waits one interval: start-up already marked interrupted intents.
    let first = tokio::time::Instant::now() + every;
    super::periodic::every(state, first, every, move |state| async move {
        if let Err(e) = run_once(&state, key_retention).await {
            tracing::warn!(error = %e, "reconciler pass failed; will try again");
        }
    })
}

pub async fn run_once(state: &Refunds, key_retention: Duration) -> Result<(), ServiceError> {
    let storage = &state.storage;
    state.unwritten.write(storage).await;
    storage.end_silent_gateways().await?;
    let count = storage.settle(Settle::Interrupted, &interrupted()).await?;
    if count > 0 {
        tracing::warn!(count, "refunds interrupted mid-call are now unknown");
    }
    for row in storage.due_unknowns(50).await? {
        settle(state, &row).await?;
    }
    storage.purge_keys(key_retention.as_millis() as i64).await?;
    // `refund_gateway_unknown_outcomes_open`: every configured instance, 0 when none.
    let open = storage.unknown_open().await?;
    for instance in state.instances.iter() {
        let count = open.get(instance.name.as_str()).copied().unwrap_or(0);
        metrics::gauge!("refund_gateway_unknown_outcomes_open", "instance" => instance.name.to_string())
            .set(count as f64);
    }
    Ok(())
}

/// `refund_gateway_reconcile_settlements_total`: what a reconciler attempt came to
/// (`matched` a vendor refund, proven `not_applied`, or `deferred` to a later pass).
fn settlement_metric(result: &'static str) {
    metrics::counter!("refund_gateway_reconcile_settlements_total", "result" => result)
        .increment(1);
}

impl Refunds {
    /// `client`'s refund `id`, if it is not final yet.
    async fn open_row(&self, client: &super::Client, id: &str) -> Result<LedgerRow, ServiceError> {
        let row = self
            .own_row(client, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("the ledger has no refund `{id}`")))?;
        if row.status.is_final() {
            return Err(ServiceError::Final(format!(
                "refund `{id}` is already {}; final statuses never change",
                crate::storage::refunds::status_str(row.status)
            )));
        }
        Ok(row)
    }

    /// Settles an `unknown` refund now by a vendor lookup (still `unknown` if the vendor
    /// does not show it yet), and answers it as it then stands.
    pub async fn reconcile(
        &self,
        client: &super::Client,
        id: &str,
    ) -> Result<Refund, ServiceError> {
        let row = self.open_row(client, id).await?;
        if !client.may_use(&row.provider) {
            return Err(ServiceError::ProviderForbidden(row.provider));
        }
        if row.status == RefundStatus::Unknown {
            settle(self, &row).await?;
        }
        self.current(client, id).await
    }

    /// An operator settles a refund the vendor cannot be asked about, to a final status.
    pub async fn resolve(
        &self,
        client: &super::Client,
        id: &str,
        status: RefundStatus,
        note: String,
    ) -> Result<Refund, ServiceError> {
        if !status.is_final() {
            return Err(ServiceError::invalid(
                "/status",
                "resolve to a final status: succeeded, partially_succeeded, failed or canceled",
            ));
        }
        if note.trim().is_empty() || note.chars().count() > 1000 {
            return Err(ServiceError::invalid(
                "/note",
                "say how the outcome was established (1 to 1000 characters)",
            ));
        }
        self.open_row(client, id).await?;
        let mut settlement = Settlement::because(status, "resolved", "settled by an operator");
        settlement.resolution_note = Some(note);
        if self.storage.settle(Settle::Refund(id), &settlement).await? == 0 {
            return Err(ServiceError::Final(format!(
                "refund `{id}` became final meanwhile"
            )));
        }
        self.current(client, id).await
    }

    async fn current(&self, client: &super::Client, id: &str) -> Result<Refund, ServiceError> {
        self.own_row(client, id)
            .await?
            .map(|row| super::view::refund_of(&row))
            .ok_or_else(|| ServiceError::NotFound(format!("the ledger has no refund `{id}`")))
    }
}

#[cfg(test)]
mod tests {
    use refund_provider::{Currency, InstanceName, Target, VendorRef};

    use super::*;

    fn found(status: RefundStatus, amount: &str) -> Refund {
        let mut refund = Refund::new(
            &InstanceName::new("iv").unwrap(),
            "ivvy",
            VendorRef::new("r"),
            status,
            Target::default(),
        );
        refund.amount = Some(Money::parse(amount, Currency::EUR).unwrap());
        refund
    }

    #[test]
    fn less_applied_than_asked_is_a_partial_success() {
        let asked = Money::parse("60.00", Currency::EUR).ok();
        let (status, part) = settled_status(asked, &found(RefundStatus::Succeeded, "50.00"));
        assert_eq!(status, RefundStatus::PartiallySucceeded);
        assert!(part.contains("50.00 EUR of the 60.00 EUR asked"), "{part}");
        let (status, part) = settled_status(asked, &found(RefundStatus::Succeeded, "60.00"));
        assert_eq!((status, part.as_str()), (RefundStatus::Succeeded, ""));
        let (status, _) = settled_status(None, &found(RefundStatus::Succeeded, "10.00"));
        assert_eq!(
            status,
            RefundStatus::Succeeded,
            "no amount asked: the vendor's whole"
        );
        let (status, _) = settled_status(asked, &found(RefundStatus::Pending, "50.00"));
        assert_eq!(status, RefundStatus::Pending);
    }
}
