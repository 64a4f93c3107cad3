//! What a refund is about: an order, payment(s), ticket(s), a booking or a whole event.
//! Vendors identify refundable things differently, so the canonical target carries every
//! kind of identifier and each provider says (in its capabilities) which it needs; the
//! `require_*` helpers turn a missing one into an error that points at the field.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ProviderError;

/// The thing to refund or to list refunds of. All identifiers are opaque strings, even
/// where a vendor documents integers, so no vendor's id format leaks into the contract.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Vendor order id (Ticketmatic order id, Paylogic order URI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    /// Vendor payment ids or references (Ticketmatic payment id, Stubbur payment references).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payments: Vec<String>,
    /// Vendor ticket ids (Fourvenues ticket id, Stubbur ticket token ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tickets: Vec<String>,
    /// Venue id, for vendors whose bookings live under a venue (iVvy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<String>,
    /// Booking id (iVvy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking: Option<String>,
    /// Event id (Stubbur).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// Refund every order of `event` (vendor-native bulk, where the provider advertises it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all_for_event: bool,
}

impl Target {
    /// The single value of an optional field, or a validation error pointing at it.
    pub fn require<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str, ProviderError> {
        match value.as_deref().map(str::trim) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(ProviderError::invalid(
                format!("/target/{field}"),
                format!("this provider needs `target.{field}`"),
            )),
        }
    }

    pub fn require_order(&self) -> Result<&str, ProviderError> {
        Self::require(&self.order, "order")
    }

    pub fn require_booking(&self) -> Result<&str, ProviderError> {
        Self::require(&self.booking, "booking")
    }

    pub fn require_venue(&self) -> Result<&str, ProviderError> {
        Self::require(&self.venue, "venue")
    }

    /// Exactly one ticket: for vendors that refund ticket by ticket.
    pub fn require_one_ticket(&self) -> Result<&str, ProviderError> {
        match self.tickets.as_slice() {
            [one] if !one.trim().is_empty() => Ok(one.trim()),
            [] => Err(ProviderError::invalid(
                "/target/tickets",
                "this provider needs one ticket id in `target.tickets`",
            )),
            _ => Err(ProviderError::invalid(
                "/target/tickets",
                "this provider refunds one ticket per request; send one ticket id",
            )),
        }
    }

    /// At most one payment: for vendors that refund a single payment per request.
    pub fn at_most_one_payment(&self) -> Result<Option<&str>, ProviderError> {
        match self.payments.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.as_str())),
            _ => Err(ProviderError::invalid(
                "/target/payments",
                "this provider refunds one payment per request",
            )),
        }
    }
}
