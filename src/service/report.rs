//! What a batch looks like from outside: counts by status, amounts refunded per currency,
//! the current rate and an estimate of the time left; and its items, page by page.

use std::collections::BTreeMap;

use refund_provider::rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::storage::batches::{BatchRow, ItemView};
use crate::storage::now_ms;

/// Items finished within this window make the current rate.
const RATE_WINDOW_MS: i64 = 10_000;

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchReport {
    pub id: String,
    /// `open` (items left), `done`, or `canceled`.
    pub status: String,
    pub item_count: i64,
    /// Items by status: `queued`, `in_flight`, `canceled`, or their refund's status.
    pub counts: BTreeMap<String, u64>,
    /// Sum of succeeded refunds, per currency, as exact decimal strings.
    pub refunded: BTreeMap<String, String>,
    /// Items finished per second over the last ten seconds.
    pub rate_per_second: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_seconds_left: Option<f64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An item's status as reported.
pub fn item_status(item: &ItemView) -> String {
    match item.state.as_str() {
        "queued" => "queued".into(),
        "claimed" => "in_flight".into(),
        "canceled" => "canceled".into(),
        _ => item
            .refund_status
            .clone()
            .unwrap_or_else(|| "unknown".into()),
    }
}

pub fn report(batch: &BatchRow, items: &[ItemView]) -> BatchReport {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut refunded: BTreeMap<String, Decimal> = BTreeMap::new();
    for item in items {
        let status = item_status(item);
        if matches!(status.as_str(), "succeeded" | "partially_succeeded") {
            if let (Some(value), Some(currency)) = (&item.amount_value, &item.amount_currency) {
                if let Ok(value) = value.parse::<Decimal>() {
                    *refunded.entry(currency.clone()).or_default() += value;
                }
            }
        }
        *counts.entry(status).or_default() += 1;
    }
    let since = now_ms() - RATE_WINDOW_MS;
    let recent = items
        .iter()
        .filter(|i| i.finished_at.is_some_and(|t| t >= since))
        .count();
    let rate = recent as f64 * 1000.0 / RATE_WINDOW_MS as f64;
    let left =
        counts.get("queued").copied().unwrap_or(0) + counts.get("in_flight").copied().unwrap_or(0);
    BatchReport {
        id: batch.id.clone(),
        status: batch.status.clone(),
        item_count: batch.item_count,
        counts,
        refunded: refunded
            .into_iter()
            .map(|(c, v)| (c, v.to_string()))
            .collect(),
        rate_per_second: rate,
        estimated_seconds_left: (rate > 0.0)
            .then(|| left as f64 / rate)
            .or((left == 0).then_some(0.0)),
        created_at: batch.created_at,
        updated_at: batch.updated_at,
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
    /// Tries made; more than one only when earlier ones were proven not applied.
    pub attempts: i64,
}

pub fn item_report(item: &ItemView) -> ItemReport {
    ItemReport {
        seq: item.seq,
        provider: item.provider.clone(),
        request: serde_json::from_str(&item.body).unwrap_or(serde_json::Value::Null),
        status: item_status(item),
        refund_id: item.refund_id.clone(),
        attempts: item.attempts + 1,
    }
}
