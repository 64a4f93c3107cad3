//! Reading batches without loading their items: a client's batches page by page, a batch's
//! items counted by outcome (grouped in SQL, so a 100,000-item batch is a few dozen rows),
//! its recent pace per instance, its failures, and its items in pages for export.

use sqlx::Row;

use super::batches::BatchRow;
use super::{Storage, StorageError};
use crate::storage::observe::LedgerOp;

/// Items of a batch that share an outcome (and amount): the grouping behind its report.
#[derive(Debug, Clone)]
pub struct TallyRow {
    pub provider: String,
    pub state: String,
    /// Failed without a refund of its own.
    pub failed: bool,
    pub refund_status: Option<String>,
    pub amount_value: Option<String>,
    pub amount_currency: Option<String>,
    pub items: i64,
}

/// An item that failed, and why.
#[derive(Debug, Clone)]
pub struct FailureRow {
    pub seq: i64,
    pub provider: String,
    pub refund_id: Option<String>,
    pub reason: Option<String>,
}

/// One item as the export shows it.
#[derive(Debug, Clone)]
pub struct ExportRow {
    pub seq: i64,
    pub provider: String,
    pub body: String,
    pub state: String,
    pub failure: Option<String>,
    pub refund_id: Option<String>,
    pub refund_status: Option<String>,
    pub amount_value: Option<String>,
    pub amount_currency: Option<String>,
    pub vendor_reference: Option<String>,
    pub status_detail: Option<String>,
}

fn batch_row(r: &sqlx::any::AnyRow) -> Result<BatchRow, StorageError> {
    Ok(BatchRow {
        id: r.try_get("id")?,
        client: r.try_get("client")?,
        status: r.try_get("status")?,
        item_count: r.try_get("item_count")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

impl Storage {
    /// `client`'s batches, newest first (ids are time-ordered), after the batch `after`,
    /// optionally only those in the stored `status`.
    pub async fn list_batches(
        &self,
        client: &str,
        status: Option<&str>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<BatchRow>, StorageError> {
        let _timed = LedgerOp::ListBatches.timed();
        let rows = sqlx::query(
            "SELECT id, client, status, item_count, created_at, updated_at FROM batches \
             WHERE client = $1 AND status <> 'staging' AND ($2 IS NULL OR status = $2) \
             AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4",
        )
        .bind(client)
        .bind(status)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(batch_row).collect()
    }

    /// A batch's items grouped by outcome and amount.
    pub async fn batch_tally(&self, batch_id: &str) -> Result<Vec<TallyRow>, StorageError> {
        let _timed = LedgerOp::BatchTally.timed();
        let rows = sqlx::query(
            "SELECT i.provider, i.state, CAST(CASE WHEN i.failure IS NULL THEN 0 ELSE 1 END AS BIGINT) AS failed, \
             r.status AS refund_status, r.amount_value, r.amount_currency, CAST(COUNT(*) AS BIGINT) AS items \
             FROM batch_items i LEFT JOIN refunds r ON r.id = i.refund_id WHERE i.batch_id = $1 \
             GROUP BY i.provider, i.state, CASE WHEN i.failure IS NULL THEN 0 ELSE 1 END, r.status, r.amount_value, r.amount_currency",
        )
        .bind(batch_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TallyRow {
                    provider: r.try_get("provider")?,
                    state: r.try_get("state")?,
                    failed: r.try_get::<i64, _>("failed")? == 1,
                    refund_status: r.try_get("refund_status")?,
                    amount_value: r.try_get("amount_value")?,
                    amount_currency: r.try_get("amount_currency")?,
                    items: r.try_get("items")?,
                })
            })
            .collect()
    }

    /// Items of a batch finished at or after `since` (Unix ms), per provider instance.
    pub async fn finished_since(
        &self,
        batch_id: &str,
        since: i64,
    ) -> Result<Vec<(String, i64)>, StorageError> {
        let _timed = LedgerOp::FinishedSince.timed();
        let rows = sqlx::query(
            "SELECT provider, CAST(COUNT(*) AS BIGINT) AS items FROM batch_items \
             WHERE batch_id = $1 AND finished_at >= $2 GROUP BY provider",
        )
        .bind(batch_id)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("provider")?, r.try_get("items")?)))
            .collect()
    }

    /// The first `limit` items of a batch that failed, with their reasons.
    pub async fn batch_failures(
        &self,
        batch_id: &str,
        limit: i64,
    ) -> Result<Vec<FailureRow>, StorageError> {
        let _timed = LedgerOp::BatchFailures.timed();
        let rows = sqlx::query(
            "SELECT i.seq, i.provider, i.refund_id, COALESCE(i.failure, r.status_detail, r.status_code) AS reason \
             FROM batch_items i LEFT JOIN refunds r ON r.id = i.refund_id \
             WHERE i.batch_id = $1 AND (i.failure IS NOT NULL OR r.status = 'failed') ORDER BY i.seq LIMIT $2",
        )
        .bind(batch_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(FailureRow {
                    seq: r.try_get("seq")?,
                    provider: r.try_get("provider")?,
                    refund_id: r.try_get("refund_id")?,
                    reason: r.try_get("reason")?,
                })
            })
            .collect()
    }

    /// A page of a batch's items after `after_seq`, as the export shows them.
    pub async fn export_page(
        &self,
        batch_id: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<ExportRow>, StorageError> {
        let _timed = LedgerOp::ExportPage.timed();
        let rows = sqlx::query(
            "SELECT i.seq, i.provider, i.body, i.state, i.failure, i.refund_id, r.status AS refund_status, \
             r.amount_value, r.amount_currency, r.vendor_reference, COALESCE(r.status_detail, r.status_code) AS status_detail \
             FROM batch_items i LEFT JOIN refunds r ON r.id = i.refund_id \
             WHERE i.batch_id = $1 AND i.seq > $2 ORDER BY i.seq LIMIT $3",
        )
        .bind(batch_id)
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ExportRow {
                    seq: r.try_get("seq")?,
                    provider: r.try_get("provider")?,
                    body: r.try_get("body")?,
                    state: r.try_get("state")?,
                    failure: r.try_get("failure")?,
                    refund_id: r.try_get("refund_id")?,
                    refund_status: r.try_get("refund_status")?,
                    amount_value: r.try_get("amount_value")?,
                    amount_currency: r.try_get("amount_currency")?,
                    vendor_reference: r.try_get("vendor_reference")?,
                    status_detail: r.try_get("status_detail")?,
                })
            })
            .collect()
    }
}
