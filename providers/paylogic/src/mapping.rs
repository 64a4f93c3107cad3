//! Pure translation of a Paylogic refund document into the canonical `Refund`: amounts
//! (decimal strings with a currency) into `Money`, the per-ticket breakdown into lines with
//! localized product names, and the status through `status.rs`. No I/O here.

use refund_provider::chrono::{DateTime, Utc};
use refund_provider::vendor_decimal::{checked_sum, out_of_range};
use refund_provider::{
    Currency, ErrorKind, InstanceName, LineKind, Money, ProviderError, Refund, RefundLine, Target,
    VendorFault, VendorRef,
};

use serde_json::value::RawValue;

use crate::status;
use crate::wire::{AmountBreakdown, WireAmount, WireRefund};
use crate::KIND;

/// Link relations under which a refund may name its order (not in the published example).
const ORDER_RELS: [&str; 2] = ["shop:order", "order"];

/// Turns one refund document into a canonical refund. `order` is the order URI the
/// refund was listed under (a `get` knows it only if the document links it). The document
/// is its JSON text, so its amounts are read from their text, exactly (`vendor_decimal`).
pub fn to_refund(
    instance: &InstanceName,
    document: &RawValue,
    order: Option<&str>,
    language: &str,
) -> Result<Refund, ProviderError> {
    let unreadable = |e: serde_json::Error| {
        ProviderError::new(
            ErrorKind::BadResponse,
            format!("a Paylogic refund could not be read ({e})"),
        )
        .with_vendor(VendorFault {
            status: None,
            code: None,
            message: snippet(document.get()),
        })
    };
    let wire: WireRefund = serde_json::from_str(document.get()).map_err(unreadable)?;
    let raw: serde_json::Value = serde_json::from_str(document.get()).map_err(unreadable)?;
    let order = order.map(str::to_string).or_else(|| {
        ORDER_RELS
            .iter()
            .find_map(|rel| wire.links.href(rel))
            .map(str::to_string)
    });

    let (canonical, note) =
        status::combine(wire.status.as_deref(), wire.direct_refund_status.as_deref());
    let target = Target {
        order: order.clone(),
        ..Target::default()
    };
    let mut refund = Refund::new(instance, KIND, VendorRef::new(&wire.uid), canonical, target);
    refund.vendor_status =
        status::vendor_status(wire.status.as_deref(), wire.direct_refund_status.as_deref());
    refund.notes.extend(note);
    refund.vendor_refs.insert("uid".into(), wire.uid.clone());
    if let Some(kind) = &wire.kind {
        refund
            .vendor_refs
            .insert("refund_type".into(), kind.clone());
    }
    if let Some(order) = order {
        refund.vendor_refs.insert("order".into(), order);
    }
    if let Some(breakdown) = &wire.amount_breakdown {
        amounts(breakdown, language, &mut refund)?;
    }
    refund.created_at = timestamp(wire.created_at.as_deref(), "created_at", &mut refund.notes);
    refund.updated_at = timestamp(
        wire.last_updated.as_deref(),
        "last_updated",
        &mut refund.notes,
    );
    refund.raw = Some(raw);
    Ok(refund)
}

/// The total, one `ticket` line per `by_tickets` entry, and an `other` line when non-zero;
/// notes where amounts cannot be represented or do not add up, and a `BadResponse` where
/// their sum leaves the decimal range.
fn amounts(
    breakdown: &AmountBreakdown,
    language: &str,
    refund: &mut Refund,
) -> Result<(), ProviderError> {
    let notes = &mut refund.notes;
    refund.amount = breakdown
        .total
        .as_ref()
        .and_then(|t| money(t, "total", notes));
    let mut parts: Vec<&WireAmount> = Vec::new();
    for (i, ticket) in breakdown.by_tickets.iter().enumerate() {
        let mut line = RefundLine::new(LineKind::Ticket);
        line.description = product_name(&ticket.product_name, language);
        if let Some(amount) = &ticket.amount {
            line.amount = money(amount, &format!("ticket {}", i + 1), notes);
            parts.push(amount);
        }
        refund.lines.push(line);
    }
    if let Some(other) = breakdown.other.as_ref().filter(|o| !o.amount.is_zero()) {
        let mut line = RefundLine::new(LineKind::Other);
        line.description = Some("Other costs (not attributed to a ticket)".into());
        line.amount = money(other, "other", notes);
        parts.push(other);
        refund.lines.push(line);
    }
    if let (Some(total), false) = (&breakdown.total, parts.is_empty()) {
        check_sum(total, &parts, notes)?;
    }
    Ok(())
}

/// A vendor amount as `Money`, or `None` with a note when it cannot be one (zero, negative,
/// an unknown currency, more decimals than the currency has): never rounded.
fn money(amount: &WireAmount, what: &str, notes: &mut Vec<String>) -> Option<Money> {
    let result = Currency::from_code(&amount.currency)
        .and_then(|currency| Money::from_vendor(amount.amount, currency));
    match result {
        Ok(money) => Some(money),
        Err(e) => {
            notes.push(format!(
                "Paylogic's {what} amount `{} {}` is not shown: {e}",
                amount.amount, amount.currency
            ));
            None
        }
    }
}

/// Notes a breakdown whose parts do not add up to the total, or mix currencies; parts whose
/// sum leaves the decimal range are a `BadResponse`.
fn check_sum(
    total: &WireAmount,
    parts: &[&WireAmount],
    notes: &mut Vec<String>,
) -> Result<(), ProviderError> {
    if parts.iter().any(|p| p.currency != total.currency) {
        notes.push("Paylogic's breakdown mixes currencies; its parts are not summed".into());
        return Ok(());
    }
    let sum = checked_sum(parts.iter().map(|p| p.amount))
        .ok_or_else(|| out_of_range("the sum of the refund's amount_breakdown"))?;
    if sum != total.amount {
        notes.push(format!(
            "Paylogic's breakdown adds up to {sum} {}, its total is {} {}",
            total.currency, total.amount, total.currency
        ));
    }
    Ok(())
}

/// Decision (paylogic brief): the configured language if that name is non-empty, else
/// `en`, else the first non-empty name (by language code, alphabetically), else none.
pub fn product_name(
    names: &std::collections::BTreeMap<String, String>,
    language: &str,
) -> Option<String> {
    let non_empty = |lang: &str| {
        names
            .get(lang)
            .map(|n| n.trim())
            .filter(|n| !n.is_empty())
            .map(str::to_string)
    };
    non_empty(language)
        .or_else(|| non_empty(crate::config::DEFAULT_LANGUAGE))
        .or_else(|| {
            names
                .values()
                .map(|n| n.trim())
                .find(|n| !n.is_empty())
                .map(str::to_string)
        })
}

/// An RFC 3339 timestamp in UTC; anything else is dropped with a note (a lookup is not
/// failed for a date).
fn timestamp(value: Option<&str>, field: &str, notes: &mut Vec<String>) -> Option<DateTime<Utc>> {
    let value = value?;
    match DateTime::parse_from_rfc3339(value) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(_) => {
            notes.push(format!("Paylogic's `{field}` `{value}` is not a timestamp"));
            None
        }
    }
}

fn snippet(text: &str) -> String {
    match text.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests;
