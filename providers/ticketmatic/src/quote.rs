//! A Ticketmatic quote, from one read of the order: a line per payment (paid, refunded by
//! its refund payments, still refundable), per ticket and per order fee (what each cost;
//! Ticketmatic records refunds against payments, so not what is refunded of them), and what
//! a create would do, decided by `selection::plan`, the create's own decision.

use refund_provider::rust_decimal::Decimal;
use refund_provider::vendor_decimal::out_of_range;
use refund_provider::{
    AmountFrom, Balance, Currency, Forecast, LineKind, PaymentChoice, ProviderError, Quote,
    QuoteLine, RefundRequest, Unknowable,
};

use crate::selection::{self, PICK_RULE};
use crate::wire::Order;

/// Fills `quote` from `order` (read just now) for `request` (`named` its payment, if any);
/// amounts that do not add up within the decimal range are a `BadResponse`.
pub fn fill(
    quote: &mut Quote,
    order: &Order,
    named: Option<i64>,
    request: &RefundRequest,
    currency: Currency,
) -> Result<(), ProviderError> {
    let mut odd = Vec::new();
    let mut balance = |value: Decimal, what: String| match Balance::new(value, currency) {
        Ok(b) => Some(b),
        Err(e) => {
            odd.push(format!("{what}: Ticketmatic shows {value} ({e})"));
            None
        }
    };
    for payment in order.payments.iter().filter(|p| p.refunds().is_none()) {
        let refundable = selection::refundable(order, payment)?;
        let refunded = payment
            .amount
            .checked_sub(refundable)
            .ok_or_else(|| out_of_range(format!("what is refunded of payment {}", payment.id)))?;
        let mut line = QuoteLine::new(LineKind::Payment, payment.id.to_string());
        line.paid = balance(payment.amount, format!("payment {}", payment.id));
        line.refunded = balance(refunded, format!("refunded of payment {}", payment.id));
        line.refundable = balance(
            refundable.max(Decimal::ZERO),
            format!("refundable of payment {}", payment.id),
        );
        quote.lines.push(line);
    }
    for ticket in &order.tickets {
        let mut line = QuoteLine::new(LineKind::Ticket, ticket.id.to_string());
        line.paid = ticket
            .price
            .and_then(|p| balance(p, format!("price of ticket {}", ticket.id)));
        if let Some(charge) = ticket.servicecharge.filter(|c| !c.is_zero()) {
            line.description = Some(format!("service charge {} {currency}", charge.normalize()));
        }
        quote.lines.push(line);
    }
    for (i, cost) in order.ordercosts.iter().enumerate() {
        let reference = cost.servicechargedefinitionid.map_or_else(
            || format!("ordercost/{i}"),
            |id| format!("servicecharge/{id}"),
        );
        let mut line = QuoteLine::new(LineKind::Fee, reference);
        line.description = Some("order fee".into());
        line.paid = balance(cost.amount, format!("order fee {i}"));
        quote.lines.push(line);
    }
    quote.total_lines(LineKind::Payment)?;

    quote.create = match selection::plan(order, named, request.amount.as_ref(), currency) {
        Ok(plan) => Forecast::Refund {
            amount: plan.amount,
            amount_from: if request.amount.is_some() {
                AmountFrom::Requested
            } else {
                AmountFrom::WholeRemaining
            },
            payment: Some(PaymentChoice {
                reference: plan.chosen.payment.id.to_string(),
                picked: plan.chosen.picked,
                rule: plan.chosen.picked.then(|| PICK_RULE.to_string()),
            }),
        },
        Err(e) => Forecast::refused(&e),
    };
    quote.notes.push(
        "Decision (vendors.md): a refund payment's amount counts by its absolute value; a \
         payment's refundable is its amount minus its refunds"
            .into(),
    );
    if !order.tickets.is_empty() || !order.ordercosts.is_empty() {
        quote.cannot_know(
            Unknowable::Refunded,
            "per ticket and per fee: Ticketmatic records refunds against payments, so what is \
             refunded of a ticket or a fee is not shown (see the payment lines)",
        );
    }
    quote.cannot_know(
        Unknowable::TicketFate,
        "Ticketmatic's order does not say what a refund does to its tickets",
    );
    quote.cannot_know(
        Unknowable::VendorAcceptance,
        "Ticketmatic may still refuse a refund for reasons its order does not show \
         (e.g. its payment method); the gateway's own checks pass",
    );
    for message in odd {
        quote.cannot_know(Unknowable::Refundable, message);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use refund_provider::{Capabilities, InstanceName, Money, Target};

    fn order() -> Order {
        let text = include_str!("../../../fixtures/ticketmatic/get-order-two-payments.json");
        let exchange = refund_provider::fixture::Exchange::parse("two", text);
        serde_json::from_value(exchange.response_body().clone()).unwrap()
    }

    fn quote_of(named: Option<i64>, amount: Option<&str>) -> Quote {
        let request = RefundRequest {
            target: Target {
                order: Some("1269436".into()),
                ..Target::default()
            },
            amount: amount.map(|a| Money::parse(a, Currency::EUR).unwrap()),
            reason: None,
            metadata: Default::default(),
            gateway_reference: None,
        };
        let mut q = Quote::new(
            &InstanceName::new("tm").unwrap(),
            "ticketmatic",
            &Capabilities::none(),
            &request,
        );
        fill(&mut q, &order(), named, &request, Currency::EUR).unwrap();
        q
    }

    #[test]
    fn lines_per_payment_ticket_and_totals() {
        let q = quote_of(None, None);
        let json = serde_json::to_value(&q).unwrap();
        let lines = json["lines"].as_array().unwrap();
        assert_eq!(lines.len(), 4, "{json}");
        assert_eq!(lines[0]["reference"], "131");
        assert_eq!(lines[0]["paid"]["value"], "30.00");
        assert_eq!(lines[0]["refunded"]["value"], "15.00");
        assert_eq!(lines[0]["refundable"]["value"], "15.00");
        assert_eq!(lines[1]["refunded"]["value"], "0.00");
        assert_eq!(lines[2]["kind"], "ticket");
        assert!(lines[2].get("refundable").is_none());
        assert_eq!(json["totals"]["refundable"]["value"], "35.00");
        // The create's own rule: payment 132 has the most left.
        assert_eq!(json["create"]["outcome"], "refund");
        assert_eq!(json["create"]["amount"]["value"], "20.00");
        assert_eq!(json["create"]["payment"]["reference"], "132");
        assert_eq!(json["create"]["payment"]["picked"], true);
        assert!(q.says_unknowable(Unknowable::TicketFate));
    }

    #[test]
    fn amounts_that_overflow_fail_the_quote_as_a_bad_response() {
        let order: Order = serde_json::from_str(
            r#"{"orderid": 1, "payments": [{"id": 1, "amount": -79228162514264337593543950335},
                {"id": 2, "amount": 1, "refundpaymentid": 1}]}"#,
        )
        .unwrap();
        let request = RefundRequest::default();
        let mut q = Quote::new(
            &InstanceName::new("tm").unwrap(),
            "ticketmatic",
            &Capabilities::none(),
            &request,
        );
        let e = fill(&mut q, &order, None, &request, Currency::EUR).unwrap_err();
        assert_eq!(e.kind, refund_provider::ErrorKind::BadResponse);
    }

    #[test]
    fn refusals_are_the_creates() {
        let over = quote_of(Some(131), Some("15.01"));
        assert!(
            matches!(&over.create, Forecast::Refused { code, pointer, .. }
            if code == "amount_exceeds_refundable" && pointer.as_deref() == Some("/amount/value"))
        );
        let missing = quote_of(Some(999), None);
        assert!(matches!(&missing.create, Forecast::Refused { code, .. } if code == "not_found"));
        let named = quote_of(Some(131), Some("15"));
        assert!(
            matches!(&named.create, Forecast::Refund { payment: Some(p), amount_from: AmountFrom::Requested, .. }
            if p.reference == "131" && !p.picked)
        );
    }
}
