//! Pure translation between the canonical refund and iVvy's wire types: the
//! addRefundToBooking body, its answer, and invoice `refunds[]` read back by lookups.

use std::str::FromStr;

use refund_provider::chrono::{DateTime, NaiveDateTime, Utc};
use refund_provider::rust_decimal::Decimal;
use refund_provider::vendor_decimal::out_of_range;
use refund_provider::{
    Currency, ErrorKind, InstanceName, LineKind, LineStatus, Money, ProviderError, Refund,
    RefundLine, RefundRequest, RefundStatus, Target,
};

use crate::vendor_ref::IvvyRef;
use crate::wire::{AddRefundResult, AddRefundToBooking, Invoice, InvoiceRefund, RefundInput};
use crate::KIND;

/// The `refundDate` format iVvy documents (`2015-01-22 00:00:00 UTC`).
const TIMESTAMP_FORMAT: &str = "%Y-%m-%d %H:%M:%S UTC";

/// The addRefundToBooking body for a validated request.
pub fn create_body(
    venue: i64,
    booking: i64,
    amount: &Money,
    request: &RefundRequest,
    now: DateTime<Utc>,
) -> Result<AddRefundToBooking, ProviderError> {
    Ok(AddRefundToBooking {
        venue_id: venue,
        booking_id: booking,
        refund: RefundInput {
            refund_date: now.format(TIMESTAMP_FORMAT).to_string(),
            amount: amount_number(amount)?,
            notes: refund_notes(request),
        },
    })
}

/// Decision (vendors.md [?] precision): the amount goes as a JSON number with at most the
/// currency's minor-unit digits (`Money` guarantees that), in its shortest form (`100`,
/// `75.5`). The number is read back and compared, so a value JSON cannot carry exactly is
/// refused, never rounded.
pub fn amount_number(amount: &Money) -> Result<serde_json::Number, ProviderError> {
    let text = amount.value().normalize().to_string();
    let refuse = || {
        ProviderError::new(
            ErrorKind::AmountNotRepresentable,
            format!("{amount} cannot be sent to iVvy as an exact JSON number"),
        )
        .at("/amount/value")
    };
    let number = serde_json::Number::from_str(&text).map_err(|_| refuse())?;
    match Decimal::from_str(&number.to_string()) {
        Ok(back) if back == amount.value() => Ok(number),
        _ => Err(refuse()),
    }
}

/// Decision (lead's notes): `notes` = the gateway's own reference (so a lookup can find
/// exactly this refund later) followed by the caller's reason; omitted when both are absent.
pub fn refund_notes(request: &RefundRequest) -> Option<String> {
    let parts: Vec<&str> = [
        request.gateway_reference.as_deref(),
        request.reason.as_deref(),
    ]
    .into_iter()
    .flatten()
    .map(str::trim)
    .filter(|p| !p.is_empty())
    .collect();
    (!parts.is_empty()).then(|| parts.join(" - "))
}

/// The canonical refund for a successful addRefundToBooking: one `invoice` line per
/// invoice/refund pair. iVvy does not say how much went on each invoice; a lookup does.
pub fn created_refund(
    instance: &InstanceName,
    reference: &IvvyRef,
    request: &RefundRequest,
    amount: Money,
    answer: &AddRefundResult,
) -> Refund {
    let mut refund = Refund::new(
        instance,
        KIND,
        reference.to_vendor_ref(),
        RefundStatus::Succeeded,
        request.target.clone(),
    );
    refund.vendor_status = Some(
        match answer.success {
            Some(true) => "Success",
            _ => "refundDetails",
        }
        .to_string(),
    );
    refund.amount = Some(amount);
    refund.reason = request.reason.clone();
    refund.metadata = request.metadata.clone();
    add_booking_refs(&mut refund, reference);
    for pair in &answer.refund_details {
        let mut line = RefundLine::new(LineKind::Invoice);
        line.reference = Some(pair.invoice_id.to_string());
        line.status = Some(LineStatus::Succeeded);
        line.vendor_refs
            .insert("refund_id".into(), pair.refund_id.to_string());
        refund.lines.push(line);
    }
    if answer.refund_details.len() > 1 {
        refund.notes.push(format!(
            "iVvy spread the refund over {} invoices; a lookup shows the amount on each",
            answer.refund_details.len()
        ));
    }
    refund
}

/// The canonical refund for a reference read back from its invoices. `None` when none
/// of its pairs is found (the caller answers not found).
pub fn looked_up_refund(
    instance: &InstanceName,
    currency: Currency,
    reference: &IvvyRef,
    invoices: &[Invoice],
) -> Result<Option<Refund>, ProviderError> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for pair in &reference.pairs {
        let entry = invoices
            .iter()
            .find(|inv| inv.id == pair.invoice_id)
            .and_then(|inv| entry_for(inv, pair.refund_id.0).map(|e| (inv, e)));
        match entry {
            Some(hit) => found.push(hit),
            None => missing.push(*pair),
        }
    }
    if found.is_empty() {
        return Ok(None);
    }
    let status = if missing.is_empty() {
        RefundStatus::Succeeded
    } else {
        RefundStatus::Unknown
    };
    let mut refund = Refund::new(
        instance,
        KIND,
        reference.to_vendor_ref(),
        status,
        booking_target(reference.venue, reference.booking),
    );
    refund.vendor_status = Some("recorded".into());
    add_booking_refs(&mut refund, reference);
    let mut total = Some(Decimal::ZERO);
    for (invoice, entry) in &found {
        let line = invoice_line(invoice, entry, currency)?;
        total =
            match (total, &line.amount) {
                (Some(t), Some(m)) => Some(t.checked_add(m.value()).ok_or_else(|| {
                    out_of_range("the sum of the refund's amounts on its invoices")
                })?),
                _ => None,
            };
        refund.lines.push(line);
    }
    refund.amount = total.and_then(|t| Money::from_vendor(t, currency).ok());
    let first = found[0].1;
    refund.reason = first.notes.clone().filter(|n| !n.trim().is_empty());
    refund.created_at = parse_timestamp(first.created_date.as_deref())
        .or_else(|| parse_timestamp(first.refund_date.as_deref()));
    refund.updated_at = parse_timestamp(first.modified_date.as_deref());
    for pair in missing {
        refund.notes.push(format!(
            "refund {} is no longer on invoice {} at iVvy",
            pair.refund_id, pair.invoice_id
        ));
    }
    Ok(Some(refund))
}

/// Every refund recorded on the booking's invoices.
///
/// Decision (lead's notes): one `addRefundToBooking` call that iVvy spread over several
/// invoices leaves one entry per invoice, all with the call's `notes` and `refundDate`;
/// entries sharing both (notes non-empty) list as one canonical refund with every invoice
/// line, as the create answered it (`…/refunds/1736:180,1737:181`), so a refund is the same
/// refund whether created, looked up or listed. Entries without notes list one by one.
pub fn listed_refunds(
    instance: &InstanceName,
    currency: Currency,
    venue: i64,
    booking: i64,
    invoices: &[Invoice],
) -> Result<Vec<Refund>, ProviderError> {
    // (notes and refund date of the call, its invoice refunds)
    type Call = Option<(String, String)>;
    let mut groups: Vec<(Call, Vec<crate::wire::RefundPair>)> = Vec::new();
    for invoice in invoices {
        for entry in &invoice.refunds {
            let pair = crate::wire::RefundPair {
                invoice_id: invoice.id,
                refund_id: entry.id,
            };
            let call = entry
                .notes
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(|n| (n.to_string(), entry.refund_date.clone().unwrap_or_default()));
            match groups
                .iter_mut()
                .find(|(key, _)| key.is_some() && *key == call)
            {
                Some((_, pairs)) => pairs.push(pair),
                None => groups.push((call, vec![pair])),
            }
        }
    }
    let mut refunds = Vec::new();
    for (_, pairs) in groups {
        let reference = IvvyRef {
            venue,
            booking,
            pairs,
        };
        if let Some(refund) = looked_up_refund(instance, currency, &reference, invoices)? {
            refunds.push(refund);
        }
    }
    Ok(refunds)
}

/// Decision (vendors.md is silent): the `refundId` that addRefundToBooking returns is the
/// `id` of the entry in the invoice's `refunds[]`; an entry whose own `refundId` carries it
/// is accepted as a fallback.
pub fn entry_for(invoice: &Invoice, refund_id: i64) -> Option<&InvoiceRefund> {
    invoice
        .refunds
        .iter()
        .find(|e| e.id.0 == refund_id)
        .or_else(|| {
            (refund_id != 0).then_some(())?;
            invoice
                .refunds
                .iter()
                .find(|e| e.refund_id.map(|r| r.0) == Some(refund_id))
        })
}

/// Decision (lead's notes): an invoice in another currency than the instance's is refused
/// rather than reported in a currency the caller did not expect.
pub fn invoice_currency(invoice: &Invoice, currency: Currency) -> Result<Currency, ProviderError> {
    match invoice.currency.as_deref().map(str::trim) {
        None | Some("") => Ok(currency),
        Some(code) if code.eq_ignore_ascii_case(currency.code()) => Ok(currency),
        Some(code) => Err(ProviderError::new(
            ErrorKind::CurrencyNotSupported,
            format!(
                "iVvy invoice {} is in {code}, but this provider instance refunds in {currency}",
                invoice.id
            ),
        )),
    }
}

/// iVvy's invoice `currentStatus`, for line descriptions. Decision: the invoice status
/// never changes a refund's status (a refund on an invoice is recorded, whatever the
/// invoice's state); an unknown value is shown verbatim.
pub fn invoice_status_name(status: Option<i64>) -> String {
    match status {
        Some(0) => "not paid".into(),
        Some(1) => "unconfirmed paid".into(),
        Some(2) => "paid".into(),
        Some(3) => "written off".into(),
        Some(4) => "cancelled".into(),
        Some(5) => "refunded".into(),
        Some(other) => format!("unknown status {other}"),
        None => "status not given".into(),
    }
}

fn invoice_line(
    invoice: &Invoice,
    entry: &InvoiceRefund,
    currency: Currency,
) -> Result<RefundLine, ProviderError> {
    let currency = invoice_currency(invoice, currency)?;
    let mut line = RefundLine::new(LineKind::Invoice);
    line.reference = Some(invoice.id.to_string());
    line.description = Some(format!(
        "invoice {} ({})",
        invoice.id,
        invoice_status_name(invoice.current_status)
    ));
    line.status = Some(LineStatus::Succeeded);
    line.vendor_refs
        .insert("refund_id".into(), entry.id.to_string());
    // iVvy's own `refundId` of the entry, when it carries one (0 means none).
    if let Some(r) = entry.refund_id.filter(|r| r.0 != 0) {
        line.vendor_refs
            .insert("vendor_refund_id".into(), r.to_string());
    }
    // Decision: iVvy does not document the sign of `amountRefunded`; its magnitude is
    // the amount refunded. A value that does not fit the currency is shown, not rounded.
    match Money::from_vendor(entry.amount_refunded.abs(), currency) {
        Ok(m) => line.amount = Some(m),
        Err(e) => {
            line.message = Some(format!(
                "iVvy recorded amount {} ({e})",
                entry.amount_refunded
            ))
        }
    }
    Ok(line)
}

fn add_booking_refs(refund: &mut Refund, reference: &IvvyRef) {
    refund
        .vendor_refs
        .insert("venue_id".into(), reference.venue.to_string());
    refund
        .vendor_refs
        .insert("booking_id".into(), reference.booking.to_string());
}

pub fn booking_target(venue: i64, booking: i64) -> Target {
    Target {
        venue: Some(venue.to_string()),
        booking: Some(booking.to_string()),
        ..Target::default()
    }
}

/// iVvy timestamps: `YYYY-MM-DD HH:MM:SS UTC`.
pub fn parse_timestamp(value: Option<&str>) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(value?.trim(), TIMESTAMP_FORMAT)
        .ok()
        .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests;
