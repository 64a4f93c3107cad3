//! Ledger rows: one per refund the gateway makes. A row is written as an **intent** before
//! the vendor is called and completed with the **outcome** after; `settle` is the only
//! place a status changes (a crash's interrupted intents included), and it lets only
//! `pending` and `unknown` rows change, so nothing ever leaves `succeeded`,
//! `partially_succeeded`, `failed` or `canceled`. Why a row is in its status is stored as a
//! typed `StatusReason` (code, message, and the vendor's status, code and words), never as
//! a rendered HTTP answer.

use std::collections::BTreeMap;

use refund_provider::{Money, Refund, RefundStatus, StatusReason, Target};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{events, now_ms, Storage, StorageError};
use crate::storage::observe::LedgerOp;

/// Rows whose vendor call outlived its lease without an outcome, or whose gateway process
/// has ended (`$8`: now).
const INTERRUPTED: &str =
    "status = 'pending' AND in_flight_until IS NOT NULL AND (in_flight_until < $8 \
    OR owner IN (SELECT id FROM gateways WHERE ended_at IS NOT NULL))";

/// What is recorded before the vendor is called.
#[derive(Debug, Clone)]
pub struct Intent {
    pub id: String,
    pub client: String,
    pub provider: String,
    pub provider_kind: String,
    pub target: Target,
    pub amount: Option<Money>,
    pub reason: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub batch_id: Option<String>,
    /// Until when the vendor call may still be running; after that, a row still without
    /// its outcome was interrupted (a crash) and becomes `unknown`.
    pub in_flight_until: i64,
    /// The gateway process making the call: once it has ended, the row was interrupted
    /// whatever its lease says.
    pub owner: Option<String>,
}

/// A status change and what came with it.
#[derive(Debug, Clone)]
pub struct Settlement {
    pub status: RefundStatus,
    /// Why, when the status alone does not say (kept as the row's `status_reason`).
    pub reason: Option<StatusReason>,
    /// The vendor's view of the refund, when it gave one.
    pub refund: Option<Refund>,
    pub resolution_note: Option<String>,
}

impl Settlement {
    /// A status with a reason of our own (no vendor words).
    pub fn because(status: RefundStatus, code: &str, message: impl Into<String>) -> Settlement {
        Settlement {
            status,
            reason: Some(StatusReason {
                code: code.to_string(),
                message: message.into(),
                vendor_status: None,
                vendor_code: None,
                vendor_message: None,
            }),
            refund: None,
            resolution_note: None,
        }
    }

    /// The vendor's own view, with its status.
    pub fn from_vendor(refund: Refund) -> Settlement {
        Settlement {
            status: refund.status,
            reason: None,
            refund: Some(refund),
            resolution_note: None,
        }
    }
}

/// Which rows a settlement applies to.
#[derive(Debug, Clone, Copy)]
pub enum Settle<'a> {
    /// One refund, if it is still `pending` or `unknown`.
    Refund(&'a str),
    /// Every `pending` row whose vendor call outlived its lease without an outcome, or
    /// whose gateway process has ended: it stopped (or lost the database) mid-call.
    Interrupted,
}

/// The vendor's part of a status reason, as stored in `vendor_error`. Older rows stored a
/// whole problem body there; the aliases read those too.
#[derive(Debug, Default, Serialize, Deserialize)]
struct VendorWords {
    #[serde(
        default,
        alias = "vendor_status",
        skip_serializing_if = "Option::is_none"
    )]
    status: Option<u16>,
    #[serde(
        default,
        alias = "vendor_code",
        skip_serializing_if = "Option::is_none"
    )]
    code: Option<String>,
    #[serde(
        default,
        alias = "vendor_message",
        skip_serializing_if = "Option::is_none"
    )]
    message: Option<String>,
}

impl VendorWords {
    fn of(reason: &StatusReason) -> Option<VendorWords> {
        let words = VendorWords {
            status: reason.vendor_status,
            code: reason.vendor_code.clone(),
            message: reason.vendor_message.clone(),
        };
        (words.status.is_some() || words.code.is_some() || words.message.is_some()).then_some(words)
    }
}

/// A ledger row, as read.
#[derive(Debug, Clone)]
pub struct LedgerRow {
    pub id: String,
    pub client: String,
    pub provider: String,
    pub provider_kind: String,
    pub target: Target,
    pub amount: Option<Money>,
    pub reason: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub batch_id: Option<String>,
    pub status: RefundStatus,
    /// Why the row is in its status, when the status alone does not say.
    pub status_reason: Option<StatusReason>,
    pub vendor_reference: Option<String>,
    pub refund: Option<Refund>,
    pub resolution_note: Option<String>,
    pub settle_attempts: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// `GET /v1/refunds` filters over the ledger.
#[derive(Debug, Clone, Default)]
pub struct LedgerFilter {
    /// Only this client's refunds.
    pub client: Option<String>,
    pub provider: Option<String>,
    pub status: Option<RefundStatus>,
    pub batch_id: Option<String>,
    pub created_gte: Option<i64>,
    pub created_lt: Option<i64>,
    pub starting_after: Option<String>,
}

pub fn status_str(status: RefundStatus) -> &'static str {
    match status {
        RefundStatus::Pending => "pending",
        RefundStatus::Succeeded => "succeeded",
        RefundStatus::PartiallySucceeded => "partially_succeeded",
        RefundStatus::Failed => "failed",
        RefundStatus::Canceled => "canceled",
        RefundStatus::Unknown => "unknown",
    }
}

fn parse_status(value: &str) -> Result<RefundStatus, StorageError> {
    serde_json::from_value(serde_json::Value::String(value.to_string()))
        .map_err(|_| StorageError::Corrupt(format!("status `{value}`")))
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, StorageError> {
    serde_json::from_str(text).map_err(|e| StorageError::Corrupt(format!("{what}: {e}")))
}

pub(super) const COLUMNS: &str = "id, client, provider, provider_kind, target, amount_value, amount_currency, reason, \
    metadata, batch_id, status, status_code, status_detail, vendor_reference, refund, vendor_error, \
    resolution_note, settle_attempts, created_at, updated_at";

pub(super) fn read_row(row: &AnyRow) -> Result<LedgerRow, StorageError> {
    let amount = match (
        row.try_get::<Option<String>, _>("amount_value")?,
        row.try_get::<Option<String>, _>("amount_currency")?,
    ) {
        (Some(value), Some(currency)) => {
            let currency = refund_provider::Currency::from_code(&currency)
                .map_err(|e| StorageError::Corrupt(e.to_string()))?;
            Some(Money::parse(&value, currency).map_err(|e| StorageError::Corrupt(e.to_string()))?)
        }
        _ => None,
    };
    let refund: Option<String> = row.try_get("refund")?;
    let vendor: VendorWords = match row.try_get::<Option<String>, _>("vendor_error")? {
        Some(text) => from_json(&text, "vendor_error")?,
        None => VendorWords::default(),
    };
    let status_reason = row
        .try_get::<Option<String>, _>("status_code")?
        .map(|code| -> Result<StatusReason, StorageError> {
            Ok(StatusReason {
                code,
                message: row
                    .try_get::<Option<String>, _>("status_detail")?
                    .unwrap_or_default(),
                vendor_status: vendor.status,
                vendor_code: vendor.code.clone(),
                vendor_message: vendor.message.clone(),
            })
        })
        .transpose()?;
    Ok(LedgerRow {
        id: row.try_get("id")?,
        client: row.try_get("client")?,
        provider: row.try_get("provider")?,
        provider_kind: row.try_get("provider_kind")?,
        target: from_json(&row.try_get::<String, _>("target")?, "target")?,
        amount,
        reason: row.try_get("reason")?,
        metadata: from_json(&row.try_get::<String, _>("metadata")?, "metadata")?,
        batch_id: row.try_get("batch_id")?,
        status: parse_status(&row.try_get::<String, _>("status")?)?,
        status_reason,
        vendor_reference: row.try_get("vendor_reference")?,
        refund: refund.map(|r| from_json(&r, "refund")).transpose()?,
        resolution_note: row.try_get("resolution_note")?,
        settle_attempts: row.try_get("settle_attempts")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Storage {
    /// Records the intent. Committed before the vendor is called.
    pub async fn insert_intent(&self, intent: &Intent) -> Result<(), StorageError> {
        let _timed = LedgerOp::InsertIntent.timed();
        let mut tx = self.pool.begin().await?;
        self.insert_intent_in(&mut tx, intent).await?;
        tx.commit().await?;
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
            Settle::Refund(id) => self.settle_row(id, false, s).await,
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
                    changed += self.settle_row(&id, true, s).await?;
                }
                Ok(changed)
            }
        }
    }

    /// Settles row `id` if it is open (and, with `interrupted`, still interrupted).
    async fn settle_row(
        &self,
        id: &str,
        interrupted: bool,
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
        events::record_refund(&mut tx, &outbox, id).await?;
        tx.commit().await?;
        super::observe::settled(
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
        let cursor = match &filter.starting_after {
            Some(id) => match self.get_refund(id).await? {
                Some(row) => Some((row.created_at, row.id)),
                None => return Ok(Vec::new()),
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
