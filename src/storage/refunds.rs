//! Ledger rows: one per refund the gateway makes. A row is written as an **intent** before
//! the vendor is called and completed with the **outcome** after; `settle` is the only
//! place a status changes (a crash's interrupted intents included), and it lets only
//! `pending` and `unknown` rows change, so nothing ever leaves `succeeded`,
//! `partially_succeeded`, `failed` or `canceled`. Why a row is in its status is stored as a
//! typed `StatusReason` (code, message, and the vendor's status, code and words), never as
//! a rendered HTTP answer.
//!
//! This file holds the row and its encoding; `settle.rs` writes (intents and `settle`),
//! `reads.rs` reads.

use std::collections::BTreeMap;

use refund_provider::{Money, Refund, RefundStatus, StatusReason, Target};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::StorageError;

mod reads;
mod settle;

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
    /// A batch's refund proven not applied: settled as `Refund` is, and in the same
    /// transaction its item is queued for a fresh try (within the item's attempts), so no
    /// reader ever sees the item finished in between: a batch `done` that is not.
    NotAppliedBatchRefund(&'a str),
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
