//! A ledger row as the canonical refund clients see: the vendor's latest view where there
//! is one, with the ledger's id, status and status reason on top, and the caller's own
//! fields (reason, metadata, creation time) kept as the caller gave them: whatever the
//! vendor says of those goes into `vendor_*` fields.

use refund_provider::chrono::{DateTime, TimeZone, Utc};
use refund_provider::{InstanceName, Refund, RefundId, VendorRef};

use super::refunds::LedgerRow;

fn time(ms: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single()
}

pub fn refund_of(row: &LedgerRow) -> Refund {
    let instance = InstanceName::new(&row.provider).unwrap_or_else(|_| {
        InstanceName::new("unknown").expect("`unknown` is a valid instance name")
    });
    let mut refund = row.refund.clone().unwrap_or_else(|| {
        Refund::new(
            &instance,
            &row.provider_kind,
            VendorRef::none(),
            row.status,
            row.target.clone(),
        )
    });
    refund.id = RefundId::from_string(row.id.clone());
    refund.status = row.status;
    refund.status_reason = row.status_reason.clone();
    refund.metadata = row.metadata.clone();
    refund.batch_id = row.batch_id.clone();
    match (refund.amount, row.amount) {
        (None, asked) => refund.amount = asked,
        (Some(applied), Some(asked)) if applied != asked => refund.requested_amount = Some(asked),
        _ => {}
    }
    // The caller's words and time stand; the vendor's go beside them.
    let vendor_reason = refund.reason.take();
    refund.reason = row.reason.clone();
    refund.vendor_reason = vendor_reason.filter(|v| refund.reason.as_ref() != Some(v));
    refund.vendor_created_at = refund.created_at.take().or(refund.vendor_created_at);
    refund.created_at = time(row.created_at);
    refund.updated_at = time(row.updated_at).max(refund.updated_at);
    if let Some(note) = &row.resolution_note {
        refund
            .notes
            .push(format!("resolved by an operator: {note}"));
    }
    refund.raw = None;
    refund
}
