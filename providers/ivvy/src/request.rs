//! What iVvy needs from a canonical request, checked before any vendor call: a venue and a
//! booking (integer ids), and for a create an amount in the instance's currency.

use refund_provider::{Money, ProviderError, RefundRequest, Target};

use crate::vendor_ref::parse_id;

/// The venue and booking a target names, as iVvy's integer ids. (That the target names
/// nothing else the gateway checked, from the instance's declared target shapes.)
pub fn booking_of(target: &Target) -> Result<(i64, i64), ProviderError> {
    let venue = id_field(target.require_venue()?, "venue")?;
    let booking = id_field(target.require_booking()?, "booking")?;
    Ok((venue, booking))
}

fn id_field(value: &str, field: &str) -> Result<i64, ProviderError> {
    parse_id(value).ok_or_else(|| {
        ProviderError::invalid(
            format!("/target/{field}"),
            format!("`target.{field}` must be an iVvy {field} id (a positive integer)"),
        )
    })
}

/// Decision (lead's notes): iVvy needs an amount, so a create without one is refused
/// (no "refund everything" shortcut). That the amount is in the instance's currency the
/// gateway checked already, from the instance's declared `currencies`.
pub fn amount_of(request: &RefundRequest) -> Result<Money, ProviderError> {
    let amount = request.amount.ok_or_else(|| {
        ProviderError::invalid(
            "/amount",
            "iVvy needs the amount to refund; send `amount` (full refunds without an amount \
             are not supported)",
        )
    })?;
    Ok(amount)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(venue: &str, booking: &str) -> Target {
        Target {
            venue: Some(venue.into()),
            booking: Some(booking.into()),
            ..Target::default()
        }
    }

    #[test]
    fn needs_integer_ids() {
        assert_eq!(booking_of(&target("2", " 7 ")).unwrap(), (2, 7));
        let e = booking_of(&target("abc", "7")).unwrap_err();
        assert_eq!(e.pointer.as_deref(), Some("/target/venue"));
        let e = booking_of(&target("2", "7.5")).unwrap_err();
        assert_eq!(e.pointer.as_deref(), Some("/target/booking"));
        let e = booking_of(&Target::default()).unwrap_err();
        assert_eq!(e.pointer.as_deref(), Some("/target/venue"));
    }

    #[test]
    fn a_booking_is_the_only_target() {
        let caps = crate::capabilities(refund_provider::Currency::from_code("AUD").unwrap());
        let mut t = target("2", "7");
        t.tickets = vec!["x".into()];
        assert_eq!(
            caps.check_list(&t, "ivvy").unwrap_err().pointer.as_deref(),
            Some("/target/tickets")
        );
        assert!(caps.check_list(&target("2", "7"), "ivvy").is_ok());
    }

    #[test]
    fn needs_an_amount() {
        let req = RefundRequest {
            target: target("2", "2"),
            amount: None,
            reason: None,
            metadata: Default::default(),
            gateway_reference: None,
        };
        assert_eq!(
            amount_of(&req).unwrap_err().pointer.as_deref(),
            Some("/amount")
        );
    }
}
