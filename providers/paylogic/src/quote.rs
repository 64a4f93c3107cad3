//! A Paylogic quote, from the order's refunds (`GET /refunds?order=..`, the list's own
//! reads). Paylogic is lookup-only: a create would be refused whatever the body, and its
//! refund reads show what was refunded (per ticket entry of each refund's breakdown), never
//! what was paid, so paid and refundable are said to be unknowable.

use refund_provider::vendor_decimal::out_of_range;
use refund_provider::{
    Balance, Forecast, LineKind, ProviderError, Quote, QuoteLine, Refund, RefundStatus, Unknowable,
};

/// Fills `quote` from the order's `refunds` (read just now); `refusal` is the create's. A
/// total refunded beyond the decimal range is the vendor's numbers not adding up.
pub fn fill(
    quote: &mut Quote,
    refunds: &[Refund],
    refusal: &ProviderError,
) -> Result<(), ProviderError> {
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
    // The completed refunds' amounts, summed while they share one currency (`None` when
    // they do not: no total is shown).
    let mut refunded: Option<Option<Balance>> = Some(None);
    for b in refunds
        .iter()
        .filter(|r| r.status == RefundStatus::Succeeded)
        .filter_map(|r| r.amount.map(Balance::from))
    {
        refunded = match refunded {
            Some(None) => Some(Some(b)),
            Some(Some(a)) if a.currency() == b.currency() => {
                let sum = a.value().checked_add(b.value()).ok_or_else(|| {
                    out_of_range("the total refunded of the order's completed refunds")
                })?;
                Balance::new(sum, a.currency()).ok().map(Some)
            }
            _ => None,
        };
    }
    quote.totals.refunded = refunded.flatten();
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use refund_provider::rust_decimal::Decimal;
    use refund_provider::{
        Capabilities, Currency, ErrorKind, InstanceName, Money, RefundRequest, Target, VendorRef,
    };

    fn completed(uid: &str, amount: Money) -> Refund {
        let instance = InstanceName::new("pl").unwrap();
        let mut r = Refund::new(
            &instance,
            "paylogic",
            VendorRef::new(uid),
            RefundStatus::Succeeded,
            Target::default(),
        );
        r.amount = Some(amount);
        r
    }

    fn quote_of(refunds: &[Refund]) -> Result<Quote, ProviderError> {
        let request = RefundRequest::default();
        let mut q = Quote::new(
            &InstanceName::new("pl").unwrap(),
            "paylogic",
            &Capabilities::none(),
            &request,
        );
        fill(&mut q, refunds, &ProviderError::unsupported("lookup only"))?;
        Ok(q)
    }

    #[test]
    fn completed_refunds_are_totalled_and_an_overflow_is_a_bad_response() {
        let eur = |v: &str| Money::parse(v, Currency::EUR).unwrap();
        let q = quote_of(&[completed("a", eur("6.50")), completed("b", eur("3.50"))]).unwrap();
        assert_eq!(q.totals.refunded.unwrap().to_string(), "10.00 EUR");
        let huge = Money::new(Decimal::MAX.trunc(), Currency::ISK).unwrap();
        let e = quote_of(&[completed("a", huge), completed("b", huge)]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadResponse);
        assert!(e.message.contains("do not add up"), "{}", e.message);
    }
}
