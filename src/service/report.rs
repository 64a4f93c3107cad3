//! What a batch looks like from outside: counts by status, amounts refunded per currency,
//! the current rate and an estimate of the time left; and its items, page by page.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::storage::batches::ItemView;

/// Items finished within this window make the current rate.
pub(super) const RATE_WINDOW_MS: i64 = 10_000;

/// Where a batch stands, as its items say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    /// Something may still happen: items wait or are in flight, or a refund's outcome is
    /// still unknown (it will be settled by a lookup, and tried again if not applied).
    Open,
    /// Every item's refund is final: nothing more will happen.
    Done,
    /// Nothing more will happen by itself, but some refunds' outcomes are unknown at a
    /// vendor that cannot be read: an operator must settle them (`needs_operator`).
    DoneWithOpenItems,
    /// Stopped: no new item starts; items in flight finish.
    Canceled,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchReport {
    pub id: String,
    pub status: BatchStatus,
    pub item_count: i64,
    /// Items by status: `queued`, `in_flight`, `canceled`, `needs_operator` (an unknown
    /// outcome only an operator can settle), or their refund's status.
    pub counts: BTreeMap<String, u64>,
    /// Sum of succeeded refunds, per currency, as exact decimal strings. A currency whose
    /// sum cannot be computed exactly is absent here and listed in `refunded_not_computable`.
    pub refunded: BTreeMap<String, String>,
    /// Currencies whose sum of succeeded refunds cannot be computed exactly (it is beyond
    /// the range of an exact decimal, about 7.9e28): neither a rounded nor a partial sum is
    /// shown for them. Absent when every sum is known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refunded_not_computable: Vec<String>,
    /// Items finished per second over the last ten seconds.
    pub rate_per_second: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_seconds_left: Option<f64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Whether an unknown outcome at this provider instance can only be settled by an operator
/// (its vendor cannot be read).
pub type NeedsOperator<'a> = &'a dyn Fn(&str) -> bool;

/// An item's status as reported.
pub fn item_status(item: &ItemView, needs_operator: NeedsOperator) -> String {
    match item.state.as_str() {
        "queued" => "queued".into(),
        "claimed" => "in_flight".into(),
        "canceled" => "canceled".into(),
        _ if item.failure.is_some() => "failed".into(),
        _ => match item.refund_status.as_deref() {
            None | Some("unknown") if needs_operator(&item.provider) => "needs_operator".into(),
            None => "unknown".into(),
            Some(status) => status.into(),
        },
    }
}

/// A batch is done only when nothing can still happen to any of its items.
pub(super) fn batch_status(stored: &str, counts: &BTreeMap<String, u64>) -> BatchStatus {
    let any = |status: &str| counts.get(status).is_some_and(|n| *n > 0);
    if stored == "canceled" {
        BatchStatus::Canceled
    } else if any("queued") || any("in_flight") || any("unknown") || any("pending") {
        BatchStatus::Open
    } else if any("needs_operator") {
        BatchStatus::DoneWithOpenItems
    } else {
        BatchStatus::Done
    }
}

/// One item in a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemReport {
    pub seq: i64,
    pub provider: String,
    /// The item as submitted (a canonical create body).
    #[schema(value_type = Object)]
    pub request: serde_json::Value,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
    /// Why the item failed before any refund was made (it could not be read or stored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Tries made; more than one only when earlier ones were proven not applied.
    pub attempts: i64,
}

pub fn item_report(item: &ItemView, needs_operator: NeedsOperator) -> ItemReport {
    ItemReport {
        seq: item.seq,
        provider: item.provider.clone(),
        request: serde_json::from_str(&item.body).unwrap_or(serde_json::Value::Null),
        status: item_status(item, needs_operator),
        refund_id: item.refund_id.clone(),
        failure: item.failure.clone(),
        attempts: item.attempts + 1,
    }
}
