//! Batch rows and their items. Items are claimed by compare-and-set on their state (so any
//! number of gateway instances can share the queue on either backend) and the claim and
//! the item's intent row commit together: an item is never at the vendor without a ledger
//! row, and a claim whose holder died is recovered when its lease runs out.
//!
//! This file holds the rows and the batch itself (insert, read, cancel, its items' page);
//! `queue.rs` works the items.

use sqlx::Row;

use super::events::{self, EventType};
use super::{now_ms, Storage, StorageError};
use crate::storage::observe::LedgerOp;

mod queue;

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
        self.deliveries_committed();
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
        self.deliveries_committed();
        Ok(changed.rows_affected() == 1)
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
