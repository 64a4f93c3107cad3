//! The canonical refundable quote: what a vendor's read endpoints show as paid, already
//! refunded and still refundable, line by line; what a create with the same body would do;
//! and, said out loud, what cannot be known before refunding. A provider builds it from
//! read requests only, with the same functions its create uses to decide (so the quote and
//! the create cannot disagree); where a vendor does not say, the quote says so instead of
//! guessing.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::balance::Balance;
use crate::capabilities::Capabilities;
use crate::error::ProviderError;
use crate::ids::InstanceName;
use crate::money::Money;
use crate::refund::LineKind;
use crate::request::RefundRequest;
use crate::target::Target;
use crate::vendor_decimal::{checked_sum, out_of_range};

/// One refundable thing as the vendor shows it: a payment, a ticket, a fee or an invoice.
/// An amount the vendor does not report is absent, and the quote's `cannot_know` says why.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct QuoteLine {
    /// `payment`, `ticket`, `fee` or `invoice`.
    pub kind: LineKind,
    /// The vendor's id of the thing (payment id, ticket id, invoice id).
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Balance>)]
    pub paid: Option<Balance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Balance>)]
    pub refunded: Option<Balance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Balance>)]
    pub refundable: Option<Balance>,
}

impl QuoteLine {
    pub fn new(kind: LineKind, reference: impl Into<String>) -> Self {
        QuoteLine {
            kind,
            reference: reference.into(),
            description: None,
            paid: None,
            refunded: None,
            refundable: None,
        }
    }
}

/// Where the amount a create would refund comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AmountFrom {
    /// The body's `amount`.
    Requested,
    /// No amount was given: all that is still refundable.
    WholeRemaining,
}

/// The payment a create would refund, where the vendor refunds payments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PaymentChoice {
    pub reference: String,
    /// The body named no payment and the gateway would pick this one.
    pub picked: bool,
    /// How it is picked, when the gateway picks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// What a create with the quoted body would do, decided by the same code the create runs.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Forecast {
    /// The create would be sent and would refund exactly `amount`.
    Refund {
        #[schema(value_type = Money)]
        amount: Money,
        amount_from: AmountFrom,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payment: Option<PaymentChoice>,
    },
    /// The create would be refused, with this problem `code` at `pointer`; nothing would
    /// reach the vendor's refund endpoint.
    Refused {
        code: String,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pointer: Option<String>,
    },
    /// The create would be sent, but what it refunds only the vendor decides (it computes
    /// amounts itself, or its rules for this amount are not readable in advance).
    VendorDecides { reason: String },
}

impl Forecast {
    /// The refusal a create would answer with this error.
    pub fn refused(error: &ProviderError) -> Self {
        Forecast::Refused {
            code: error.kind.code().to_string(),
            message: error.message.clone(),
            pointer: error.pointer.clone(),
        }
    }
}

/// Something a quote cannot tell before refunding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unknowable {
    /// What was paid.
    Paid,
    /// What was already refunded.
    Refunded,
    /// What is still refundable.
    Refundable,
    /// The amount a create would refund.
    Amount,
    /// How the vendor spreads one refund over several lines (invoices, payments).
    Spread,
    /// Whether the vendor itself accepts the refund.
    VendorAcceptance,
    /// What a refund does to the tickets (voided, seat freed).
    TicketFate,
}

/// One thing the quote cannot know, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CannotKnow {
    pub what: Unknowable,
    pub why: String,
}

/// The sums of the lines, where every line of the kind that is refunded says them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct QuoteTotals {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Balance>)]
    pub paid: Option<Balance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Balance>)]
    pub refunded: Option<Balance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Balance>)]
    pub refundable: Option<Balance>,
}

/// The vendor's rules that shape a create, as the provider declares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct QuoteRules {
    /// Fractional amounts are refused, never rounded.
    pub whole_units_only: bool,
    /// The vendor computes the amount itself; an explicit amount is refused.
    pub vendor_computed_amounts: bool,
    pub partial_amounts: bool,
    pub full_refund_without_amount: bool,
}

impl From<&Capabilities> for QuoteRules {
    fn from(c: &Capabilities) -> Self {
        QuoteRules {
            whole_units_only: c.whole_units_only,
            vendor_computed_amounts: c.vendor_computed_amounts,
            partial_amounts: c.partial_amounts,
            full_refund_without_amount: c.full_refund_without_amount,
        }
    }
}

/// A refundable quote (`POST /v1/refund-quotes`). Never a refund: nothing is stored and
/// nothing but reads reaches the vendor.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Quote {
    #[schema(value_type = String, example = "ticketmatic-demo")]
    pub provider: InstanceName,
    pub provider_kind: String,
    pub target: Target,
    /// The amount the body asked about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Money>)]
    pub requested_amount: Option<Money>,
    /// What the vendor shows, line by line (empty when it has nothing to read).
    pub lines: Vec<QuoteLine>,
    pub totals: QuoteTotals,
    /// What a create with this body would do.
    pub create: Forecast,
    pub rules: QuoteRules,
    /// What cannot be known before refunding, and why.
    pub cannot_know: Vec<CannotKnow>,
    /// Decisions the quote took or reports (which payment, whose rule).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// When the vendor was read (a cached quote keeps its time).
    pub quoted_at: DateTime<Utc>,
}

impl Quote {
    /// A quote of `request` with no lines yet, for providers to fill; `create` starts as
    /// "the vendor decides" until the provider says more.
    pub fn new(
        instance: &InstanceName,
        kind: &str,
        capabilities: &Capabilities,
        request: &RefundRequest,
    ) -> Self {
        Quote {
            provider: instance.clone(),
            provider_kind: kind.to_string(),
            target: request.target.clone(),
            requested_amount: request.amount,
            lines: Vec::new(),
            totals: QuoteTotals::default(),
            create: Forecast::VendorDecides {
                reason: "the provider does not say".into(),
            },
            rules: QuoteRules::from(capabilities),
            cannot_know: Vec::new(),
            notes: Vec::new(),
            quoted_at: Utc::now(),
        }
    }

    pub fn cannot_know(&mut self, what: Unknowable, why: impl Into<String>) {
        self.cannot_know.push(CannotKnow {
            what,
            why: why.into(),
        });
    }

    /// Whether the quote says it cannot know `what`.
    pub fn says_unknowable(&self, what: Unknowable) -> bool {
        self.cannot_know.iter().any(|c| c.what == what)
    }

    /// Totals of the lines of `kind`: each sum only when every such line reports it, in one
    /// currency. Line amounts are the vendor's, so a sum beyond the decimal range is the
    /// vendor's numbers not adding up (`BadResponse`), never a panic.
    pub fn total_lines(&mut self, kind: LineKind) -> Result<(), ProviderError> {
        fn sum(values: Vec<Option<Balance>>, what: &str) -> Result<Option<Balance>, ProviderError> {
            let Some(values) = values.into_iter().collect::<Option<Vec<Balance>>>() else {
                return Ok(None);
            };
            let Some(currency) = values.first().map(Balance::currency) else {
                return Ok(None);
            };
            if values.iter().any(|v| v.currency() != currency) {
                return Ok(None);
            }
            let total = checked_sum(values.iter().map(Balance::value))
                .ok_or_else(|| out_of_range(format!("the quote's total {what}")))?;
            Ok(Balance::new(total, currency).ok())
        }
        let lines: Vec<&QuoteLine> = self.lines.iter().filter(|l| l.kind == kind).collect();
        self.totals = QuoteTotals {
            paid: sum(lines.iter().map(|l| l.paid).collect(), "paid")?,
            refunded: sum(lines.iter().map(|l| l.refunded).collect(), "refunded")?,
            refundable: sum(lines.iter().map(|l| l.refundable).collect(), "refundable")?,
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use rust_decimal::Decimal;

    fn eur(v: &str) -> Balance {
        Balance::new(v.parse().unwrap(), Currency::EUR).unwrap()
    }

    /// A quote of nothing in particular, for lines to be added to.
    fn blank_quote() -> Quote {
        Quote::new(
            &InstanceName::new("x").unwrap(),
            "k",
            &Capabilities::none(),
            &RefundRequest::default(),
        )
    }

    #[test]
    fn totals_sum_only_fully_reported_lines() {
        let mut q = blank_quote();
        let mut a = QuoteLine::new(LineKind::Payment, "1");
        a.paid = Some(eur("30"));
        a.refunded = Some(eur("15"));
        a.refundable = Some(eur("15"));
        let mut b = QuoteLine::new(LineKind::Payment, "2");
        b.paid = Some(eur("20"));
        b.refundable = Some(eur("20"));
        let mut t = QuoteLine::new(LineKind::Ticket, "9");
        t.paid = Some(eur("24"));
        q.lines = vec![a, b, t];
        q.total_lines(LineKind::Payment).unwrap();
        assert_eq!(q.totals.paid, Some(eur("50")));
        assert_eq!(q.totals.refunded, None, "line 2 does not say");
        assert_eq!(q.totals.refundable, Some(eur("35")));
        let json = serde_json::to_value(&q).unwrap();
        assert_eq!(json["create"]["outcome"], "vendor_decides");
        assert_eq!(json["totals"]["paid"]["value"], "50.00");
    }

    #[test]
    fn totals_beyond_the_decimal_range_are_bad_responses_not_panics() {
        let mut q = blank_quote();
        let huge = Balance::new(Decimal::MAX.trunc(), Currency::ISK).unwrap();
        for id in ["1", "2"] {
            let mut line = QuoteLine::new(LineKind::Payment, id);
            line.paid = Some(huge);
            q.lines.push(line);
        }
        let e = q.total_lines(LineKind::Payment).unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::BadResponse);
        assert!(e.message.contains("total paid"), "{}", e.message);
    }

    #[test]
    fn refusals_carry_the_create_problem_code() {
        let e = ProviderError::new(crate::ErrorKind::AmountNotRepresentable, "whole euros")
            .at("/amount/value");
        let json = serde_json::to_value(Forecast::refused(&e)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"outcome": "refused", "code": "amount_not_representable",
                               "message": "whole euros", "pointer": "/amount/value"})
        );
    }
}
