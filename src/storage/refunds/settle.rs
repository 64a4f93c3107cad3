//! Writing a refund's life: its intent before the vendor is called, and `settle`, the one
//! place its status changes (with the event of each change in the same transaction).

use refund_provider::Refund;
use sqlx::Row;

use super::{json, status_str, Intent, Settle, Settlement, VendorWords, INTERRUPTED};
use crate::storage::observe::LedgerOp;
use crate::storage::{events, now_ms, Storage, StorageError};

impl Storage {
    /// Records the intent. Committed before the vendor is called.
    pub async fn insert_intent(&self, intent: &Intent) -> Result<(), StorageError> {
        let _timed = LedgerOp::InsertIntent.timed();
        let mut tx = self.pool.begin().await?;
        self.insert_intent_in(&mut tx, intent).await?;
        tx.commit().await?;
        self.deliveries_committed();
        Ok(())
    }

    /// `insert_intent` in a given transaction, with its `refund.created` event.
    pub(crate) async fn insert_intent_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        intent: &Intent,
    ) -> Result<(), StorageError> {
        Self::insert_intent_row(&mut *conn, intent).await?;
        events::record_refund(conn, &events::outbox(self), &intent.id).await
    }

    async fn insert_intent_row(
        conn: &mut sqlx::AnyConnection,
        intent: &Intent,
    ) -> Result<(), StorageError> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO refunds (id, client, provider, provider_kind, target, amount_value, amount_currency, \
             reason, metadata, idempotency_key, request_hash, batch_id, status, in_flight_until, \
             settle_attempts, created_at, updated_at, owner) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'pending', $13, 0, $14, $14, $15)",
        )
        .bind(&intent.id)
        .bind(&intent.client)
        .bind(&intent.provider)
        .bind(&intent.provider_kind)
        .bind(json(&intent.target))
        .bind(intent.amount.map(|m| m.value().to_string()))
        .bind(intent.amount.map(|m| m.currency().code().to_string()))
        .bind(&intent.reason)
        .bind(json(&intent.metadata))
        .bind(&intent.idempotency_key)
        .bind(&intent.request_hash)
        .bind(&intent.batch_id)
        .bind(intent.in_flight_until)
        .bind(now)
        .bind(&intent.owner)
        .execute(conn)
        .await?;
        Ok(())
    }

    /// The one place a refund's status changes. Returns how many rows changed: none when
    /// the row was already final (the change is refused) or does not exist. Each row that
    /// changed status gets its event, written in the same transaction as the change.
    pub async fn settle(&self, which: Settle<'_>, s: &Settlement) -> Result<u64, StorageError> {
        let _timed = LedgerOp::Settle.timed();
        match which {
            Settle::Refund(id) => self.settle_row(id, false, false, s).await,
            Settle::NotAppliedBatchRefund(id) => self.settle_row(id, false, true, s).await,
            Settle::Interrupted => {
                // Found first, then settled one by one (each re-checked under its own
                // write), so every row changed has its own event.
                let ids: Vec<String> = sqlx::query_scalar(&format!(
                    "SELECT id FROM refunds WHERE {}",
                    INTERRUPTED.replace("$8", "$1")
                ))
                .bind(now_ms())
                .fetch_all(&self.pool)
                .await?;
                let mut changed = 0;
                for id in ids {
                    changed += self.settle_row(&id, true, false, s).await?;
                }
                Ok(changed)
            }
        }
    }

    /// Settles row `id` if it is open (and, with `interrupted`, still interrupted); with
    /// `retry_item`, queues its batch item again in the same transaction.
    async fn settle_row(
        &self,
        id: &str,
        interrupted: bool,
        retry_item: bool,
        s: &Settlement,
    ) -> Result<u64, StorageError> {
        let vendor_reference = s
            .refund
            .as_ref()
            .map(|r| r.vendor_reference.as_str().to_string())
            .filter(|r| !r.is_empty());
        let rows = if interrupted {
            INTERRUPTED
        } else {
            "status IN ('pending', 'unknown')"
        };
        let sql = format!(
            "UPDATE refunds SET status = $1, status_code = $2, status_detail = $3, \
             vendor_reference = COALESCE($4, vendor_reference), refund = COALESCE($5, refund), \
             vendor_error = $6, resolution_note = COALESCE($7, resolution_note), \
             in_flight_until = NULL, next_settle_at = NULL, updated_at = $8 WHERE id = $9 AND {rows} \
             RETURNING provider"
        );
        let outbox = events::outbox(self);
        let mut tx = self.pool.begin().await?;
        let settled = sqlx::query(&sql)
            .bind(status_str(s.status))
            .bind(s.reason.as_ref().map(|r| r.code.clone()))
            .bind(s.reason.as_ref().map(|r| r.message.clone()))
            .bind(vendor_reference)
            .bind(s.refund.as_ref().map(json))
            .bind(
                s.reason
                    .as_ref()
                    .and_then(VendorWords::of)
                    .map(|w| json(&w)),
            )
            .bind(&s.resolution_note)
            .bind(now_ms())
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(settled) = settled else {
            tx.commit().await?;
            return Ok(0);
        };
        // The item before the event: an event takes the feed's counter, held to the commit,
        // and no row lock may be waited for while holding it (`storage::events`).
        if retry_item {
            Self::retry_not_applied_in(&mut tx, id).await?;
        }
        events::record_refund(&mut tx, &outbox, id).await?;
        tx.commit().await?;
        self.deliveries_committed();
        crate::storage::observe::settled(
            &settled.try_get::<String, _>("provider")?,
            status_str(s.status),
        );
        Ok(1)
    }

    /// Keeps the vendor's latest view of a refund whose status did not change.
    pub async fn refresh_snapshot(&self, id: &str, refund: &Refund) -> Result<(), StorageError> {
        let _timed = LedgerOp::RefreshSnapshot.timed();
        sqlx::query("UPDATE refunds SET refund = $1, updated_at = $2 WHERE id = $3")
            .bind(json(refund))
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Puts off the next settle attempt of an unknown refund.
    pub async fn defer_settle(
        &self,
        id: &str,
        next_at: i64,
        detail: &str,
    ) -> Result<(), StorageError> {
        let _timed = LedgerOp::DeferSettle.timed();
        sqlx::query(
            "UPDATE refunds SET settle_attempts = settle_attempts + 1, next_settle_at = $1, \
             status_detail = $2, updated_at = $3 WHERE id = $4 AND status = 'unknown'",
        )
        .bind(next_at)
        .bind(detail)
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
