//! Batch items as a work queue shared by every gateway: claimed by compare-and-set on their
//! state (the claim and the item's intent row commit together), finished, failed or put
//! back in line, recovered when their holder's lease ran out, and the batch closed when its
//! last item is done.

use sqlx::Row;

use super::{ClaimedItem, MAX_ATTEMPTS};
use crate::storage::events::{self, EventType};
use crate::storage::observe::LedgerOp;
use crate::storage::refunds::Intent;
use crate::storage::{now_ms, Storage, StorageError};

impl Storage {
    /// Claims the next queued item of `provider` (oldest batch first: batch ids are
    /// time-ordered, so the queue index gives the order without sorting a 100,000-item
    /// batch on every claim; items in order) and
    /// writes its intent in the same transaction. `intent` builds the intent row from the
    /// item's refund id, batch id, client and body.
    pub async fn claim_item(
        &self,
        provider: &str,
        owner: &str,
        lease_ms: i64,
        new_refund_id: impl Fn() -> String,
        intent: impl Fn(&str, &str, &str, &str) -> Option<Intent>,
    ) -> Result<Option<ClaimedItem>, StorageError> {
        let _timed = LedgerOp::ClaimItem.timed();
        for _ in 0..8 {
            let now = now_ms();
            let Some(candidate) = sqlx::query(
                "SELECT i.batch_id, i.seq, i.body, i.refund_id, i.attempts, b.client FROM batch_items i JOIN batches b ON b.id = i.batch_id \
                 WHERE i.state = 'queued' AND i.provider = $1 AND b.status = 'open' \
                 AND (i.not_before IS NULL OR i.not_before <= $2) \
                 ORDER BY i.batch_id, i.seq LIMIT 1",
            )
            .bind(provider)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?
            else {
                return Ok(None);
            };
            let batch_id: String = candidate.try_get("batch_id")?;
            let seq: i64 = candidate.try_get("seq")?;
            let body: String = candidate.try_get("body")?;
            let client: String = candidate.try_get("client")?;
            let attempts: i64 = candidate.try_get("attempts")?;
            let existing: Option<String> = candidate.try_get("refund_id")?;
            let refund_id = existing.clone().unwrap_or_else(&new_refund_id);
            let new_intent = match &existing {
                Some(_) => None,
                None => match intent(&refund_id, &batch_id, &client, &body) {
                    Some(intent) => Some(intent),
                    None => {
                        self.fail_item(
                            &batch_id,
                            seq,
                            "the stored item no longer reads as a refund",
                        )
                        .await?;
                        continue;
                    }
                },
            };
            let mut tx = self.pool.begin().await?;
            let claimed = sqlx::query(
                "UPDATE batch_items SET state = 'claimed', refund_id = $1, lease_owner = $2, lease_until = $3 \
                 WHERE batch_id = $4 AND seq = $5 AND state = 'queued'",
            )
            .bind(&refund_id)
            .bind(owner)
            .bind(now + lease_ms)
            .bind(&batch_id)
            .bind(seq)
            .execute(&mut *tx)
            .await?;
            if claimed.rows_affected() != 1 {
                tx.rollback().await?;
                continue; // another worker took it: try the next one
            }
            if existing.is_some() {
                // A retry after our own limiter said wait: the intent exists, still pending.
                sqlx::query(
                    "UPDATE refunds SET in_flight_until = $1 WHERE id = $2 AND status = 'pending'",
                )
                .bind(now + lease_ms)
                .bind(&refund_id)
                .execute(&mut *tx)
                .await?;
            } else if let Some(mut intent) = new_intent {
                intent.in_flight_until = now + lease_ms;
                match self.insert_intent_in(&mut tx, &intent).await {
                    Ok(()) => {}
                    // The database refused this item's row (e.g. a NUL byte PostgreSQL
                    // cannot store): the item fails with the reason and the queue moves on,
                    // instead of every claim of the instance failing on it.
                    Err(StorageError::Unavailable(sqlx::Error::Database(refused))) => {
                        tx.rollback().await?;
                        self.fail_item(
                            &batch_id,
                            seq,
                            &format!("the ledger cannot store this item: {}", refused.message()),
                        )
                        .await?;
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            tx.commit().await?;
            self.deliveries_committed();
            return Ok(Some(ClaimedItem {
                batch_id,
                client,
                seq,
                body,
                refund_id,
                attempts,
            }));
        }
        Ok(None)
    }

    /// The item failed without a refund of its own, for `reason`; nothing was sent.
    pub async fn fail_item(
        &self,
        batch_id: &str,
        seq: i64,
        reason: &str,
    ) -> Result<(), StorageError> {
        let _timed = LedgerOp::FailItem.timed();
        tracing::warn!(batch = %batch_id, seq, reason, "batch item failed before any vendor call");
        self.item_done(batch_id, seq, Some(reason)).await
    }

    /// The item is done: its refund's status is its outcome.
    pub async fn finish_item(&self, batch_id: &str, seq: i64) -> Result<(), StorageError> {
        let _timed = LedgerOp::FinishItem.timed();
        self.item_done(batch_id, seq, None).await
    }

    /// Marks an item done, with the failure that ended it before any refund (a queued or
    /// claimed item), or with its refund's outcome (a claimed item only: one put back in
    /// line meanwhile is not done).
    async fn item_done(
        &self,
        batch_id: &str,
        seq: i64,
        failure: Option<&str>,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "UPDATE batch_items SET state = 'done', failure = $1, finished_at = $2, lease_owner = NULL, \
             lease_until = NULL WHERE batch_id = $3 AND seq = $4 \
             AND (state = 'claimed' OR ($1 IS NOT NULL AND state = 'queued'))",
        )
        .bind(failure)
        .bind(now_ms())
        .bind(batch_id)
        .bind(seq)
        .execute(&self.pool)
        .await?;
        self.note_batch_progress(batch_id).await?;
        self.close_batch_if_done(batch_id).await
    }

    /// Puts an item back in line (our own limiter or open circuit refused it: nothing was sent).
    /// `counted`: the try counts against `MAX_ATTEMPTS` (the vendor failed); our own limiter
    /// holding the item back does not.
    pub async fn requeue_item(
        &self,
        batch_id: &str,
        seq: i64,
        refund_id: &str,
        not_before: i64,
        counted: bool,
    ) -> Result<(), StorageError> {
        let _timed = LedgerOp::RequeueItem.timed();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE batch_items SET state = 'queued', not_before = $1, lease_owner = NULL, lease_until = NULL, \
             attempts = attempts + $4 WHERE batch_id = $2 AND seq = $3 AND state = 'claimed'",
        )
        .bind(not_before)
        .bind(batch_id)
        .bind(seq)
        .bind(i64::from(counted))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE refunds SET in_flight_until = NULL WHERE id = $1 AND status = 'pending'",
        )
        .bind(refund_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Items whose holder's lease ran out: their intent exists, so the vendor may have
    /// been called. The item is done; its refund (now `unknown`) goes to the reconciler.
    pub async fn recover_items(&self) -> Result<u64, StorageError> {
        let _timed = LedgerOp::RecoverItems.timed();
        let result = sqlx::query(
            "UPDATE batch_items SET state = 'done', finished_at = $1, lease_owner = NULL, lease_until = NULL \
             WHERE state = 'claimed' AND lease_until < $1",
        )
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        if result.rows_affected() > 0 {
            let open: Vec<String> =
                sqlx::query_scalar("SELECT id FROM batches WHERE status = 'open'")
                    .fetch_all(&self.pool)
                    .await?;
            for batch_id in open {
                self.close_batch_if_done(&batch_id).await?;
            }
        }
        Ok(result.rows_affected())
    }

    /// A batch refund proven not applied gets a fresh try, within `MAX_ATTEMPTS`, in the
    /// transaction that settles it (`Settle::NotAppliedBatchRefund`). Its item may still
    /// show the dead holder's claim (recovery had not run yet): that is taken back too.
    pub(crate) async fn retry_not_applied_in(
        conn: &mut sqlx::AnyConnection,
        refund_id: &str,
    ) -> Result<bool, StorageError> {
        let result = sqlx::query(
            "UPDATE batch_items SET state = 'queued', refund_id = NULL, attempts = attempts + 1, finished_at = NULL, \
             lease_owner = NULL, lease_until = NULL \
             WHERE refund_id = $1 AND state IN ('done', 'claimed') AND attempts + 1 < $2 \
             AND batch_id IN (SELECT id FROM batches WHERE status <> 'canceled')",
        )
        .bind(refund_id)
        .bind(MAX_ATTEMPTS)
        .execute(&mut *conn)
        .await?;
        if result.rows_affected() == 1 {
            sqlx::query("UPDATE batches SET status = 'open', updated_at = $1 WHERE status = 'done' AND id IN (SELECT batch_id FROM batch_items WHERE state = 'queued')")
                .bind(now_ms())
                .execute(&mut *conn)
                .await?;
        }
        Ok(result.rows_affected() == 1)
    }

    async fn close_batch_if_done(&self, batch_id: &str) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
        let closed = sqlx::query(
            "UPDATE batches SET status = 'done', updated_at = $1 WHERE id = $2 AND status = 'open' \
             AND NOT EXISTS (SELECT 1 FROM batch_items WHERE batch_id = $2 AND state IN ('queued', 'claimed'))",
        )
        .bind(now_ms())
        .bind(batch_id)
        .execute(&mut *tx)
        .await?;
        if closed.rows_affected() == 1 {
            events::record_batch(
                &mut tx,
                &events::outbox(self),
                batch_id,
                EventType::BatchCompleted,
            )
            .await?;
        }
        tx.commit().await?;
        self.deliveries_committed();
        Ok(())
    }
}
