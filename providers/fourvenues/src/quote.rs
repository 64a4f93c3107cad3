//! A Fourvenues quote, from one read of the ticket (`GET /tickets/{id}`): the ticket's
//! line (paid `total_price`, `refunded`, refundable `total_price - refunded`), a line per
//! fee (what it cost; Fourvenues does not say what is refunded of a fee), and what a create
//! would do, decided by the create's own checks in the create's order: whole units first
//! (`amount::vendor_amount`), then `amount::plan` against the ticket.

use refund_provider::rust_decimal::Decimal;
use refund_provider::{
    AmountFrom, Balance, Forecast, LineKind, Money, ProviderError, Quote, QuoteLine, Unknowable,
};

use crate::amount::{self, ticket_currency};
use crate::wire::Ticket;

/// Fills `quote` from `ticket` (read just now) for a create of `requested`; amounts that do
/// not add up within the decimal range are a `BadResponse`.
pub fn fill(
    quote: &mut Quote,
    ticket: &Ticket,
    requested: Option<&Money>,
) -> Result<(), ProviderError> {
    let currency = match ticket_currency(ticket) {
        Ok(c) => c,
        Err(e) => {
            quote.create = Forecast::refused(&e);
            quote.cannot_know(Unknowable::Paid, e.message.clone());
            quote.cannot_know(Unknowable::Refundable, e.message);
            return Ok(());
        }
    };
    let mut odd = Vec::new();
    let mut balance = |value: Decimal, what: &str| match Balance::new(value, currency) {
        Ok(b) => Some(b),
        Err(e) => {
            odd.push(format!("{what}: Fourvenues shows {value} ({e})"));
            None
        }
    };
    let mut line = QuoteLine::new(LineKind::Ticket, ticket.id.clone());
    line.description = ticket.price.as_ref().and_then(|p| p.name.clone());
    line.paid = ticket.total_price.and_then(|t| balance(t, "total_price"));
    line.refunded = balance(ticket.refunded.unwrap_or(Decimal::ZERO), "refunded");
    // Without `total_price` nothing is refundable that is known (said below); with it, an
    // overflow is the answer's fault and fails the quote.
    let refundable = match ticket.total_price {
        Some(_) => Some(amount::refundable(ticket)?),
        None => None,
    };
    line.refundable = refundable.and_then(|r| balance(r, "refundable"));
    quote.lines.push(line);
    for (who, fee) in ticket.fees.iter().flatten() {
        let mut line = QuoteLine::new(LineKind::Fee, format!("{}/fees/{who}", ticket.id));
        line.description = Some(format!("{who} fee"));
        line.paid = fee.and_then(|f| balance(f, who));
        quote.lines.push(line);
    }
    quote.total_lines(LineKind::Ticket)?;
    for message in odd {
        quote.cannot_know(Unknowable::Refundable, message);
    }
    if ticket.total_price.is_none() {
        quote.cannot_know(
            Unknowable::Paid,
            "the vendor's ticket has no `total_price`, so neither what was paid nor what is \
             refundable is known",
        );
    }

    let decided = match requested {
        Some(money) => amount::vendor_amount(money).and_then(|_| amount::plan(requested, ticket)),
        None => amount::plan(None, ticket),
    };
    quote.create = match decided {
        Ok(plan) => Forecast::Refund {
            amount: plan.money,
            amount_from: if plan.whole_remaining {
                AmountFrom::WholeRemaining
            } else {
                AmountFrom::Requested
            },
            payment: None,
        },
        Err(e) => Forecast::refused(&e),
    };
    quote.notes.push(
        "Decision (vendors.md): refundable = total_price - refunded; Fourvenues takes whole \
         euros only and the gateway never rounds"
            .into(),
    );
    quote
        .notes
        .push("Fourvenues documents that the first refund of a ticket voids it".into());
    if !ticket.fees.iter().flatten().collect::<Vec<_>>().is_empty() {
        quote.cannot_know(
            Unknowable::Refunded,
            "per fee: Fourvenues reports refunds per ticket, not what of each fee is refunded",
        );
    }
    quote.cannot_know(
        Unknowable::VendorAcceptance,
        "Fourvenues documents no refund rule beyond the ticket's amounts; it may still refuse \
         for reasons of its own",
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use refund_provider::{Capabilities, Currency, InstanceName, RefundRequest, Target};

    fn ticket(fixture: &str) -> Ticket {
        let exchange = refund_provider::fixture::Exchange::parse("t", fixture);
        serde_json::from_value(exchange.response_body()["data"].clone()).unwrap()
    }

    fn quote_of(t: &Ticket, amount: Option<&str>) -> Quote {
        let request = RefundRequest {
            target: Target {
                tickets: vec![t.id.clone()],
                ..Target::default()
            },
            amount: amount.map(|a| Money::parse(a, Currency::EUR).unwrap()),
            reason: None,
            metadata: Default::default(),
            gateway_reference: None,
        };
        let mut q = Quote::new(
            &InstanceName::new("fv").unwrap(),
            "fourvenues",
            &Capabilities::none(),
            &request,
        );
        fill(&mut q, t, request.amount.as_ref()).unwrap();
        q
    }

    #[test]
    fn a_fresh_ticket_refunds_only_whole_euros() {
        let t = ticket(include_str!(
            "../../../fixtures/fourvenues/get-ticket-unrefunded.json"
        ));
        let q = quote_of(&t, None);
        let json = serde_json::to_value(&q).unwrap();
        assert_eq!(json["lines"][0]["paid"]["value"], "16.10", "{json}");
        assert_eq!(json["lines"][0]["refunded"]["value"], "0.00");
        assert_eq!(json["lines"][0]["refundable"]["value"], "16.10");
        assert_eq!(json["lines"][1]["kind"], "fee");
        // No amount: the whole 16.10 would be sent, which is not whole euros.
        assert_eq!(json["create"]["outcome"], "refused");
        assert_eq!(json["create"]["code"], "amount_not_representable");
        assert_eq!(json["create"]["pointer"], "/amount");
        let frac = quote_of(&t, Some("10.50"));
        assert!(
            matches!(&frac.create, Forecast::Refused { code, pointer, .. }
            if code == "amount_not_representable" && pointer.as_deref() == Some("/amount/value"))
        );
        let whole = quote_of(&t, Some("16"));
        assert!(
            matches!(&whole.create, Forecast::Refund { amount, amount_from: AmountFrom::Requested, .. }
            if amount.to_string() == "16.00 EUR")
        );
        let over = quote_of(&t, Some("17"));
        assert!(
            matches!(&over.create, Forecast::Refused { code, .. } if code == "amount_exceeds_refundable")
        );
    }

    #[test]
    fn amounts_that_overflow_fail_the_quote_as_a_bad_response() {
        let t: Ticket = serde_json::from_str(
            r#"{"_id": "x", "payment_currency": "EUR",
                "total_price": 79228162514264337593543950335, "refunded": -1}"#,
        )
        .unwrap();
        let request = RefundRequest::default();
        let mut q = Quote::new(
            &InstanceName::new("fv").unwrap(),
            "fourvenues",
            &Capabilities::none(),
            &request,
        );
        let e = fill(&mut q, &t, None).unwrap_err();
        assert_eq!(e.kind, refund_provider::ErrorKind::BadResponse);
    }

    #[test]
    fn a_partly_refunded_ticket_shows_what_is_left() {
        let t = ticket(include_str!(
            "../../../fixtures/fourvenues/get-ticket-partly-refunded.json"
        ));
        let q = quote_of(&t, None);
        assert_eq!(q.totals.refunded.unwrap().to_string(), "6.00 EUR");
        assert_eq!(q.totals.refundable.unwrap().to_string(), "10.00 EUR");
        assert!(
            matches!(&q.create, Forecast::Refund { amount, amount_from: AmountFrom::WholeRemaining, .. }
            if amount.to_string() == "10.00 EUR")
        );
    }
}
