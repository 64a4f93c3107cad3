//! The vendor reference of an iVvy refund, which `get` parses back:
//! `venue/<venueId>/booking/<bookingId>/refunds/<invoiceId>:<refundId>[,<invoiceId>:<refundId>...]`
//! (one pair per invoice the refund was spread over, in iVvy's order).

use refund_provider::{ErrorKind, ProviderError, VendorRef};

use crate::wire::{Id, RefundPair};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IvvyRef {
    pub venue: i64,
    pub booking: i64,
    pub pairs: Vec<RefundPair>,
}

impl IvvyRef {
    pub fn to_vendor_ref(&self) -> VendorRef {
        let pairs: Vec<String> = self
            .pairs
            .iter()
            .map(|p| format!("{}:{}", p.invoice_id, p.refund_id))
            .collect();
        VendorRef::new(format!(
            "venue/{}/booking/{}/refunds/{}",
            self.venue,
            self.booking,
            pairs.join(",")
        ))
    }

    /// Parses a reference made by `to_vendor_ref`; anything else is `NotFound` (an id we
    /// did not mint names no refund).
    pub fn parse(vendor_ref: &VendorRef) -> Result<Self, ProviderError> {
        Self::parse_str(vendor_ref.as_str()).ok_or_else(|| {
            ProviderError::new(
                ErrorKind::NotFound,
                "this id does not name an iVvy refund made or listed by the gateway",
            )
        })
    }

    fn parse_str(value: &str) -> Option<Self> {
        let mut parts = value.split('/');
        let (venue_kw, venue, booking_kw, booking, refunds_kw, pairs) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        if parts.next().is_some()
            || (venue_kw, booking_kw, refunds_kw) != ("venue", "booking", "refunds")
        {
            return None;
        }
        let pairs = pairs
            .split(',')
            .map(|pair| {
                let (invoice, refund) = pair.split_once(':')?;
                Some(RefundPair {
                    invoice_id: Id(parse_id(invoice)?),
                    refund_id: Id(parse_id(refund)?),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(IvvyRef {
            venue: parse_id(venue)?,
            booking: parse_id(booking)?,
            pairs,
        })
    }

    /// The invoices this refund touches, each once, in first-seen order.
    pub fn invoices(&self) -> Vec<Id> {
        let mut seen = Vec::new();
        for pair in &self.pairs {
            if !seen.contains(&pair.invoice_id) {
                seen.push(pair.invoice_id);
            }
        }
        seen
    }
}

/// A positive decimal integer, digits only (no sign, no spaces): ids are never negative.
pub fn parse_id(value: &str) -> Option<i64> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok().filter(|v| *v > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(i: i64, r: i64) -> RefundPair {
        RefundPair {
            invoice_id: Id(i),
            refund_id: Id(r),
        }
    }

    #[test]
    fn round_trips() {
        let r = IvvyRef {
            venue: 2,
            booking: 2,
            pairs: vec![pair(1736, 180), pair(1737, 181), pair(1736, 182)],
        };
        let v = r.to_vendor_ref();
        assert_eq!(
            v.as_str(),
            "venue/2/booking/2/refunds/1736:180,1737:181,1736:182"
        );
        assert_eq!(IvvyRef::parse(&v).unwrap(), r);
        assert_eq!(r.invoices(), vec![Id(1736), Id(1737)]);
    }

    #[test]
    fn refuses_anything_else() {
        for bad in [
            "",
            "venue/2/booking/2/refunds/",
            "venue/2/booking/2/refunds/1736",
            "venue/2/booking/2/refunds/1736:x",
            "venue/-2/booking/2/refunds/1:1",
            "venue/2/booking/2/refunds/1:1/extra",
            "order/2/booking/2/refunds/1:1",
            "venue/0/booking/2/refunds/1:1",
            "venue/99999999999999999999/booking/2/refunds/1:1",
        ] {
            let e = IvvyRef::parse(&VendorRef::new(bad)).unwrap_err();
            assert_eq!(e.kind, ErrorKind::NotFound, "{bad}");
        }
    }
}
