//! Money at the Fourvenues edge: which amount to refund and how to write it. Fourvenues
//! takes a JSON integer of whole currency units; this file decides, exactly (rust_decimal),
//! whether a canonical amount can be sent as one and never rounds.

use refund_provider::rust_decimal::Decimal;
use refund_provider::vendor_decimal::out_of_range;
use refund_provider::{Currency, ErrorKind, Money, ProviderError};

use crate::wire::Ticket;

/// The currencies this provider refunds in. Fourvenues tickets carry `payment_currency`;
/// only EUR is seen in the vendor's documentation.
pub fn supported_currencies() -> Vec<Currency> {
    vec![Currency::EUR]
}

/// Decision (vendors.md): Fourvenues amounts are whole currency units (euros, not cents)
/// and the refund field is an integer, so an amount is sent as its whole number of units;
/// one with a non-zero fractional part is refused (`amount_not_representable`, pointer
/// `/amount/value`), never rounded.
pub fn vendor_amount(amount: &Money) -> Result<i64, ProviderError> {
    if let Some(units) = amount.whole_units() {
        return Ok(units);
    }
    let message = if amount.value().fract().is_zero() {
        format!("{amount} is too large to send to Fourvenues")
    } else {
        format!(
            "Fourvenues refunds whole {} only; {} has a fractional part and is never \
             rounded: send a whole amount such as \"{}\"",
            amount.currency(),
            amount.value(),
            amount.value().trunc()
        )
    };
    Err(ProviderError::new(ErrorKind::AmountNotRepresentable, message).at("/amount/value"))
}

/// Decision (vendors.md): refundable remaining = `total_price - refunded` (a missing or
/// null `refunded` is zero; a negative difference is zero). A difference beyond the decimal
/// range is the vendor's numbers not adding up: `BadResponse`.
pub fn refundable(ticket: &Ticket) -> Result<Decimal, ProviderError> {
    let total = ticket.total_price.ok_or_else(|| {
        ProviderError::new(
            ErrorKind::BadResponse,
            "the vendor's ticket has no `total_price`, so what is refundable is unknown",
        )
    })?;
    let refunded = ticket.refunded.unwrap_or(Decimal::ZERO);
    let remaining = total.checked_sub(refunded).ok_or_else(|| {
        out_of_range(format!(
            "ticket {}'s `total_price` {total} minus `refunded` {refunded}",
            ticket.id
        ))
    })?;
    Ok(remaining.max(Decimal::ZERO))
}

/// The ticket's currency (`payment_currency`).
pub fn ticket_currency(ticket: &Ticket) -> Result<Currency, ProviderError> {
    let code = ticket.payment_currency.as_deref().unwrap_or_default();
    Currency::from_code(code).map_err(|e| {
        ProviderError::new(
            ErrorKind::BadResponse,
            format!("the vendor's ticket has no usable `payment_currency` ({e})"),
        )
    })
}

/// The refund to send, decided before any refund request.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The whole units to send as `amount`.
    pub units: i64,
    /// The same amount as canonical money.
    pub money: Money,
    /// No amount was given: the remaining refundable was taken.
    pub whole_remaining: bool,
}

/// Checks a requested amount against the ticket (currency, refundable remaining, whole
/// units), or, when none is given, takes the whole remaining — which must itself be whole.
pub fn plan(requested: Option<&Money>, ticket: &Ticket) -> Result<Plan, ProviderError> {
    let currency = ticket_currency(ticket)?;
    let remaining = refundable(ticket)?;
    if let Some(money) = requested {
        if money.currency() != currency {
            return Err(ProviderError::new(
                ErrorKind::CurrencyNotSupported,
                format!(
                    "this ticket was paid in {currency}; the refund must be in {currency}, not {}",
                    money.currency()
                ),
            )
            .at("/amount/currency"));
        }
    }
    if remaining.is_zero() {
        return Err(ProviderError::new(
            ErrorKind::NothingRefundable,
            "this ticket is already fully refunded",
        ));
    }
    match requested {
        Some(money) => {
            let units = vendor_amount(money)?;
            if money.value() > remaining {
                return Err(ProviderError::new(
                    ErrorKind::AmountExceedsRefundable,
                    format!(
                        "{money} is more than the {remaining} {currency} still refundable on this ticket"
                    ),
                )
                .at("/amount/value"));
            }
            Ok(Plan {
                units,
                money: *money,
                whole_remaining: false,
            })
        }
        None => {
            if !remaining.fract().is_zero() {
                return Err(ProviderError::new(
                    ErrorKind::AmountNotRepresentable,
                    format!(
                        "no amount was given, so the whole remaining {remaining} {currency} would be \
                         refunded, but Fourvenues refunds whole {currency} only and the gateway \
                         never rounds: send an explicit whole amount (at most {})",
                        remaining.trunc()
                    ),
                )
                .at("/amount"));
            }
            let money = Money::from_vendor(remaining, currency).map_err(|e| {
                ProviderError::new(
                    ErrorKind::BadResponse,
                    format!("the ticket's refundable remaining {remaining} is not an amount ({e})"),
                )
            })?;
            let units = vendor_amount(&money)?;
            Ok(Plan {
                units,
                money,
                whole_remaining: true,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(total: &str, refunded: Option<&str>) -> Ticket {
        serde_json::from_value(serde_json::json!({
            "_id": "t1",
            "payment_currency": "EUR",
            "total_price": total.parse::<f64>().unwrap(),
            "refunded": refunded.map(|r| r.parse::<f64>().unwrap()),
        }))
        .unwrap()
    }

    fn eur(v: &str) -> Money {
        Money::parse(v, Currency::EUR).unwrap()
    }

    #[test]
    fn whole_amounts_are_sent_as_integers_and_fractions_refused() {
        assert_eq!(vendor_amount(&eur("10.00")).unwrap(), 10);
        let e = vendor_amount(&eur("10.50")).unwrap_err();
        assert_eq!(e.kind, ErrorKind::AmountNotRepresentable);
        assert_eq!(e.pointer.as_deref(), Some("/amount/value"));
        assert!(e.message.contains("10.50") && e.message.contains("\"10\""));
        let huge = eur("100000000000000000000");
        assert!(vendor_amount(&huge)
            .unwrap_err()
            .message
            .contains("too large"));
    }

    #[test]
    fn refundable_is_total_minus_refunded() {
        assert_eq!(
            refundable(&ticket("16.1", Some("10"))).unwrap().to_string(),
            "6.1"
        );
        assert_eq!(
            refundable(&ticket("16.1", None)).unwrap().to_string(),
            "16.1"
        );
        assert!(refundable(&ticket("5", Some("6"))).unwrap().is_zero());
    }

    #[test]
    fn plans_partial_full_and_refusals() {
        let p = plan(Some(&eur("10")), &ticket("16.1", None)).unwrap();
        assert_eq!((p.units, p.whole_remaining), (10, false));
        let full = plan(None, &ticket("16", Some("6"))).unwrap();
        assert_eq!(
            (full.units, full.money, full.whole_remaining),
            (10, eur("10"), true)
        );

        let over = plan(Some(&eur("7")), &ticket("16.1", Some("10"))).unwrap_err();
        assert_eq!(over.kind, ErrorKind::AmountExceedsRefundable);
        for (total, refunded) in [("16.1", "10"), ("16.125", "10")] {
            let frac_rest = plan(None, &ticket(total, Some(refunded))).unwrap_err();
            assert_eq!(frac_rest.kind, ErrorKind::AmountNotRepresentable);
            assert_eq!(frac_rest.pointer.as_deref(), Some("/amount"));
        }
        let done = plan(None, &ticket("16", Some("16"))).unwrap_err();
        assert_eq!(done.kind, ErrorKind::NothingRefundable);
        let isk = Money::parse("10", Currency::ISK).unwrap();
        let cur = plan(Some(&isk), &ticket("16", None)).unwrap_err();
        assert_eq!(cur.kind, ErrorKind::CurrencyNotSupported);
        assert_eq!(cur.pointer.as_deref(), Some("/amount/currency"));
    }

    #[test]
    fn amounts_that_overflow_are_bad_responses_not_panics() {
        let t: Ticket = serde_json::from_str(
            r#"{"_id": "x", "payment_currency": "EUR",
                "total_price": 79228162514264337593543950335, "refunded": -1}"#,
        )
        .unwrap();
        let e = plan(None, &t).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadResponse);
        assert!(e.message.contains("do not add up"), "{}", e.message);
        let e = plan(Some(&eur("10")), &t).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadResponse);
    }

    #[test]
    fn unreadable_tickets_are_bad_responses() {
        let t: Ticket = serde_json::from_str(r#"{"_id": "x", "total_price": 3}"#).unwrap();
        assert_eq!(plan(None, &t).unwrap_err().kind, ErrorKind::BadResponse);
    }
}
