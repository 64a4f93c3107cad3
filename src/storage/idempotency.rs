//! Idempotency keys (draft-ietf-httpapi-idempotency-key-header, with Stripe's semantics):
//! the first request with a key claims it; its final answer is stored and replayed to every
//! later request with the same key and body. Claims carry a lease, so a key whose holder
//! died (a crash mid-request) can be taken over instead of blocking forever.

use sqlx::Row;

use super::{now_ms, Storage, StorageError};
use crate::storage::observe::LedgerOp;

/// What a request finds when it presents its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new: this request owns it.
    Fresh,
    /// Same key, same body, finished: replay this answer.
    Replay { status: u16, body: String },
    /// Same key, another body.
    Mismatch,
    /// Same key, still being worked on by another request.
    InFlight { retry_after_ms: i64 },
    /// The holder's lease ran out without an answer (it died); this request now owns the
    /// key, and `refund_id` is what the holder had recorded, if anything.
    TakenOver { refund_id: Option<String> },
}

impl Storage {
    /// Claims `key` for `owner` (this gateway process). A key still locked by a process
    /// that has ended is taken over at once; one locked by a live process is in flight.
    pub async fn claim_key(
        &self,
        client: &str,
        key: &str,
        request_hash: &str,
        refund_id: &str,
        lease_ms: i64,
        owner: &str,
    ) -> Result<Claim, StorageError> {
        let _timed = LedgerOp::ClaimKey.timed();
        let now = now_ms();
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (client, idem_key, request_hash, refund_id, locked_until, created_at, owner) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (client, idem_key) DO NOTHING",
        )
        .bind(client)
        .bind(key)
        .bind(request_hash)
        .bind(refund_id)
        .bind(now + lease_ms)
        .bind(now)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(Claim::Fresh);
        }
        let Some(row) = sqlx::query(
            "SELECT request_hash, refund_id, response_status, response_body, locked_until, owner \
             FROM idempotency_keys WHERE client = $1 AND idem_key = $2",
        )
        .bind(client)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?
        else {
            // Purged between the insert and the read: try once more as new.
            return Box::pin(self.claim_key(client, key, request_hash, refund_id, lease_ms, owner))
                .await;
        };
        if row.try_get::<String, _>("request_hash")? != request_hash {
            return Ok(Claim::Mismatch);
        }
        if let (Some(status), Some(body)) = (
            row.try_get::<Option<i64>, _>("response_status")?,
            row.try_get::<Option<String>, _>("response_body")?,
        ) {
            return Ok(Claim::Replay {
                status: u16::try_from(status).unwrap_or(500),
                body,
            });
        }
        let locked_until: Option<i64> = row.try_get("locked_until")?;
        let locked_until = locked_until.unwrap_or(0);
        let holder: Option<String> = row.try_get("owner")?;
        let holder_ended = match &holder {
            Some(holder) if holder != owner => self.gateway_ended(holder).await?,
            _ => false,
        };
        if locked_until > now && !holder_ended {
            return Ok(Claim::InFlight {
                retry_after_ms: locked_until - now,
            });
        }
        // Take the abandoned key over, unless another request just did.
        let taken = sqlx::query(
            "UPDATE idempotency_keys SET locked_until = $1, owner = $5 \
             WHERE client = $2 AND idem_key = $3 AND locked_until = $4 AND response_status IS NULL",
        )
        .bind(now + lease_ms)
        .bind(client)
        .bind(key)
        .bind(locked_until)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        if taken.rows_affected() == 1 {
            Ok(Claim::TakenOver {
                refund_id: row.try_get("refund_id")?,
            })
        } else {
            Ok(Claim::InFlight {
                retry_after_ms: 1000,
            })
        }
    }

    /// Stores the final answer for replays.
    pub async fn finish_key(
        &self,
        client: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> Result<(), StorageError> {
        let _timed = LedgerOp::FinishKey.timed();
        sqlx::query(
            "UPDATE idempotency_keys SET response_status = $1, response_body = $2, locked_until = NULL \
             WHERE client = $3 AND idem_key = $4",
        )
        .bind(i64::from(status))
        .bind(body)
        .bind(client)
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Gives a key back when the request failed before anything reached a vendor, so the
    /// client may retry it.
    pub async fn release_key(&self, client: &str, key: &str) -> Result<(), StorageError> {
        let _timed = LedgerOp::ReleaseKey.timed();
        sqlx::query("DELETE FROM idempotency_keys WHERE client = $1 AND idem_key = $2 AND response_status IS NULL")
            .bind(client)
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets finished keys older than the retention.
    pub async fn purge_keys(&self, older_than_ms: i64) -> Result<u64, StorageError> {
        let _timed = LedgerOp::PurgeKeys.timed();
        let result = sqlx::query(
            "DELETE FROM idempotency_keys WHERE created_at < $1 AND response_status IS NOT NULL",
        )
        .bind(now_ms() - older_than_ms)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected())
    }
}
