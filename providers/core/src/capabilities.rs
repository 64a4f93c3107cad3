//! What a provider can do, as plain data: the gateway checks it before calling a provider
//! (so an unsupported operation never reaches a vendor), `GET /v1/providers` shows it, and
//! the contract suite uses it to pick the cases that apply.

use serde::Serialize;
use utoipa::ToSchema;

use crate::money::Currency;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Capabilities {
    pub create: bool,
    pub get: bool,
    pub list: bool,
    /// Refunds of less than the whole remaining amount.
    pub partial_amounts: bool,
    /// Omitting `amount` refunds everything still refundable.
    pub full_refund_without_amount: bool,
    /// The vendor takes only whole currency units; fractional amounts are refused, never rounded.
    pub whole_units_only: bool,
    /// The vendor computes amounts itself; an explicit amount is refused.
    pub vendor_computed_amounts: bool,
    /// One request refunds many orders (an event-wide refund).
    pub bulk: bool,
    #[schema(value_type = Vec<String>)]
    pub currencies: Vec<Currency>,
    /// Target fields a create needs, as JSON pointers into the create body.
    pub create_target: Vec<&'static str>,
    /// Target fields a list needs (query parameters of `GET /v1/refunds`).
    pub list_target: Vec<&'static str>,
}

impl Capabilities {
    /// Nothing supported: providers start from this and switch on what they do.
    pub fn none() -> Self {
        Capabilities {
            create: false,
            get: false,
            list: false,
            partial_amounts: false,
            full_refund_without_amount: false,
            whole_units_only: false,
            vendor_computed_amounts: false,
            bulk: false,
            currencies: Vec::new(),
            create_target: Vec::new(),
            list_target: Vec::new(),
        }
    }
}
