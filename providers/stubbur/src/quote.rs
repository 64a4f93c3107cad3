//! A Stubbur quote. Stubbur documents no read endpoint and computes refund amounts itself,
//! so a quote sends nothing to Stubbur: it says what a create with the body would send (or
//! why it would be refused, by the create's own body check `mapping::to_vendor_request`)
//! and, explicitly, that paid, refunded, refundable and the amount cannot be known in
//! advance. Nothing is guessed.

use refund_provider::{Forecast, Quote, RefundRequest, Unknowable};

use crate::mapping;

pub fn fill(quote: &mut Quote, request: &RefundRequest) {
    quote.create = match mapping::to_vendor_request(request) {
        Err(e) => Forecast::refused(&e),
        Ok(_) => Forecast::VendorDecides {
            reason: "Stubbur computes what it refunds itself (whole orders or tickets); the \
                     amount is known only from its answer"
                .into(),
        },
    };
    let no_read = "Stubbur documents no endpoint to read orders or refunds";
    quote.cannot_know(Unknowable::Paid, no_read);
    quote.cannot_know(Unknowable::Refunded, no_read);
    quote.cannot_know(Unknowable::Refundable, no_read);
    quote.cannot_know(
        Unknowable::Amount,
        "Stubbur computes refund amounts itself and takes none",
    );
    quote.cannot_know(
        Unknowable::TicketFate,
        "Stubbur reports the seats a refund freed in its answer only",
    );
    quote.notes.push("no request was sent to Stubbur".into());
}

#[cfg(test)]
mod tests {
    use super::*;
    use refund_provider::{Currency, InstanceName, Money, Target};

    fn quote_of(amount: Option<&str>) -> Quote {
        let request = RefundRequest {
            target: Target {
                tickets: vec!["tk-1001-0101".into()],
                ..Target::default()
            },
            amount: amount.map(|a| Money::parse(a, Currency::ISK).unwrap()),
            reason: None,
            metadata: Default::default(),
            gateway_reference: None,
        };
        let mut q = Quote::new(
            &InstanceName::new("sb").unwrap(),
            "stubbur",
            &crate::capabilities(),
            &request,
        );
        fill(&mut q, &request);
        q
    }

    #[test]
    fn says_what_it_cannot_know_and_refuses_an_amount_like_the_create() {
        let q = quote_of(None);
        assert!(q.lines.is_empty());
        assert!(matches!(q.create, Forecast::VendorDecides { .. }));
        for what in [
            Unknowable::Paid,
            Unknowable::Refunded,
            Unknowable::Refundable,
            Unknowable::Amount,
        ] {
            assert!(q.says_unknowable(what), "{what:?}");
        }
        assert!(q.rules.vendor_computed_amounts);
        let with_amount = quote_of(Some("4500"));
        assert!(
            matches!(&with_amount.create, Forecast::Refused { pointer, .. }
            if pointer.as_deref() == Some("/amount"))
        );
    }
}
