//! What a provider can do, as plain data: the gateway checks it before calling a provider
//! (so an unsupported operation never reaches a vendor), `GET /v1/providers` shows it, and
//! the contract suite uses it to pick the cases that apply.

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ErrorKind, ProviderError};
use crate::money::Currency;
use crate::request::RefundRequest;

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

/// What a caller asks of a provider; each is switched on by its flag in `Capabilities`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Get,
    List,
}

impl Capabilities {
    pub fn supports(&self, operation: Operation) -> bool {
        match operation {
            Operation::Create => self.create,
            Operation::Get => self.get,
            Operation::List => self.list,
        }
    }

    /// Refuses an operation the provider does not declare, before any vendor code runs.
    /// `who` names the instance and its kind for the message.
    pub fn require(&self, operation: Operation, who: &str) -> Result<(), ProviderError> {
        if self.supports(operation) {
            return Ok(());
        }
        let what = match operation {
            Operation::Create => "create refunds",
            Operation::Get => "look refunds up",
            Operation::List => "list refunds",
        };
        Err(ProviderError::unsupported(format!("{who} cannot {what}")))
    }

    /// The canonical rules of a create that follow from what the provider declares: the
    /// operation itself, an amount where the vendor cannot refund "everything left", and a
    /// currency the vendor refunds in. Checked once, by the gateway, for the API and for
    /// batch items alike; vendor crates keep only the rules that need the vendor's data.
    pub fn check_create(&self, request: &RefundRequest, who: &str) -> Result<(), ProviderError> {
        self.require(Operation::Create, who)?;
        match &request.amount {
            None if !self.full_refund_without_amount && !self.vendor_computed_amounts => Err(
                ProviderError::invalid("/amount", "this provider needs an amount"),
            ),
            Some(money)
                if !self.currencies.is_empty() && !self.currencies.contains(&money.currency()) =>
            {
                let accepted: Vec<&str> = self.currencies.iter().map(Currency::code).collect();
                Err(ProviderError::new(
                    ErrorKind::CurrencyNotSupported,
                    format!(
                        "this provider refunds in {} only, not {}",
                        accepted.join(", "),
                        money.currency()
                    ),
                )
                .at("/amount/currency"))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Money, Target};

    fn request(amount: Option<&str>, currency: Currency) -> RefundRequest {
        RefundRequest {
            target: Target::default(),
            amount: amount.map(|v| Money::parse(v, currency).unwrap()),
            reason: None,
            metadata: Default::default(),
            gateway_reference: None,
        }
    }

    #[test]
    fn create_rules_come_from_the_declared_capabilities() {
        let eur_only = Capabilities {
            create: true,
            currencies: vec![Currency::EUR],
            ..Capabilities::none()
        };
        assert!(eur_only
            .check_create(&request(Some("1.00"), Currency::EUR), "x")
            .is_ok());
        let isk = eur_only
            .check_create(&request(Some("100"), Currency::ISK), "x")
            .unwrap_err();
        assert_eq!(isk.kind, ErrorKind::CurrencyNotSupported);
        assert_eq!(isk.pointer.as_deref(), Some("/amount/currency"));
        let missing = eur_only
            .check_create(&request(None, Currency::EUR), "x")
            .unwrap_err();
        assert_eq!(
            (missing.kind, missing.pointer.as_deref()),
            (ErrorKind::InvalidRequest, Some("/amount"))
        );
        let read_only = Capabilities {
            get: true,
            ..Capabilities::none()
        };
        let refused = read_only
            .check_create(&request(Some("1.00"), Currency::EUR), "`p` (paylogic)")
            .unwrap_err();
        assert_eq!(refused.kind, ErrorKind::Unsupported);
        assert!(refused.message.contains("`p` (paylogic) cannot create"));
        assert!(read_only.require(Operation::Get, "p").is_ok());
    }
}
