//! Reading the ledger's refunds: one, a client's listing, the unknown ones due for a settle
//! attempt, and the ledger ids behind vendor references.

use sqlx::Row;

use super::{read_row, status_str, LedgerFilter, LedgerRow, COLUMNS};
use crate::storage::observe::LedgerOp;
use crate::storage::{now_ms, Storage, StorageError};

impl Storage {
    pub async fn get_refund(&self, id: &str) -> Result<Option<LedgerRow>, StorageError> {
        let _timed = LedgerOp::GetRefund.timed();
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM refunds WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(read_row).transpose()
    }

    /// Newest first, `limit` rows after the cursor.
    pub async fn list_refunds(
        &self,
        filter: &LedgerFilter,
        limit: i64,
    ) -> Result<Vec<LedgerRow>, StorageError> {
        let _timed = LedgerOp::ListRefunds.timed();
        // The cursor is one of the listed client's refunds: another client's id is as
        // unknown as one that never existed (else the page would tell whether it exists).
        let cursor = match &filter.starting_after {
            Some(id) => match self.get_refund(id).await? {
                Some(row) if filter.client.as_ref().is_none_or(|c| *c == row.client) => {
                    Some((row.created_at, row.id))
                }
                _ => return Ok(Vec::new()),
            },
            None => None,
        };
        // Absent filters bind NULL and match everything, so one statement serves all.
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM refunds WHERE ($9 IS NULL OR client = $9) AND \
             ($1 IS NULL OR provider = $1) AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR batch_id = $3) \
             AND ($4 IS NULL OR created_at >= $4) AND ($5 IS NULL OR created_at < $5) \
             AND ($6 IS NULL OR created_at < $6 OR (created_at = $6 AND id < $7)) \
             ORDER BY created_at DESC, id DESC LIMIT $8"
        ))
        .bind(&filter.provider)
        .bind(filter.status.map(status_str))
        .bind(&filter.batch_id)
        .bind(filter.created_gte)
        .bind(filter.created_lt)
        .bind(cursor.as_ref().map(|c| c.0))
        .bind(cursor.as_ref().map(|c| c.1.clone()))
        .bind(limit)
        .bind(&filter.client)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(read_row).collect()
    }

    /// Unknown refunds whose next settle attempt is due.
    pub async fn due_unknowns(&self, limit: i64) -> Result<Vec<LedgerRow>, StorageError> {
        let _timed = LedgerOp::DueUnknowns.timed();
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM refunds WHERE status = 'unknown' AND in_flight_until IS NULL \
             AND (next_settle_at IS NULL OR next_settle_at <= $1) ORDER BY created_at LIMIT $2"
        ))
        .bind(now_ms())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(read_row).collect()
    }

    /// `(vendor reference, ledger id, client)` of those of `references` that refunds of
    /// ours carry, so a vendor listing shows each client its own refunds under the ids it
    /// was given.
    pub async fn ids_by_vendor_reference(
        &self,
        provider: &str,
        references: &[String],
    ) -> Result<Vec<(String, String, String)>, StorageError> {
        let _timed = LedgerOp::IdsByVendorReference.timed();
        if references.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (0..references.len())
            .map(|i| format!("${}", i + 2))
            .collect();
        let sql = format!(
            "SELECT id, client, vendor_reference FROM refunds WHERE provider = $1 AND vendor_reference IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(provider);
        for reference in references {
            query = query.bind(reference);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("vendor_reference")?,
                    r.try_get("id")?,
                    r.try_get("client")?,
                ))
            })
            .collect()
    }

    /// Vendor references already matched to ledger refunds of `provider`, so one vendor
    /// refund never settles two of ours.
    pub async fn claimed_vendor_references(
        &self,
        provider: &str,
    ) -> Result<Vec<String>, StorageError> {
        let _timed = LedgerOp::ClaimedVendorReferences.timed();
        let rows = sqlx::query("SELECT vendor_reference FROM refunds WHERE provider = $1 AND vendor_reference IS NOT NULL")
            .bind(provider)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                r.try_get::<String, _>("vendor_reference")
                    .map_err(StorageError::from)
            })
            .collect()
    }
}
