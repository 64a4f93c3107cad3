//! A Paylogic quote, from the order's refunds (`GET /refunds?order=..`, the list's own
//! reads). Paylogic is lookup-only: a create would be refused whatever the body, and its
//! refund reads show what was refunded (per ticket entry of each refund's breakdown), never
//! what was paid, so paid and refundable are said to be unknowable.

use refund_provider::{
    Balance, Forecast, LineKind, ProviderError, Quote, QuoteLine, Refund, RefundStatus, Unknowable,
};

/// Fills `quote` from the order's `refunds` (read just now); `refusal` is the create's.
pub fn fill(quote: &mut Quote, refunds: &[Refund], refusal: &ProviderError) {
    for refund in refunds {
        let uid = refund.vendor_reference.as_str();
        let done = refund.status == RefundStatus::Succeeded;
        let state = serde_json::to_value(refund.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        for (i, part) in refund.lines.iter().enumerate() {
            let (kind, reference) = match part.kind {
                LineKind::Ticket => (LineKind::Ticket, format!("{uid}/by_tickets/{i}")),
                _ => (LineKind::Fee, format!("{uid}/other")),
            };
            let mut line = QuoteLine::new(kind, reference);
            let what = part.description.clone().unwrap_or_default();
            line.description = Some(format!("{what} (refund {uid}, {state})"));
            // Only a completed refund has refunded anything yet.
            line.refunded = part.amount.filter(|_| done).map(Balance::from);
            quote.lines.push(line);
        }
    }
    quote.totals.refunded = refunds
        .iter()
        .filter(|r| r.status == RefundStatus::Succeeded)
        .filter_map(|r| r.amount.map(Balance::from))
        .try_fold(None::<Balance>, |acc, b| match acc {
            None => Some(Some(b)),
            Some(a) if a.currency() == b.currency() => {
                Balance::new(a.value() + b.value(), a.currency())
                    .ok()
                    .map(Some)
            }
            Some(_) => None,
        })
        .flatten();
    let pending = refunds.iter().filter(|r| !r.status.is_final()).count();
    if pending > 0 {
        quote.notes.push(format!(
            "{pending} refund(s) of this order are not completed yet; their amounts are not \
             counted as refunded"
        ));
    }
    quote.create = Forecast::refused(refusal);
    let no_order = "Paylogic's refund reads show what was refunded, not what the order paid";
    quote.cannot_know(Unknowable::Paid, no_order);
    quote.cannot_know(Unknowable::Refundable, no_order);
    quote.cannot_know(
        Unknowable::TicketFate,
        "Paylogic's refunds do not say what became of the tickets",
    );
}
