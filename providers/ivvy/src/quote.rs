//! An iVvy quote, from reads only (`invoice?action=getInvoiceList`, then `getInvoice` for
//! each of the booking's invoices): a line per invoice (paid `amountPaid`, refunded the sum
//! of its `refunds[]`, refundable the difference), and what a create would do. The create
//! needs an amount (`request::amount_of`, the create's own check); iVvy then spreads it
//! over the invoices by rules it does not publish, so the quote says so.

use refund_provider::rust_decimal::Decimal;
use refund_provider::vendor_decimal::{checked_sum, out_of_range};
use refund_provider::{
    AmountFrom, Balance, Currency, Forecast, LineKind, ProviderError, Quote, QuoteLine,
    RefundRequest, Unknowable,
};

use crate::mapping::{invoice_currency, invoice_status_name};
use crate::request;
use crate::wire::Invoice;

/// Decision (vendors.md is silent on iVvy's own rule): what is refundable of an invoice is
/// what was paid of it minus what was refunded of it (refund amounts by magnitude), never
/// below zero; of a booking, the sum over its invoices. `None` when the invoice does not
/// say what was paid; a sum or difference beyond the decimal range is a `BadResponse`.
pub fn refundable(invoice: &Invoice) -> Result<Option<Decimal>, ProviderError> {
    let Some(paid) = invoice.amount_paid else {
        return Ok(None);
    };
    let left = paid
        .checked_sub(refunded(invoice)?)
        .ok_or_else(|| out_of_range(format!("what is refundable of invoice {}", invoice.id)))?;
    Ok(Some(left.max(Decimal::ZERO)))
}

fn refunded(invoice: &Invoice) -> Result<Decimal, ProviderError> {
    checked_sum(invoice.refunds.iter().map(|r| r.amount_refunded.abs()))
        .ok_or_else(|| out_of_range(format!("the sum of invoice {}'s refunds", invoice.id)))
}

/// Fills `quote` from the booking's `invoices` (read just now) for `request`.
pub fn fill(
    quote: &mut Quote,
    invoices: &[Invoice],
    request: &RefundRequest,
    currency: Currency,
) -> Result<(), ProviderError> {
    let mut odd = Vec::new();
    for invoice in invoices {
        let currency = invoice_currency(invoice, currency)?;
        let mut balance = |value: Decimal, what: &str| match Balance::new(value, currency) {
            Ok(b) => Some(b),
            Err(e) => {
                odd.push(format!(
                    "{what} of invoice {}: iVvy shows {value} ({e})",
                    invoice.id
                ));
                None
            }
        };
        let mut line = QuoteLine::new(LineKind::Invoice, invoice.id.to_string());
        let charged = invoice
            .total_cost
            .map(|t| format!(", total cost {} {currency}", t.normalize()))
            .unwrap_or_default();
        line.description = Some(format!(
            "invoice {} ({}{charged})",
            invoice.id,
            invoice_status_name(invoice.current_status)
        ));
        line.paid = invoice.amount_paid.and_then(|p| balance(p, "amountPaid"));
        line.refunded = balance(refunded(invoice)?, "refunds");
        line.refundable = refundable(invoice)?.and_then(|r| balance(r, "refundable"));
        quote.lines.push(line);
    }
    quote.total_lines(LineKind::Invoice)?;
    for message in odd {
        quote.cannot_know(Unknowable::Refundable, message);
    }
    if invoices.iter().any(|i| i.amount_paid.is_none()) {
        quote.cannot_know(
            Unknowable::Refundable,
            "an invoice of the booking does not say what was paid of it",
        );
    }

    quote.create = match request::amount_of(request) {
        Err(e) => Forecast::refused(&e),
        Ok(amount) => match quote.totals.refundable {
            Some(total) if amount.value() <= total.value() => Forecast::Refund {
                amount,
                amount_from: AmountFrom::Requested,
                payment: None,
            },
            Some(total) => Forecast::VendorDecides {
                reason: format!(
                    "{amount} is more than the {total} the booking's invoices show as refundable \
                     (paid minus refunded): iVvy refuses more than the booking's total payable \
                     (24146) or applies only part (24148), by its own rules"
                ),
            },
            None => Forecast::VendorDecides {
                reason: "what is refundable of the booking is not known (see cannot_know); iVvy \
                         decides whether it takes the amount"
                    .into(),
            },
        },
    };
    quote.notes.push(
        "Decision: an invoice's refundable is what was paid of it minus its refunds; iVvy \
         does not publish its own rule"
            .into(),
    );
    quote.cannot_know(
        Unknowable::Spread,
        "iVvy spreads one refund over the booking's invoices by its own rules; the refund's \
         lines are known from its answer",
    );
    quote.cannot_know(
        Unknowable::VendorAcceptance,
        "iVvy checks the amount against the booking's total payable itself; the gateway \
         sends it as asked",
    );
    quote.cannot_know(
        Unknowable::TicketFate,
        "iVvy bookings have invoices, not tickets",
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use refund_provider::{Capabilities, InstanceName, Money, Target};

    fn invoice(fixture: &str) -> Invoice {
        let exchange = refund_provider::fixture::Exchange::parse("i", fixture);
        serde_json::from_value(exchange.response_body().clone()).unwrap()
    }

    fn quote_of(amount: Option<&str>) -> Quote {
        let invoices = [
            invoice(include_str!("../../../fixtures/ivvy/get-invoice-1736.json")),
            invoice(include_str!("../../../fixtures/ivvy/get-invoice-1737.json")),
        ];
        let aud = Currency::from_code("AUD").unwrap();
        let request = RefundRequest {
            target: Target {
                venue: Some("2".into()),
                booking: Some("2".into()),
                ..Target::default()
            },
            amount: amount.map(|a| Money::parse(a, aud).unwrap()),
            reason: None,
            metadata: Default::default(),
            gateway_reference: None,
        };
        let mut q = Quote::new(
            &InstanceName::new("iv").unwrap(),
            "ivvy",
            &Capabilities::none(),
            &request,
        );
        fill(&mut q, &invoices, &request, aud).unwrap();
        q
    }

    #[test]
    fn amounts_that_overflow_fail_the_quote_as_a_bad_response() {
        let max = "79228162514264337593543950335";
        let aud = Currency::from_code("AUD").unwrap();
        let request = RefundRequest::default();
        // Refunds of one invoice whose sum overflows; paid minus refunded that does; and
        // two invoices whose paid amounts cannot be totalled.
        for invoices in [
            format!(
                r#"[{{"id": 1, "currency": "AUD", "amountPaid": 1, "refunds":
                    [{{"id": 1, "amountRefunded": {max}}}, {{"id": 2, "amountRefunded": -{max}}}]}}]"#
            ),
            format!(
                r#"[{{"id": 1, "currency": "AUD", "amountPaid": -{max}, "refunds":
                    [{{"id": 1, "amountRefunded": 5}}]}}]"#
            ),
            format!(
                r#"[{{"id": 1, "currency": "AUD", "amountPaid": {max}}},
                    {{"id": 2, "currency": "AUD", "amountPaid": {max}}}]"#
            ),
        ] {
            let invoices: Vec<Invoice> = serde_json::from_str(&invoices).unwrap();
            let mut q = Quote::new(
                &InstanceName::new("iv").unwrap(),
                "ivvy",
                &Capabilities::none(),
                &request,
            );
            let e = fill(&mut q, &invoices, &request, aud).unwrap_err();
            assert_eq!(
                e.kind,
                refund_provider::ErrorKind::BadResponse,
                "{invoices:?}"
            );
        }
    }

    #[test]
    fn invoices_become_lines_and_an_amount_is_needed() {
        let q = quote_of(None);
        assert_eq!(q.lines.len(), 2);
        assert_eq!(q.lines[0].refunded.unwrap().to_string(), "150.00 AUD");
        assert_eq!(q.lines[0].refundable.unwrap().to_string(), "0.00 AUD");
        assert!(
            matches!(&q.create, Forecast::Refused { pointer, .. } if pointer.as_deref() == Some("/amount"))
        );
        assert!(q.says_unknowable(Unknowable::Spread));
        let total = q.totals.refundable.unwrap();
        let beyond = quote_of(Some(&(total.value() + Decimal::ONE).to_string()));
        assert!(matches!(beyond.create, Forecast::VendorDecides { .. }));
    }
}
