//! Choosing what a create refunds, from the order read just before it: which payment (the
//! named one, or the one we pick), how much of it is still refundable, and the amount to
//! send. Pure functions of the order and the request, so every rule is unit-tested.

use refund_provider::rust_decimal::Decimal;
use refund_provider::vendor_decimal::{checked_sum, out_of_range};
use refund_provider::{Currency, ErrorKind, Money, ProviderError};

use crate::wire::{Order, Payment};

/// A payment of the order chosen for a refund.
#[derive(Debug, Clone, PartialEq)]
pub struct Chosen<'a> {
    pub payment: &'a Payment,
    /// Its amount minus what was already refunded of it.
    pub refundable: Decimal,
    /// True when the request named no payment and the gateway picked this one.
    pub picked: bool,
}

/// Decision (vendors.md, Ticketmatic [?] sign of a refund payment's amount): the refunded
/// amount of a refund payment is the absolute value of its `amount`, and what is still
/// refundable of a payment is its amount minus the absolute value of the sum of its refunds.
/// A sum or difference beyond the decimal range is the vendor's numbers not adding up.
pub fn refundable(order: &Order, payment: &Payment) -> Result<Decimal, ProviderError> {
    let refunds = order
        .payments
        .iter()
        .filter(|p| p.refunds() == Some(payment.id))
        .map(|p| p.amount);
    checked_sum(refunds)
        .and_then(|refunded| payment.amount.checked_sub(refunded.abs()))
        .ok_or_else(|| {
            out_of_range(format!(
                "what is refundable of payment {} of order {} (its amount minus its refunds)",
                payment.id, order.orderid
            ))
        })
}

/// The payment to refund: the named one, or, when none is named, the one picked by
/// [`pick_rule`].
pub fn choose_payment(order: &Order, named: Option<i64>) -> Result<Chosen<'_>, ProviderError> {
    match named {
        Some(id) => {
            let payment = order.payments.iter().find(|p| p.id == id).ok_or_else(|| {
                ProviderError::new(
                    ErrorKind::NotFound,
                    format!("order {} has no payment {id}", order.orderid),
                )
                .at("/target/payments/0")
            })?;
            if let Some(original) = payment.refunds() {
                return Err(ProviderError::invalid(
                    "/target/payments/0",
                    format!("payment {id} is itself a refund (of payment {original}); name the payment to refund"),
                ));
            }
            let refundable = refundable(order, payment)?;
            if refundable <= Decimal::ZERO {
                return Err(ProviderError::new(
                    ErrorKind::NothingRefundable,
                    format!(
                        "payment {id} of order {} is already fully refunded",
                        order.orderid
                    ),
                )
                .at("/target/payments/0"));
            }
            Ok(Chosen {
                payment,
                refundable,
                picked: false,
            })
        }
        None => pick_rule(order)?.ok_or_else(|| {
            ProviderError::new(
                ErrorKind::NothingRefundable,
                format!("order {} has no payment left to refund", order.orderid),
            )
            .at("/target/order")
        }),
    }
}

/// How [`pick_rule`] picks, in words (for notes and quotes).
pub const PICK_RULE: &str =
    "the order's payment with the most left to refund; on a tie, the lowest payment id";

/// Decision (lead, issue 2 item 5): when the target names no payment, refund the order's
/// payment (not itself a refund) with the most still refundable; on a tie, the lowest
/// payment id (the earliest). The response says which in `notes` and `vendor_refs`.
pub fn pick_rule(order: &Order) -> Result<Option<Chosen<'_>>, ProviderError> {
    let mut candidates = Vec::new();
    for payment in order.payments.iter().filter(|p| p.refunds().is_none()) {
        candidates.push(Chosen {
            payment,
            refundable: refundable(order, payment)?,
            picked: true,
        });
    }
    Ok(candidates
        .into_iter()
        .filter(|c| c.refundable > Decimal::ZERO)
        .min_by(|a, b| {
            b.refundable
                .cmp(&a.refundable)
                .then(a.payment.id.cmp(&b.payment.id))
        }))
}

/// What a create of `requested` on `order` refunds: the payment and the amount. The one
/// decision both the create and the quote take, so they cannot disagree.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan<'a> {
    pub chosen: Chosen<'a>,
    pub amount: Money,
}

pub fn plan<'a>(
    order: &'a Order,
    named: Option<i64>,
    requested: Option<&Money>,
    currency: Currency,
) -> Result<Plan<'a>, ProviderError> {
    let chosen = choose_payment(order, named)?;
    let amount = amount_to_refund(requested, &chosen, currency)?;
    Ok(Plan { chosen, amount })
}

/// The amount to refund: the requested one if it is within what is refundable, or all of
/// the refundable remainder when none was requested.
pub fn amount_to_refund(
    requested: Option<&Money>,
    chosen: &Chosen<'_>,
    currency: Currency,
) -> Result<Money, ProviderError> {
    match requested {
        Some(amount) if amount.value() > chosen.refundable => Err(ProviderError::new(
            ErrorKind::AmountExceedsRefundable,
            format!(
                "{amount} is more than the {} {currency} still refundable on payment {}",
                chosen.refundable.normalize(),
                chosen.payment.id
            ),
        )
        .at("/amount/value")),
        Some(amount) => Ok(*amount),
        None => Money::from_vendor(chosen.refundable, currency).map_err(|e| {
            ProviderError::new(
                ErrorKind::AmountNotRepresentable,
                format!(
                    "the refundable remainder of payment {} ({}) is not a valid {currency} amount ({e}); send an explicit amount",
                    chosen.payment.id, chosen.refundable
                ),
            )
            .at("/amount")
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(payments: &str) -> Order {
        serde_json::from_str(&format!(
            r#"{{"orderid": 1269434, "payments": {payments}}}"#
        ))
        .unwrap()
    }

    fn eur(v: &str) -> Money {
        Money::parse(v, Currency::EUR).unwrap()
    }

    #[test]
    fn refundable_subtracts_refunds_whatever_their_sign() {
        let o = order(
            r#"[{"id": 125, "amount": 50.0}, {"id": 126, "amount": -20.0, "refundpaymentid": 125},
                {"id": 127, "amount": 5.5, "refundpaymentid": 125}]"#,
        );
        // |-20 + 5.5| = 14.5: the Decision takes the absolute value of the sum.
        assert_eq!(
            refundable(&o, &o.payments[0]).unwrap(),
            "35.5".parse::<Decimal>().unwrap()
        );
    }

    #[test]
    fn amounts_that_overflow_are_bad_responses_not_panics() {
        // Two refunds whose sum leaves the decimal range, and a payment minus a refund
        // that does: a plan of either is the vendor's numbers not adding up.
        for payments in [
            r#"[{"id": 1, "amount": 50.0},
                {"id": 2, "amount": -79228162514264337593543950335, "refundpaymentid": 1},
                {"id": 3, "amount": -79228162514264337593543950335, "refundpaymentid": 1}]"#,
            r#"[{"id": 1, "amount": -79228162514264337593543950335},
                {"id": 2, "amount": 1, "refundpaymentid": 1}]"#,
        ] {
            let o = order(payments);
            for named in [None, Some(1)] {
                let e = plan(&o, named, Some(&eur("10")), Currency::EUR).unwrap_err();
                assert_eq!(e.kind, ErrorKind::BadResponse, "{payments} {named:?}");
                assert!(e.message.contains("do not add up"), "{}", e.message);
            }
        }
    }

    #[test]
    fn picks_the_payment_with_most_left_then_lowest_id() {
        let o = order(
            r#"[{"id": 131, "amount": 30.0}, {"id": 132, "amount": 20.0},
                {"id": 133, "amount": -15.0, "refundpaymentid": 131}, {"id": 134, "amount": 20.0}]"#,
        );
        let c = choose_payment(&o, None).unwrap();
        assert_eq!((c.payment.id, c.picked), (132, true));
        assert_eq!(c.refundable, Decimal::new(20, 0));
        let o = order(
            r#"[{"id": 5, "amount": 10.0}, {"id": 6, "amount": -10.0, "refundpaymentid": 5}]"#,
        );
        assert_eq!(
            choose_payment(&o, None).unwrap_err().kind,
            ErrorKind::NothingRefundable
        );
    }

    #[test]
    fn named_payments_are_checked() {
        let o = order(
            r#"[{"id": 125, "amount": 50.0}, {"id": 126, "amount": -50.0, "refundpaymentid": 125}]"#,
        );
        let e = choose_payment(&o, Some(999)).unwrap_err();
        assert_eq!(
            (e.kind, e.pointer.as_deref()),
            (ErrorKind::NotFound, Some("/target/payments/0"))
        );
        assert_eq!(
            choose_payment(&o, Some(126)).unwrap_err().kind,
            ErrorKind::InvalidRequest
        );
        assert_eq!(
            choose_payment(&o, Some(125)).unwrap_err().kind,
            ErrorKind::NothingRefundable
        );
    }

    #[test]
    fn amounts_are_checked_against_refundable() {
        let o = order(r#"[{"id": 125, "amount": 50.0}]"#);
        let c = choose_payment(&o, Some(125)).unwrap();
        assert_eq!(
            amount_to_refund(Some(&eur("20.00")), &c, Currency::EUR).unwrap(),
            eur("20")
        );
        assert_eq!(
            amount_to_refund(Some(&eur("50.00")), &c, Currency::EUR).unwrap(),
            eur("50")
        );
        let e = amount_to_refund(Some(&eur("50.01")), &c, Currency::EUR).unwrap_err();
        assert_eq!(
            (e.kind, e.pointer.as_deref()),
            (ErrorKind::AmountExceedsRefundable, Some("/amount/value"))
        );
        assert_eq!(
            amount_to_refund(None, &c, Currency::EUR).unwrap(),
            eur("50.00")
        );
        let odd = order(r#"[{"id": 125, "amount": 10.125}]"#);
        let c = choose_payment(&odd, None).unwrap();
        assert_eq!(
            amount_to_refund(None, &c, Currency::EUR).unwrap_err().kind,
            ErrorKind::AmountNotRepresentable
        );
    }
}
