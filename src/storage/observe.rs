//! The ledger's metrics, recorded where the ledger is written: how long each ledger
//! operation takes (`refund_gateway_ledger_query_duration_seconds`, by `op`: one of
//! `LedgerOp`, a fixed set) and every refund status change
//! (`refund_gateway_refunds_settled_total`, by instance and new status), counted at the one
//! settle point so no path that settles a refund goes uncounted.
//!
//! Every public `Storage` operation starts with `LedgerOp::<Name>.timed()`: one guard that
//! records the operation's whole time (its queries, transaction and commit; failures too)
//! when the operation ends, on SQLite and PostgreSQL alike, with no timing code among the
//! queries themselves.

use std::time::Instant;

/// A ledger operation: the `op` label of its duration. One per public `Storage` method
/// (named after it), so the label set is fixed by the code, never by data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumIter, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum LedgerOp {
    StageBatch,
    StageItems,
    OpenStaged,
    DropStaged,
    ListBatches,
    BatchTally,
    FinishedSince,
    BatchFailures,
    ExportPage,
    InsertBatch,
    GetBatch,
    CancelBatch,
    ClaimItem,
    FailItem,
    FinishItem,
    RequeueItem,
    RecoverItems,
    BatchItemsPage,
    ClaimDeliveries,
    RecordAttempt,
    DisabledEndpoints,
    GetDelivery,
    ListDeliveries,
    Redeliver,
    ListEvents,
    GetEvent,
    PurgeEvents,
    NoteBatchProgress,
    FollowVendorRefund,
    ClaimFollowed,
    FollowedSeen,
    FollowedUnanswered,
    FollowedBy,
    ClaimPendingAtVendor,
    DeferPendingPoll,
    RegisterGateway,
    Heartbeat,
    EndGateway,
    EndSilentGateways,
    GatewayEnded,
    ClaimKey,
    FinishKey,
    ReleaseKey,
    PurgeKeys,
    InsertIntent,
    Settle,
    RefreshSnapshot,
    GetRefund,
    ListRefunds,
    DueUnknowns,
    DeferSettle,
    IdsByVendorReference,
    ClaimedVendorReferences,
    UnknownOpen,
    Ready,
}

use LedgerOp::*;

impl LedgerOp {
    /// Every operation (for tests and the dashboard's documentation).
    pub fn iter() -> impl Iterator<Item = LedgerOp> {
        <Self as strum::IntoEnumIterator>::iter()
    }

    /// The `op` label.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Times the operation until the returned guard is dropped (the operation's end, by
    /// return or by `?`).
    pub fn timed(self) -> Timed {
        Timed {
            op: self,
            started: Instant::now(),
        }
    }
}

/// Records its operation's duration when dropped.
pub struct Timed {
    op: LedgerOp,
    started: Instant,
}

impl Drop for Timed {
    fn drop(&mut self) {
        metrics::histogram!("refund_gateway_ledger_query_duration_seconds", "op" => self.op.as_str())
            .record(self.started.elapsed().as_secs_f64());
    }
}

/// Counts one refund settled to `status` (instance names are the config's: bounded).
pub fn settled(instance: &str, status: &'static str) {
    metrics::counter!(
        "refund_gateway_refunds_settled_total",
        "instance" => instance.to_string(),
        "status" => status,
    )
    .increment(1);
}

impl super::Storage {
    /// Refunds whose outcome is unknown now, by instance (for the open-unknowns gauge).
    pub async fn unknown_open(
        &self,
    ) -> Result<std::collections::HashMap<String, i64>, super::StorageError> {
        use sqlx::Row;
        let _timed = UnknownOpen.timed();
        let rows = sqlx::query(
            "SELECT provider, COUNT(*) AS open FROM refunds WHERE status = 'unknown' GROUP BY provider",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("provider")?, row.try_get("open")?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_its_own_label() {
        let mut labels: Vec<&str> = LedgerOp::iter().map(|op| op.as_str()).collect();
        labels.sort();
        labels.dedup();
        assert_eq!(labels.len(), LedgerOp::iter().count());
    }
}
