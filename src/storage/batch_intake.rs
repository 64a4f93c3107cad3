//! Staging an uploaded batch while it streams in. Items are written chunk by chunk under a
//! batch row whose status is `staging`: the worker claims only items of `open` batches, and
//! reads never show a staging batch, so nothing of an upload is visible or worked until it
//! has been checked whole. Then one statement opens it, or the staged rows are dropped.
//! Short transactions per chunk (rather than one held for the whole upload) keep a SQLite
//! ledger writable by the worker and other requests while a stadium-sized file arrives.

use super::batches::{insert_items, NewItem};
use super::events::{self, EventType};
use super::{now_ms, Storage, StorageError};
use crate::storage::observe::LedgerOp;

/// A staging batch not written to for this long belongs to an upload that died with its
/// gateway; the next upload drops it.
const ABANDONED_AFTER_MS: i64 = 15 * 60 * 1000;

impl Storage {
    /// Starts staging batch `id` (dropping what a dead upload may have left under it, and
    /// any upload abandoned long ago).
    pub async fn stage_batch(
        &self,
        id: &str,
        client: &str,
        key: Option<&str>,
    ) -> Result<(), StorageError> {
        let _timed = LedgerOp::StageBatch.timed();
        let stale: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM batches WHERE status = 'staging' AND (id = $1 OR updated_at < $2)",
        )
        .bind(id)
        .bind(now_ms() - ABANDONED_AFTER_MS)
        .fetch_all(&self.pool)
        .await?;
        for stale in stale {
            self.drop_staged(&stale).await?;
        }
        let now = now_ms();
        sqlx::query(
            "INSERT INTO batches (id, client, idempotency_key, status, item_count, created_at, updated_at) \
             VALUES ($1, $2, $3, 'staging', 0, $4, $4)",
        )
        .bind(id)
        .bind(client)
        .bind(key)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Writes a chunk of checked items, numbered from `first_seq`, in one transaction.
    pub async fn stage_items(
        &self,
        id: &str,
        first_seq: i64,
        items: &[NewItem],
    ) -> Result<(), StorageError> {
        let _timed = LedgerOp::StageItems.timed();
        let mut tx = self.pool.begin().await?;
        insert_items(&mut tx, id, first_seq, items).await?;
        sqlx::query("UPDATE batches SET updated_at = $1 WHERE id = $2 AND status = 'staging'")
            .bind(now_ms())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Opens a fully staged batch of `count` items: from now on it is worked and shown.
    pub async fn open_staged(&self, id: &str, count: i64) -> Result<(), StorageError> {
        let _timed = LedgerOp::OpenStaged.timed();
        let now = now_ms();
        // Opened and told (`batch.accepted`) in one transaction, as a JSON batch is.
        let mut tx = self.pool.begin().await?;
        let opened = sqlx::query(
            "UPDATE batches SET status = 'open', item_count = $1, created_at = $2, updated_at = $2 \
             WHERE id = $3 AND status = 'staging'",
        )
        .bind(count)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if opened.rows_affected() == 1 {
            events::record_batch(&mut tx, &events::outbox(self), id, EventType::BatchAccepted)
                .await?;
        }
        tx.commit().await?;
        self.deliveries_committed();
        Ok(())
    }

    /// Drops a staged batch and its items (an upload refused, or abandoned).
    pub async fn drop_staged(&self, id: &str) -> Result<(), StorageError> {
        let _timed = LedgerOp::DropStaged.timed();
        let mut tx = self.pool.begin().await?;
        let dropped = sqlx::query("DELETE FROM batches WHERE id = $1 AND status = 'staging'")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if dropped.rows_affected() == 1 {
            sqlx::query("DELETE FROM batch_items WHERE batch_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
