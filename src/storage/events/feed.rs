//! Reading the feed (`GET /v1/events`) in commit order, one event, and the retention purge
//! that forgets only a prefix of each client's feed (see the module doc of `events`).

use super::{event_row, EventFilter, EventRow};
use crate::storage::observe::LedgerOp;
use crate::storage::{now_ms, Storage, StorageError};

impl Storage {
    /// The client's events in commit order (feed position), `limit` after the cursor. The
    /// cursor is still an event id (the API's `starting_after`): the feed resumes after that
    /// event's position. When the cursor event is gone (purged by retention, or not one of
    /// the client's), the feed starts again from its oldest event kept: at least once, never
    /// a skip. No id-derived guess can do better: an event with a smaller id than the cursor
    /// may have committed after it (that is the point of positions), so "the last position
    /// below the cursor's id" could skip it. Since `purge_events` forgets only a prefix of
    /// each client's feed, everything kept is after the purged cursor and nothing repeats.
    pub async fn list_events(
        &self,
        filter: &EventFilter,
        limit: i64,
    ) -> Result<Vec<EventRow>, StorageError> {
        let _timed = LedgerOp::ListEvents.timed();
        let types = if filter.types.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = (0..filter.types.len())
                .map(|i| format!("${}", i + 6))
                .collect();
            format!(" AND type IN ({})", list.join(", "))
        };
        let sql = format!(
            "SELECT id, type, client, refund_id, batch_id, data, created_at FROM events \
             WHERE client = $1 AND ($2 IS NULL OR refund_id = $2) AND ($3 IS NULL OR batch_id = $3) \
             AND feed_position > COALESCE((SELECT c.feed_position FROM events c WHERE c.id = $4 AND c.client = $1), 0)\
             {types} ORDER BY feed_position LIMIT $5"
        );
        let mut query = sqlx::query(&sql)
            .bind(&filter.client)
            .bind(&filter.refund_id)
            .bind(&filter.batch_id)
            .bind(&filter.starting_after)
            .bind(limit);
        for kind in &filter.types {
            query = query.bind(kind);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(event_row).collect()
    }

    /// One event, if it exists.
    pub async fn get_event(&self, id: &str) -> Result<Option<EventRow>, StorageError> {
        let _timed = LedgerOp::GetEvent.timed();
        let row = sqlx::query(
            "SELECT id, type, client, refund_id, batch_id, data, created_at FROM events WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(event_row).transpose()
    }

    /// Forgets events older than `retention_ms` whose deliveries are all over (delivered or
    /// failed), with those deliveries; returns how many events went. Only a prefix of each
    /// client's feed goes: nothing at or after the first event that must stay (recent, or
    /// still being delivered), so every event kept comes after every event purged and a
    /// reader whose cursor was purged resumes from the oldest kept without a repeat. An old
    /// event waits behind one still being delivered until that delivery ends (delivered, or
    /// failed once its retries run out).
    pub async fn purge_events(&self, retention_ms: i64) -> Result<u64, StorageError> {
        let _timed = LedgerOp::PurgeEvents.timed();
        let now = now_ms();
        let before = now - retention_ms;
        let mut tx = self.pool.begin().await?;
        // Deliveries no gateway could send before giving up (their endpoint was removed from
        // the config, or a 410 disabled it) end as failed, so they hold no event forever.
        sqlx::query(
            "UPDATE webhook_deliveries SET state = 'failed', updated_at = $1, \
             last_error = COALESCE(last_error, 'not sent before its retries ran out: the endpoint is disabled or no longer configured') \
             WHERE state = 'pending' AND give_up_at < $1 AND (lease_until IS NULL OR lease_until < $1)",
        )
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let open = "SELECT event_id FROM webhook_deliveries WHERE state = 'pending'";
        let clients: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT client FROM events WHERE created_at < $1")
                .bind(before)
                .fetch_all(&mut *tx)
                .await?;
        let mut gone = 0;
        for client in clients {
            let keep_from: Option<i64> = sqlx::query_scalar(&format!(
                "SELECT MIN(feed_position) FROM events WHERE client = $1 \
                 AND (created_at >= $2 OR id IN ({open}))"
            ))
            .bind(&client)
            .bind(before)
            .fetch_one(&mut *tx)
            .await?;
            // Below the first event kept: each such event is old and not being delivered,
            // asked again as it is deleted (a redelivery may have started since).
            let purged = format!(
                "SELECT id FROM events WHERE client = $1 AND feed_position < $2 \
                 AND created_at < $3 AND id NOT IN ({open})"
            );
            sqlx::query(&format!(
                "DELETE FROM webhook_deliveries WHERE event_id IN ({purged})"
            ))
            .bind(&client)
            .bind(keep_from.unwrap_or(i64::MAX))
            .bind(before)
            .execute(&mut *tx)
            .await?;
            gone += sqlx::query(&format!("DELETE FROM events WHERE id IN ({purged})"))
                .bind(&client)
                .bind(keep_from.unwrap_or(i64::MAX))
                .bind(before)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        sqlx::query(
            "DELETE FROM batch_progress_marks WHERE batch_id NOT IN \
             (SELECT id FROM batches WHERE status = 'open')",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(gone)
    }
}
