//! Batch rows and their items. Items are claimed by compare-and-set on their state (so any
//! number of gateway instances can share the queue on either backend) and the claim and
//! the item's intent row commit together: an item is never at the vendor without a ledger
//! row, and a claim whose holder died is recovered when its lease runs out.

use sqlx::Row;

use super::events::{self, EventType};
use super::refunds::Intent;
use super::{now_ms, Storage, StorageError};
use crate::storage::observe::LedgerOp;

/// How many times an item may be tried when earlier tries are proven not applied.
pub const MAX_ATTEMPTS: i64 = 3;
/// Rows per multi-row insert: well under SQLite's bound-parameter limit.
const INSERT_CHUNK: usize = 500;

pub struct NewItem {
    pub provider: String,
    /// The item's canonical create body, as JSON.
    pub body: String,
}

#[derive(Debug, Clone)]
pub struct BatchRow {
    pub id: String,
    /// The client that submitted it.
    pub client: String,
    pub status: String,
    pub item_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An item this gateway now works on; its intent row exists.
#[derive(Debug, Clone)]
pub struct ClaimedItem {
    pub batch_id: String,
    /// The client that submitted the batch.
    pub client: String,
    pub seq: i64,
    pub body: String,
    pub refund_id: String,
    /// Tries already counted against `MAX_ATTEMPTS`.
    pub attempts: i64,
}

/// One item as reports see it: its state and its current refund's status and amount.
#[derive(Debug, Clone)]
pub struct ItemView {
    pub seq: i64,
    pub provider: String,
    pub body: String,
    pub state: String,
    pub refund_id: Option<String>,
    pub refund_status: Option<String>,
    pub amount_value: Option<String>,
    pub amount_currency: Option<String>,
    pub attempts: i64,
    pub finished_at: Option<i64>,
    /// Why the item failed without a refund of its own (it could not be read or stored).
    pub failure: Option<String>,
}

const ITEM_VIEW: &str =
    "SELECT i.seq, i.provider, i.body, i.state, i.refund_id, i.attempts, i.finished_at, i.failure, \
    r.status AS refund_status, r.amount_value, r.amount_currency \
    FROM batch_items i LEFT JOIN refunds r ON r.id = i.refund_id";

fn item_view(row: &sqlx::any::AnyRow) -> Result<ItemView, StorageError> {
    Ok(ItemView {
        seq: row.try_get("seq")?,
        provider: row.try_get("provider")?,
        body: row.try_get("body")?,
        state: row.try_get("state")?,
        refund_id: row.try_get("refund_id")?,
        refund_status: row.try_get("refund_status")?,
        amount_value: row.try_get("amount_value")?,
        amount_currency: row.try_get("amount_currency")?,
        attempts: row.try_get("attempts")?,
        finished_at: row.try_get("finished_at")?,
        failure: row.try_get("failure")?,
    })
}

/// Writes `items` of batch `id`, numbered from `first_seq`, as multi-row INSERTs of
/// `INSERT_CHUNK` rows (a JSON batch whole, an upload chunk by chunk).
pub(super) async fn insert_items(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    first_seq: i64,
    items: &[NewItem],
) -> Result<(), StorageError> {
    for (chunk_index, chunk) in items.chunks(INSERT_CHUNK).enumerate() {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                format!(
                    "($1, ${}, ${}, ${}, 'queued', 0)",
                    2 + i * 3,
                    3 + i * 3,
                    4 + i * 3
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO batch_items (batch_id, seq, provider, body, state, attempts) VALUES {}",
            rows.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(id);
        for (i, item) in chunk.iter().enumerate() {
            query = query
                .bind(first_seq + (chunk_index * INSERT_CHUNK + i) as i64)
                .bind(&item.provider)
                .bind(&item.body);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

impl Storage {
    /// Stores a batch and all its items in one transaction.
    pub async fn insert_batch(
        &self,
        id: &str,
        client: &str,
        key: Option<&str>,
        items: &[NewItem],
    ) -> Result<(), StorageError> {
        let _timed = LedgerOp::InsertBatch.timed();
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO batches (id, client, idempotency_key, status, item_count, created_at, updated_at) \
             VALUES ($1, $2, $3, 'open', $4, $5, $5)",
        )
        .bind(id)
        .bind(client)
        .bind(key)
        .bind(items.len() as i64)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        insert_items(&mut tx, id, 0, items).await?;
        events::record_batch(&mut tx, &events::outbox(self), id, EventType::BatchAccepted).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn get_batch(&self, id: &str) -> Result<Option<BatchRow>, StorageError> {
        let _timed = LedgerOp::GetBatch.timed();
        let row = sqlx::query(
            // A batch still being uploaded (staging) is not there yet.
            "SELECT id, client, status, item_count, created_at, updated_at FROM batches WHERE id = $1 AND status <> 'staging'",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(BatchRow {
                id: r.try_get("id")?,
                client: r.try_get("client")?,
                status: r.try_get("status")?,
                item_count: r.try_get("item_count")?,
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
            })
        })
        .transpose()
    }

    /// Stops a batch: no queued item starts any more; items in flight finish.
    pub async fn cancel_batch(&self, id: &str) -> Result<bool, StorageError> {
        let _timed = LedgerOp::CancelBatch.timed();
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query("UPDATE batches SET status = 'canceled', updated_at = $1 WHERE id = $2 AND status = 'open'")
            .bind(now_ms())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE batch_items SET state = 'canceled', finished_at = $1 WHERE batch_id = $2 AND state = 'queued'")
            .bind(now_ms())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if changed.rows_affected() == 1 {
            events::record_batch(&mut tx, &events::outbox(self), id, EventType::BatchCanceled)
                .await?;
        }
        tx.commit().await?;
        Ok(changed.rows_affected() == 1)
    }

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

    /// A batch refund proven not applied gets a fresh try, within `MAX_ATTEMPTS`. Its item
    /// may still show the dead holder's claim (recovery had not run yet): that is taken back too.
    pub async fn retry_not_applied(&self, refund_id: &str) -> Result<bool, StorageError> {
        let _timed = LedgerOp::RetryNotApplied.timed();
        let result = sqlx::query(
            "UPDATE batch_items SET state = 'queued', refund_id = NULL, attempts = attempts + 1, finished_at = NULL, \
             lease_owner = NULL, lease_until = NULL \
             WHERE refund_id = $1 AND state IN ('done', 'claimed') AND attempts + 1 < $2 \
             AND batch_id IN (SELECT id FROM batches WHERE status <> 'canceled')",
        )
        .bind(refund_id)
        .bind(MAX_ATTEMPTS)
        .execute(&self.pool)
        .await?;
        if result.rows_affected() == 1 {
            sqlx::query("UPDATE batches SET status = 'open', updated_at = $1 WHERE status = 'done' AND id IN (SELECT batch_id FROM batch_items WHERE state = 'queued')")
                .bind(now_ms())
                .execute(&self.pool)
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
        Ok(())
    }

    /// A page of a batch's items after `after_seq`.
    pub async fn batch_items_page(
        &self,
        batch_id: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<ItemView>, StorageError> {
        let _timed = LedgerOp::BatchItemsPage.timed();
        let rows = sqlx::query(&format!(
            "{ITEM_VIEW} WHERE i.batch_id = $1 AND i.seq > $2 ORDER BY i.seq LIMIT $3"
        ))
        .bind(batch_id)
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(item_view).collect()
    }
}
