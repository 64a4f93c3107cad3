//! What a provider can do, as plain data: the gateway checks it before calling a provider
//! (so an unsupported operation never reaches a vendor), `GET /v1/providers` shows it, and
//! the contract suite uses it to pick the cases that apply.

use std::fmt;

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ErrorKind, ProviderError};
use crate::money::Currency;
use crate::request::RefundRequest;
use crate::target::Target;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Capabilities {
    pub create: bool,
    pub get: bool,
    pub list: bool,
    /// `POST /v1/refund-quotes`: what is refundable and what a create would do, from reads.
    pub quote: bool,
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
    /// The targets a create accepts (any one of them).
    pub create_targets: Vec<TargetShape>,
    /// The targets a list accepts (query parameters of `GET /v1/refunds`).
    pub list_targets: Vec<TargetShape>,
}

/// One target a provider accepts: the fields it needs, and those it reads as well. A
/// target naming any other field is refused, so a caller who meant another vendor learns
/// it at once, with the field.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TargetShape {
    #[schema(value_type = Vec<String>)]
    pub required: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<String>)]
    pub optional: Vec<&'static str>,
}

impl TargetShape {
    pub fn new(required: &[&'static str]) -> Self {
        TargetShape {
            required: required.to_vec(),
            optional: Vec::new(),
        }
    }

    pub fn or_also(mut self, optional: &[&'static str]) -> Self {
        self.optional = optional.to_vec();
        self
    }

    fn accepts(&self, field: &str) -> bool {
        self.required.contains(&field) || self.optional.contains(&field)
    }

    fn describe(&self) -> String {
        let required: Vec<String> = self.required.iter().map(|f| format!("`{f}`")).collect();
        match self.optional.as_slice() {
            [] => required.join(" + "),
            optional => format!(
                "{} (and optionally {})",
                required.join(" + "),
                optional
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// The target fields that are set.
fn present(target: &Target) -> Vec<&'static str> {
    [
        ("order", target.order.is_some()),
        ("payments", !target.payments.is_empty()),
        ("tickets", !target.tickets.is_empty()),
        ("venue", target.venue.is_some()),
        ("booking", target.booking.is_some()),
        ("event", target.event.is_some()),
        ("all_for_event", target.all_for_event),
    ]
    .into_iter()
    .filter_map(|(field, set)| set.then_some(field))
    .collect()
}

/// Whether `target` fits one of `shapes` (none declared: anything goes), else the field at
/// fault, as a pointer under `/target`.
fn check_target(shapes: &[TargetShape], target: &Target) -> Result<(), ProviderError> {
    if shapes.is_empty() {
        return Ok(());
    }
    let present = present(target);
    let fits = |shape: &TargetShape| {
        shape.required.iter().all(|f| present.contains(f))
            && present.iter().all(|f| shape.accepts(f))
    };
    if shapes.iter().any(fits) {
        return Ok(());
    }
    let takes = shapes
        .iter()
        .map(TargetShape::describe)
        .collect::<Vec<_>>()
        .join("; or ");
    if let Some(foreign) = present
        .iter()
        .find(|f| !shapes.iter().any(|s| s.accepts(f)))
    {
        return Err(ProviderError::invalid(
            format!("/target/{foreign}"),
            format!("this provider has no `target.{foreign}`: it takes {takes}"),
        ));
    }
    match shapes.iter().find(|s| present.iter().all(|f| s.accepts(f))) {
        Some(shape) => {
            let missing = shape
                .required
                .iter()
                .find(|f| !present.contains(f))
                .copied()
                .unwrap_or("");
            Err(ProviderError::invalid(
                format!("/target/{missing}"),
                format!("this provider needs `target.{missing}`: it takes {takes}"),
            ))
        }
        None => Err(ProviderError::invalid(
            "/target",
            format!("these target fields do not go together here: it takes {takes}"),
        )),
    }
}

impl Capabilities {
    /// Nothing supported: providers start from this and switch on what they do.
    pub fn none() -> Self {
        Capabilities {
            create: false,
            get: false,
            list: false,
            quote: false,
            partial_amounts: false,
            full_refund_without_amount: false,
            whole_units_only: false,
            vendor_computed_amounts: false,
            bulk: false,
            currencies: Vec::new(),
            create_targets: Vec::new(),
            list_targets: Vec::new(),
        }
    }
}

/// What a caller asks of a provider; each is switched on by its flag in `Capabilities`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Get,
    List,
    Quote,
}

impl Capabilities {
    pub fn supports(&self, operation: Operation) -> bool {
        match operation {
            Operation::Create => self.create,
            Operation::Get => self.get,
            Operation::List => self.list,
            Operation::Quote => self.quote,
        }
    }

    /// Refuses an operation the provider does not declare, before any vendor code runs.
    /// `who` names the instance and its kind for the message (formatted only on refusal).
    pub fn require(
        &self,
        operation: Operation,
        who: impl fmt::Display,
    ) -> Result<(), ProviderError> {
        if self.supports(operation) {
            return Ok(());
        }
        let what = match operation {
            Operation::Create => "create refunds",
            Operation::Get => "look refunds up",
            Operation::List => "list refunds",
            Operation::Quote => "quote refunds",
        };
        Err(ProviderError::unsupported(format!("{who} cannot {what}")))
    }

    /// A list the provider can take: the operation, and a target of one of its shapes.
    pub fn check_list(&self, target: &Target, who: impl fmt::Display) -> Result<(), ProviderError> {
        self.require(Operation::List, &who)?;
        check_target(&self.list_targets, target)
    }

    /// A quote the provider can take: the operation, and a target a create would accept
    /// (a quote asks about the create with the same body). The amount is not refused
    /// here: whether a create would refuse it is what the quote answers.
    pub fn check_quote(
        &self,
        target: &Target,
        who: impl fmt::Display,
    ) -> Result<(), ProviderError> {
        self.require(Operation::Quote, &who)?;
        check_target(&self.create_targets, target)
    }

    /// The canonical rules of a create that follow from what the provider declares: the
    /// operation itself, an amount where the vendor cannot refund "everything left", and a
    /// currency the vendor refunds in. Checked once, by the gateway, for the API and for
    /// batch items alike; vendor crates keep only the rules that need the vendor's data.
    pub fn check_create(
        &self,
        request: &RefundRequest,
        who: impl fmt::Display,
    ) -> Result<(), ProviderError> {
        self.require(Operation::Create, &who)?;
        check_target(&self.create_targets, &request.target)?;
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
    use crate::Money;

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

    #[test]
    fn targets_must_fit_a_declared_shape() {
        let caps = Capabilities {
            create: true,
            create_targets: vec![
                TargetShape::new(&["tickets"]).or_also(&["payments"]),
                TargetShape::new(&["event", "all_for_event"]),
            ],
            ..Capabilities::none()
        };
        let target = |json: serde_json::Value| -> Target { serde_json::from_value(json).unwrap() };
        let check = |t: Target| check_target(&caps.create_targets, &t).map_err(|e| e.pointer);
        assert!(check(target(serde_json::json!({"tickets": ["a"]}))).is_ok());
        assert!(check(target(
            serde_json::json!({"tickets": ["a"], "payments": ["p"]})
        ))
        .is_ok());
        assert!(check(target(
            serde_json::json!({"event": "1", "all_for_event": true})
        ))
        .is_ok());
        assert_eq!(
            check(target(serde_json::json!({"order": "1", "tickets": ["a"]}))),
            Err(Some("/target/order".into()))
        );
        assert_eq!(
            check(target(serde_json::json!({"all_for_event": true}))),
            Err(Some("/target/event".into()))
        );
        assert_eq!(
            check(target(serde_json::json!({"payments": ["p"]}))),
            Err(Some("/target/tickets".into()))
        );
        assert_eq!(
            check(target(serde_json::json!({"tickets": ["a"], "event": "1"}))),
            Err(Some("/target".into()))
        );
        let e = check_target(&caps.create_targets, &Target::default()).unwrap_err();
        assert!(
            e.message.contains("`tickets` (and optionally `payments`)"),
            "{}",
            e.message
        );
    }
}
