//! A batch as people watch it, read from the ledger's counts (so every gateway sharing the
//! ledger shows the same progress, and a 100,000-item batch costs a grouped query, not a
//! load of its items): the report, each instance's pace against its limit, the failures;
//! a client's batches page by page; and the items for export.

use std::collections::BTreeMap;

use refund_provider::rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::report::{batch_status, item_status, BatchReport, RATE_WINDOW_MS};
use super::{Client, Refunds, ServiceError};
use crate::storage::batches::{BatchRow, ItemView};
use crate::storage::now_ms;

/// Failures listed with a batch's progress at most.
const MAX_FAILURES_SHOWN: i64 = 50;

/// One provider instance's pace on a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstancePace {
    pub provider: String,
    /// This batch's items of the instance finished per second over the last ten seconds.
    pub rate_per_second: f64,
    /// The instance's configured outbound limit per gateway (absent: unlimited).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_per_second: Option<f64>,
    /// Items of the instance still queued or in flight.
    pub left: u64,
}

/// An item that failed, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemFailure {
    pub seq: i64,
    pub provider: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A batch's report with what a progress page shows besides.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchProgress {
    #[serde(flatten)]
    pub report: BatchReport,
    /// Per provider instance of the batch.
    pub instances: Vec<InstancePace>,
    /// The first failed items (up to 50), with their reasons.
    pub failures: Vec<ItemFailure>,
}

/// A batch in a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchSummary {
    pub id: String,
    /// `open` while items wait or are in flight, `done` when every item was worked,
    /// `canceled`. (The batch's own report tells open outcomes apart.)
    pub status: String,
    pub item_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One item as the export lists it.
pub struct ExportItem {
    pub seq: i64,
    pub provider: String,
    /// The item's create body, as submitted.
    pub request: serde_json::Value,
    pub status: String,
    pub refund_id: Option<String>,
    /// The refund's amount, or the amount asked for while there is no refund yet.
    pub amount: Option<(String, String)>,
    pub vendor_reference: Option<String>,
    pub failure_reason: Option<String>,
}

/// The sum of succeeded refunds per currency, from the ledger's grouped counts. Amounts
/// are stored exact, but a client may submit up to `Decimal::MAX` per item and a batch
/// has many items: `+` and `*` would panic ("Addition overflowed") in the middle of a GET,
/// so every step is checked and a currency whose sum cannot be held is reported as not
/// computable, never as a wrong number.
#[derive(Debug, Default)]
struct RefundedTotals {
    /// Per currency: the sum so far, or `None` once it cannot be computed.
    sums: BTreeMap<String, Option<Decimal>>,
}

impl RefundedTotals {
    /// Adds `items` refunds of `value` (the ledger's decimal text) in `currency`.
    fn add(&mut self, currency: &str, value: &str, items: u64) {
        let sum = self
            .sums
            .entry(currency.to_string())
            .or_insert(Some(Decimal::ZERO));
        *sum = sum.and_then(|sum| {
            let value = value.parse::<Decimal>().ok()?;
            sum.checked_add(value.checked_mul(Decimal::from(items))?)
        });
    }

    /// The exact sums as decimal strings, and the currencies whose sum is not computable.
    fn finish(self) -> (BTreeMap<String, String>, Vec<String>) {
        let mut sums = BTreeMap::new();
        let mut not_computable = Vec::new();
        for (currency, sum) in self.sums {
            match sum {
                Some(sum) => {
                    sums.insert(currency, sum.to_string());
                }
                None => not_computable.push(currency),
            }
        }
        (sums, not_computable)
    }
}

impl Refunds {
    /// The report counted in the ledger, and each instance's items finished recently.
    pub(super) async fn tally_report(
        &self,
        batch: &BatchRow,
    ) -> Result<(BatchReport, BTreeMap<String, (i64, u64)>), ServiceError> {
        let tally = self.storage.batch_tally(&batch.id).await?;
        let since = now_ms() - RATE_WINDOW_MS;
        let recent = self.storage.finished_since(&batch.id, since).await?;
        let needs_operator = |p: &str| self.needs_operator(p);
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        let mut refunded = RefundedTotals::default();
        // Per provider: (finished recently, left).
        let mut per_provider: BTreeMap<String, (i64, u64)> = BTreeMap::new();
        for row in tally {
            let view = ItemView {
                seq: 0,
                provider: row.provider.clone(),
                body: String::new(),
                state: row.state,
                refund_id: None,
                refund_status: row.refund_status,
                amount_value: row.amount_value,
                amount_currency: row.amount_currency,
                attempts: 0,
                finished_at: None,
                failure: row.failed.then(String::new),
            };
            let status = item_status(&view, &needs_operator);
            let n = row.items.max(0) as u64;
            if matches!(status.as_str(), "succeeded" | "partially_succeeded") {
                if let (Some(value), Some(currency)) = (&view.amount_value, &view.amount_currency) {
                    refunded.add(currency, value, n);
                }
            }
            let entry = per_provider.entry(row.provider).or_default();
            if matches!(status.as_str(), "queued" | "in_flight") {
                entry.1 += n;
            }
            *counts.entry(status).or_default() += n;
        }
        let mut finished = 0;
        for (provider, n) in recent {
            finished += n;
            per_provider.entry(provider).or_default().0 = n;
        }
        let rate = finished as f64 * 1000.0 / RATE_WINDOW_MS as f64;
        let left = counts.get("queued").copied().unwrap_or(0)
            + counts.get("in_flight").copied().unwrap_or(0);
        let (refunded, refunded_not_computable) = refunded.finish();
        let report = BatchReport {
            id: batch.id.clone(),
            status: batch_status(&batch.status, &counts),
            item_count: batch.item_count,
            counts,
            refunded,
            refunded_not_computable,
            rate_per_second: rate,
            estimated_seconds_left: (rate > 0.0)
                .then(|| left as f64 / rate)
                .or((left == 0).then_some(0.0)),
            created_at: batch.created_at,
            updated_at: batch.updated_at,
        };
        Ok((report, per_provider))
    }

    /// The batch's progress: its report, each instance's pace against its limit, failures.
    pub async fn batch_progress(
        &self,
        client: &Client,
        id: &str,
    ) -> Result<BatchProgress, ServiceError> {
        let batch = self.own_batch(client, id).await?;
        let (report, per_provider) = self.tally_report(&batch).await?;
        let instances = per_provider
            .into_iter()
            .map(|(provider, (recent, left))| InstancePace {
                limit_per_second: self
                    .instances
                    .get(&provider)
                    .and_then(|i| i.traffic.limit.state().per_second),
                rate_per_second: recent as f64 * 1000.0 / RATE_WINDOW_MS as f64,
                left,
                provider,
            })
            .collect();
        let failures = self
            .storage
            .batch_failures(id, MAX_FAILURES_SHOWN)
            .await?
            .into_iter()
            .map(|f| ItemFailure {
                seq: f.seq,
                provider: f.provider,
                refund_id: f.refund_id,
                reason: f.reason,
            })
            .collect();
        Ok(BatchProgress {
            report,
            instances,
            failures,
        })
    }

    /// `client`'s batches, newest first, after batch `after`; and whether more follow.
    pub async fn list_batches(
        &self,
        client: &Client,
        status: Option<&str>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<(Vec<BatchSummary>, bool), ServiceError> {
        let mut rows = self
            .storage
            .list_batches(client.name(), status, after, limit + 1)
            .await?;
        let has_more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let summaries = rows
            .into_iter()
            .map(|b| BatchSummary {
                id: b.id,
                status: b.status,
                item_count: b.item_count,
                created_at: b.created_at,
                updated_at: b.updated_at,
            })
            .collect();
        Ok((summaries, has_more))
    }

    /// A page of a batch's items after `after_seq`, as the export shows them.
    pub async fn export_items(
        &self,
        client: &Client,
        id: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<ExportItem>, ServiceError> {
        self.own_batch(client, id).await?;
        let rows = self.storage.export_page(id, after_seq, limit).await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let request: serde_json::Value =
                    serde_json::from_str(&row.body).unwrap_or(serde_json::Value::Null);
                let view = ItemView {
                    seq: row.seq,
                    provider: row.provider.clone(),
                    body: String::new(),
                    state: row.state,
                    refund_id: row.refund_id.clone(),
                    refund_status: row.refund_status.clone(),
                    amount_value: row.amount_value.clone(),
                    amount_currency: row.amount_currency.clone(),
                    attempts: 0,
                    finished_at: None,
                    failure: row.failure.clone(),
                };
                let status = item_status(&view, &|p| self.needs_operator(p));
                let asked = || {
                    let amount = request.get("amount")?;
                    Some((
                        amount.get("value")?.as_str()?.to_string(),
                        amount.get("currency")?.as_str()?.to_string(),
                    ))
                };
                let amount = match (row.amount_value, row.amount_currency) {
                    (Some(value), Some(currency)) => Some((value, currency)),
                    _ => asked(),
                };
                let failure_reason = row.failure.or(if status == "failed" {
                    row.status_detail
                } else {
                    None
                });
                ExportItem {
                    seq: row.seq,
                    provider: row.provider,
                    request,
                    status,
                    refund_id: row.refund_id,
                    amount,
                    vendor_reference: row.vendor_reference,
                    failure_reason,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refunded_sums_are_exact_per_currency() {
        let mut totals = RefundedTotals::default();
        totals.add("EUR", "10.50", 3);
        totals.add("EUR", "0.10", 1);
        totals.add("ISK", "1500", 2);
        let (sums, not_computable) = totals.finish();
        assert_eq!(sums["EUR"], "31.60");
        assert_eq!(sums["ISK"], "3000");
        assert!(not_computable.is_empty());
    }

    #[test]
    fn a_sum_beyond_the_decimal_range_is_not_computable_not_a_panic() {
        let max = Decimal::MAX.to_string();
        let mut totals = RefundedTotals::default();
        // Many items of one large amount (the product overflows)...
        totals.add("EUR", "1000000000000000000000000000.00", 100);
        totals.add("EUR", "1.00", 1);
        // ...and two rows whose sum overflows.
        totals.add("ISK", &max, 1);
        totals.add("ISK", &max, 1);
        totals.add("KWD", "2.500", 4);
        let (sums, not_computable) = totals.finish();
        assert_eq!(not_computable, vec!["EUR".to_string(), "ISK".to_string()]);
        assert!(!sums.contains_key("EUR") && !sums.contains_key("ISK"));
        assert_eq!(sums["KWD"], "10.000");
    }
}
