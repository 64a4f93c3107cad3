//! Batch milestones as events: accepted, progress every N items or T seconds, completed,
//! canceled, each written in the transaction that reached it.

use serde_json::Value;
use sqlx::{AnyConnection, Row};

use super::{outbox, write, EventType, NewEvent, OutboxConfig};
use crate::storage::observe::LedgerOp;
use crate::storage::{now_ms, Storage, StorageError};

/// A batch as its events carry it: its status and how many items are in each state.
async fn batch_data(
    conn: &mut AnyConnection,
    batch_id: &str,
) -> Result<Option<(String, Value, i64)>, StorageError> {
    let Some(batch) = sqlx::query(
        "SELECT client, status, item_count, created_at, updated_at FROM batches WHERE id = $1",
    )
    .bind(batch_id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let states = sqlx::query(
        "SELECT state, COUNT(*) AS n FROM batch_items WHERE batch_id = $1 GROUP BY state",
    )
    .bind(batch_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut counts = serde_json::Map::new();
    let mut done = 0;
    for row in &states {
        let state: String = row.try_get("state")?;
        let n: i64 = row.try_get("n")?;
        if state == "done" {
            done = n;
        }
        counts.insert(state, n.into());
    }
    let time = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    };
    let data = serde_json::json!({
        "id": batch_id,
        "status": batch.try_get::<String, _>("status")?,
        "item_count": batch.try_get::<i64, _>("item_count")?,
        "items": counts,
        "created_at": time(batch.try_get("created_at")?),
        "updated_at": time(batch.try_get("updated_at")?),
    });
    Ok(Some((batch.try_get("client")?, data, done)))
}

/// Writes a batch milestone on `conn` (the transaction that reached it).
pub(crate) async fn record_batch(
    conn: &mut AnyConnection,
    outbox: &OutboxConfig,
    batch_id: &str,
    kind: EventType,
) -> Result<(), StorageError> {
    let Some((client, data, done)) = batch_data(conn, batch_id).await? else {
        return Ok(());
    };
    write(
        conn,
        outbox,
        NewEvent {
            kind,
            client: &client,
            refund_id: None,
            batch_id: Some(batch_id),
            data,
        },
    )
    .await?;
    if kind == EventType::BatchAccepted {
        sqlx::query(
            "INSERT INTO batch_progress_marks (batch_id, done_items, told_at) VALUES ($1, $2, $3)",
        )
        .bind(batch_id)
        .bind(done)
        .bind(now_ms())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

impl Storage {
    /// Tells a batch's progress when `progress_items` more items are done since it was
    /// last told, or `progress_ms` has passed and some are (never its last item: that is
    /// `batch.completed`). The mark moves by
    /// compare-and-set, so two gateways finishing items at once tell it once.
    pub async fn note_batch_progress(&self, batch_id: &str) -> Result<(), StorageError> {
        let _timed = LedgerOp::NoteBatchProgress.timed();
        let outbox = outbox(self);
        // Read first, then write in a transaction that starts with the compare-and-set,
        // so SQLite takes its write lock before any read of the transaction.
        let Some(mark) =
            sqlx::query("SELECT done_items, told_at FROM batch_progress_marks WHERE batch_id = $1")
                .bind(batch_id)
                .fetch_optional(&self.pool)
                .await?
        else {
            return Ok(());
        };
        let (told_done, told_at): (i64, i64) =
            (mark.try_get("done_items")?, mark.try_get("told_at")?);
        // Only the items finished since the last mark are counted (an index range of at
        // most about `progress_items` rows), never the whole of a 100,000-item batch.
        let recent = sqlx::query(
            "SELECT COUNT(*) AS n, MAX(finished_at) AS last FROM batch_items \
             WHERE batch_id = $1 AND finished_at > $2",
        )
        .bind(batch_id)
        .bind(told_at)
        .fetch_one(&self.pool)
        .await?;
        let (fresh, last): (i64, Option<i64>) = (recent.try_get("n")?, recent.try_get("last")?);
        let done = told_done + fresh;
        let now = now_ms();
        let due = done - told_done >= outbox.progress_items.max(1)
            || (done > told_done && now - told_at >= outbox.progress_ms);
        if !due {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        let moved = sqlx::query(
            "UPDATE batch_progress_marks SET done_items = $1, told_at = $2 WHERE batch_id = $3 AND done_items = $4 \
             AND EXISTS (SELECT 1 FROM batches WHERE id = $3 AND status = 'open' AND item_count > $1)",
        )
        .bind(done)
        // The mark's time is the last counted item's, so an item finishing while this
        // runs is counted next time rather than lost.
        .bind(last.unwrap_or(now))
        .bind(batch_id)
        .bind(told_done)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 1 {
            record_batch(&mut tx, &outbox, batch_id, EventType::BatchProgress).await?;
            tx.commit().await?;
            self.deliveries_committed();
        }
        Ok(())
    }
}
