//! Refunds followed at the vendor until final: vendor refunds a client looked up while they
//! were not final (`followed_refunds`), and ledger refunds the vendor answered `pending`
//! (their `next_settle_at` and `settle_attempts` schedule the polls). A poll is claimed by
//! moving its due time forward by compare-and-set, so gateways sharing the ledger do not
//! poll the same refund at once.

use refund_provider::RefundStatus;
use serde_json::Value;
use sqlx::Row;

use super::events::{self, outbox};
use super::refunds::{read_row, status_str, LedgerRow, COLUMNS};
use super::{now_ms, Storage, StorageError};
use crate::storage::observe::LedgerOp;

/// A vendor refund being followed for a client.
#[derive(Debug, Clone)]
pub struct Followed {
    pub client: String,
    pub refund_id: String,
    pub provider: String,
    pub vendor_reference: String,
    pub status: String,
    pub attempts: i64,
    pub next_poll_at: i64,
    pub until_at: i64,
}

impl Storage {
    /// Starts following a vendor refund (one already followed by its client stays as it is).
    pub async fn follow_vendor_refund(&self, followed: &Followed) -> Result<(), StorageError> {
        let _timed = LedgerOp::FollowVendorRefund.timed();
        sqlx::query(
            "INSERT INTO followed_refunds (client, refund_id, provider, vendor_reference, status, attempts, \
             next_poll_at, until_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (client, refund_id) DO NOTHING",
        )
        .bind(&followed.client)
        .bind(&followed.refund_id)
        .bind(&followed.provider)
        .bind(&followed.vendor_reference)
        .bind(&followed.status)
        .bind(followed.attempts)
        .bind(followed.next_poll_at)
        .bind(followed.until_at)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Claims up to `limit` followed vendor refunds due now, each for `lease_ms`.
    pub async fn claim_followed(
        &self,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<Followed>, StorageError> {
        let _timed = LedgerOp::ClaimFollowed.timed();
        let now = now_ms();
        let rows = sqlx::query(
            "SELECT client, refund_id, provider, vendor_reference, status, attempts, next_poll_at, until_at \
             FROM followed_refunds WHERE next_poll_at <= $1 ORDER BY next_poll_at LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = Vec::new();
        for row in rows {
            let followed = Followed {
                client: row.try_get("client")?,
                refund_id: row.try_get("refund_id")?,
                provider: row.try_get("provider")?,
                vendor_reference: row.try_get("vendor_reference")?,
                status: row.try_get("status")?,
                attempts: row.try_get("attempts")?,
                next_poll_at: row.try_get("next_poll_at")?,
                until_at: row.try_get("until_at")?,
            };
            let taken = sqlx::query(
                "UPDATE followed_refunds SET next_poll_at = $1 WHERE client = $2 AND refund_id = $3 AND next_poll_at = $4",
            )
            .bind(now + lease_ms)
            .bind(&followed.client)
            .bind(&followed.refund_id)
            .bind(followed.next_poll_at)
            .execute(&self.pool)
            .await?;
            if taken.rows_affected() == 1 {
                claimed.push(followed);
            }
        }
        Ok(claimed)
    }

    /// Records what a poll of `followed` found: a new status is an event (written once,
    /// by compare-and-set on the status last seen); a final one, or one past the horizon,
    /// ends the following; otherwise the next poll is at `next_at`.
    pub async fn followed_seen(
        &self,
        followed: &Followed,
        status: RefundStatus,
        data: Value,
        next_at: i64,
    ) -> Result<(), StorageError> {
        let _timed = LedgerOp::FollowedSeen.timed();
        let outbox = outbox(self);
        let mut tx = self.pool.begin().await?;
        let now = now_ms();
        let seen = status_str(status);
        let moved = sqlx::query(
            "UPDATE followed_refunds SET status = $1, attempts = attempts + 1, next_poll_at = $2 \
             WHERE client = $3 AND refund_id = $4 AND status = $5",
        )
        .bind(seen)
        .bind(next_at)
        .bind(&followed.client)
        .bind(&followed.refund_id)
        .bind(&followed.status)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 1 && seen != followed.status {
            events::record_vendor_refund(
                &mut tx,
                &outbox,
                &followed.client,
                &followed.refund_id,
                status,
                data,
            )
            .await?;
        }
        if status.is_final() || now >= followed.until_at {
            sqlx::query("DELETE FROM followed_refunds WHERE client = $1 AND refund_id = $2")
                .bind(&followed.client)
                .bind(&followed.refund_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.deliveries_committed();
        Ok(())
    }

    /// A poll that found nothing (the vendor could not be asked): try again at `next_at`,
    /// or stop past the horizon.
    pub async fn followed_unanswered(
        &self,
        followed: &Followed,
        next_at: i64,
    ) -> Result<(), StorageError> {
        let _timed = LedgerOp::FollowedUnanswered.timed();
        let sql = if now_ms() >= followed.until_at {
            "DELETE FROM followed_refunds WHERE client = $1 AND refund_id = $2"
        } else {
            "UPDATE followed_refunds SET attempts = attempts + 1, next_poll_at = $3 WHERE client = $1 AND refund_id = $2"
        };
        let mut query = sqlx::query(sql)
            .bind(&followed.client)
            .bind(&followed.refund_id);
        if now_ms() < followed.until_at {
            query = query.bind(next_at);
        }
        query.execute(&self.pool).await?;
        Ok(())
    }

    /// Vendor refunds `client` follows (for tests and operators).
    pub async fn followed_by(&self, client: &str) -> Result<Vec<String>, StorageError> {
        let _timed = LedgerOp::FollowedBy.timed();
        Ok(sqlx::query_scalar(
            "SELECT refund_id FROM followed_refunds WHERE client = $1 ORDER BY refund_id",
        )
        .bind(client)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Claims up to `limit` ledger refunds the vendor answered `pending` (no call in
    /// flight), created after `since`, whose next poll is due, each for `lease_ms`.
    pub async fn claim_pending_at_vendor(
        &self,
        since: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<LedgerRow>, StorageError> {
        let _timed = LedgerOp::ClaimPendingAtVendor.timed();
        let now = now_ms();
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS}, next_settle_at FROM refunds WHERE status = 'pending' AND in_flight_until IS NULL \
             AND vendor_reference IS NOT NULL AND created_at >= $1 \
             AND (next_settle_at IS NULL OR next_settle_at <= $2) ORDER BY created_at LIMIT $3"
        ))
        .bind(since)
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = Vec::new();
        for row in rows {
            let due: Option<i64> = row.try_get("next_settle_at")?;
            let ledger = read_row(&row)?;
            let taken = sqlx::query(
                "UPDATE refunds SET next_settle_at = $1 WHERE id = $2 AND status = 'pending' \
                 AND in_flight_until IS NULL AND COALESCE(next_settle_at, -1) = $3",
            )
            .bind(now + lease_ms)
            .bind(&ledger.id)
            .bind(due.unwrap_or(-1))
            .execute(&self.pool)
            .await?;
            if taken.rows_affected() == 1 {
                claimed.push(ledger);
            }
        }
        Ok(claimed)
    }

    /// A pending ledger refund still pending at the vendor: polled again at `next_at`.
    pub async fn defer_pending_poll(&self, id: &str, next_at: i64) -> Result<(), StorageError> {
        let _timed = LedgerOp::DeferPendingPoll.timed();
        sqlx::query(
            "UPDATE refunds SET settle_attempts = settle_attempts + 1, next_settle_at = $1 \
             WHERE id = $2 AND status = 'pending'",
        )
        .bind(next_at)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
