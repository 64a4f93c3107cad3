//! Pure translation between canonical and Stubbur shapes: a canonical create becomes a
//! `RefundRequest` selection, and a `RefundResult` becomes one canonical refund with one
//! `order` line per outcome. No I/O here; every rule is unit-tested below.

use refund_provider::{
    ErrorKind, InstanceName, LineCounts, LineStatus, ProviderError, Refund, RefundRequest,
    RefundStatus,
};

use refund_provider::vendor_decimal::out_of_range;

use crate::lines::{counts_of, outcome_line, LineAmount};
use crate::vendor_ref;
use crate::wire::{RefundRequestWire, RefundResult};
use crate::{currency, KIND};

/// The Stubbur request for a canonical create, or the canonical field at fault.
///
/// Decision (issue 3): Stubbur computes amounts itself, so an explicit amount is refused
/// with `unsupported_operation`, never ignored.
pub fn to_vendor_request(request: &RefundRequest) -> Result<RefundRequestWire, ProviderError> {
    if request.amount.is_some() {
        return Err(ProviderError::new(
            ErrorKind::Unsupported,
            "Stubbur computes refund amounts itself (whole orders or tickets); omit `amount`",
        )
        .at("/amount"));
    }
    // Which target fields go together the gateway checked, from the declared shapes.
    let target = &request.target;
    let tickets = clean_list(&target.tickets, "tickets")?;
    let payments = clean_list(&target.payments, "payments")?;
    let event_id = match target.event.as_deref() {
        None => None,
        Some(raw) => Some(raw.trim().parse::<i64>().map_err(|_| {
            ProviderError::invalid("/target/event", "a Stubbur event id is an integer")
        })?),
    };
    if target.all_for_event {
        if event_id.is_none() {
            return Err(ProviderError::invalid(
                "/target/event",
                "`all_for_event` refunds every order of an event: it needs `target.event`",
            ));
        }
        if !tickets.is_empty() || !payments.is_empty() {
            return Err(ProviderError::invalid(
                "/target/all_for_event",
                "`all_for_event` refunds every order of the event: do not also name tickets or payments",
            ));
        }
    } else if tickets.is_empty() && payments.is_empty() {
        return Err(ProviderError::invalid(
            "/target",
            "Stubbur needs `target.tickets`, `target.payments`, or `target.event` with `all_for_event = true`",
        ));
    }
    Ok(RefundRequestWire {
        event_id,
        refund_all_for_event: target.all_for_event.then_some(true),
        ticket_token_ids: tickets,
        payment_references: payments,
        reason: request.reason.clone().filter(|r| !r.trim().is_empty()),
        user_id: None,
    })
}

fn clean_list(values: &[String], field: &str) -> Result<Vec<String>, ProviderError> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| match v.trim() {
            "" => Err(ProviderError::invalid(
                format!("/target/{field}/{i}"),
                "an empty id",
            )),
            v => Ok(v.to_string()),
        })
        .collect()
}

/// The overall status of a refund from its (reconciled) counts.
///
/// Decision (vendors.md + lead): never from `success` alone. Any line whose status we do
/// not recognise -> `unknown`; all refunded (skips allowed, no failures) -> `succeeded`;
/// some refunded and some failed -> `partially_succeeded`; none refunded and some failed
/// -> `failed`; nothing refunded at all (everything skipped, or no outcome) -> `failed`
/// with a note.
pub fn overall_status(counts: LineCounts, unknown_lines: usize) -> RefundStatus {
    if unknown_lines > 0 {
        RefundStatus::Unknown
    } else if counts.refunded > 0 && counts.failed == 0 {
        RefundStatus::Succeeded
    } else if counts.refunded > 0 {
        RefundStatus::PartiallySucceeded
    } else {
        RefundStatus::Failed
    }
}

/// The canonical refund for a Stubbur answer that carries outcomes (or claims success).
/// Holder names and e-mails are personal data and are never copied.
pub fn to_refund(
    instance: &InstanceName,
    request: &RefundRequest,
    sent: &RefundRequestWire,
    result: &RefundResult,
) -> Result<Refund, ProviderError> {
    let outcomes = result.outcomes.as_deref().unwrap_or_default();
    let mut notes = Vec::new();
    let mut lines = Vec::with_capacity(outcomes.len());
    let mut refunded_sum = refund_provider::rust_decimal::Decimal::ZERO;
    for (i, outcome) in outcomes.iter().enumerate() {
        let (line, amount) = outcome_line(outcome);
        match amount {
            LineAmount::Money(m) if line.status == Some(LineStatus::Succeeded) => {
                // The vendor answered the create, so it may have acted: an answer whose
                // amounts do not add up leaves the outcome unknown (a lookup settles it).
                refunded_sum = refunded_sum.checked_add(m.value()).ok_or_else(|| {
                    out_of_range("the sum of the refunded outcomes' amountRefunded")
                        .outcome_unknown()
                })?;
            }
            LineAmount::NotRepresentable(raw) => notes.push(format!(
                "outcome {i}: Stubbur's amount {raw} does not fit ISK (0 decimals); it is kept in \
                 vendor_refs.amount_refunded_raw, not rounded"
            )),
            _ => {}
        }
        lines.push(line);
    }
    let (computed, unknown_lines) = counts_of(&lines);
    let vendor_counts = match (
        result.refunded_count,
        result.skipped_count,
        result.failed_count,
    ) {
        (None, None, None) => None,
        (r, s, f) => Some(LineCounts {
            refunded: r.unwrap_or(0),
            skipped: s.unwrap_or(0),
            failed: f.unwrap_or(0),
        }),
    };
    let counts = match vendor_counts {
        // No outcome listed: the vendor's counts are all there is to go on.
        Some(v) if lines.is_empty() => v,
        Some(v) if v == computed && unknown_lines == 0 => v,
        Some(v) => {
            notes.push(format!(
                "Stubbur's counts (refunded {}, skipped {}, failed {}) do not match its {} \
                 outcomes; the counts shown are computed from the outcomes",
                v.refunded,
                v.skipped,
                v.failed,
                lines.len()
            ));
            computed
        }
        None => computed,
    };
    if unknown_lines > 0 {
        notes.push(format!(
            "{unknown_lines} outcome(s) have a status Stubbur did not document; the refund's \
             status is unknown until checked with Stubbur"
        ));
    }
    let status = overall_status(counts, unknown_lines);
    if status == RefundStatus::Failed && counts.failed == 0 {
        notes.push(match counts.skipped {
            0 => "Stubbur reported no order refunded: nothing was refunded".to_string(),
            n => format!("all {n} order(s) were skipped by Stubbur: nothing was refunded"),
        });
    }
    let mut refund = Refund::new(
        instance,
        KIND,
        vendor_ref::from_result(sent, outcomes),
        status,
        request.target.clone(),
    );
    refund.vendor_status = Some(vendor_status(result));
    refund.reason = request.reason.clone();
    refund.metadata = request.metadata.clone();
    refund.counts = Some(counts);
    refund.lines = lines;
    if let Some(event) = sent
        .event_id
        .or_else(|| outcomes.iter().find_map(|o| o.event_id))
    {
        refund
            .vendor_refs
            .insert("event_id".into(), event.to_string());
    }
    match result.total_refunded {
        Some(total) if !total.is_zero() => {
            refund
                .vendor_refs
                .insert("total_refunded".into(), total.to_string());
            match refund_provider::Money::from_vendor(total, currency()) {
                Ok(m) => {
                    if m.value() != refunded_sum {
                        notes.push(format!(
                            "Stubbur's totalRefunded ({total}) differs from the sum of its \
                             refunded outcomes ({refunded_sum}); the amount shown is Stubbur's total"
                        ));
                    }
                    refund.amount = Some(m);
                }
                Err(e) => notes.push(format!("Stubbur's totalRefunded {total} is not shown: {e}")),
            }
        }
        _ => {}
    }
    if let Some(message) = result.message.as_deref().filter(|m| !m.trim().is_empty()) {
        notes.push(format!("Stubbur: {}", message.trim()));
    }
    refund.notes = notes;
    Ok(refund)
}

/// `vendor_status` keeps what Stubbur said about the whole call, verbatim.
fn vendor_status(result: &RefundResult) -> String {
    let success = result
        .success
        .map_or_else(|| "absent".to_string(), |s| s.to_string());
    match result.status_code {
        Some(code) => format!("success={success} statusCode={code}"),
        None => format!("success={success}"),
    }
}

#[cfg(test)]
mod tests;
