//! One Stubbur outcome (an order touched by a refund) as one canonical `order` line, and
//! the outcome-status mapping. Holder name and e-mail are personal data: never copied.

use refund_provider::rust_decimal::Decimal;
use refund_provider::{LineCounts, LineKind, LineStatus, Money, RefundLine, TicketFate};

use crate::currency;
use crate::wire::RefundOrderOutcome;

/// What became of an outcome's `amountRefunded`.
#[derive(Debug, Clone, PartialEq)]
pub enum LineAmount {
    /// Absent or zero: nothing to show.
    None,
    Money(Money),
    /// A value ISK cannot hold (decimals, negative): kept raw, never rounded.
    NotRepresentable(String),
}

/// Decision (vendors.md): outcome statuses are undocumented. Case-insensitively
/// `refunded`/`success`/`succeeded` -> succeeded, `skipped` -> skipped, `failed`/`error`
/// -> failed; anything else (or none) -> unknown, with the vendor's text kept in the line's
/// `vendor_refs.vendor_status`.
pub fn line_status(vendor: Option<&str>) -> LineStatus {
    match vendor.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        Some("refunded" | "success" | "succeeded") => LineStatus::Succeeded,
        Some("skipped") => LineStatus::Skipped,
        Some("failed" | "error") => LineStatus::Failed,
        _ => LineStatus::Unknown,
    }
}

/// The canonical line of one outcome, and its amount as read.
pub fn outcome_line(outcome: &RefundOrderOutcome) -> (RefundLine, LineAmount) {
    let mut line = RefundLine::new(LineKind::Order);
    line.reference = outcome.payment_reference.clone();
    line.description = outcome.event_name.clone();
    line.status = Some(line_status(outcome.status.as_deref()));
    line.partial = outcome.partial;
    line.tickets = outcome.ticket_token_ids.clone().unwrap_or_default();
    line.message = outcome.message.clone().filter(|m| !m.trim().is_empty());
    let refs = &mut line.vendor_refs;
    if let Some(status) = &outcome.status {
        refs.insert("vendor_status".into(), status.clone());
    }
    if let Some(id) = &outcome.payment_id {
        refs.insert("payment_id".into(), id.clone());
    }
    if let Some(id) = &outcome.borgun_refund_transaction_id {
        refs.insert("borgun_refund_transaction_id".into(), id.clone());
    }
    if let Some(seats) = outcome.freed_seat_ids.as_deref().filter(|s| !s.is_empty()) {
        let seats: Vec<String> = seats.iter().map(i64::to_string).collect();
        refs.insert("freed_seat_ids".into(), seats.join(","));
        // Stubbur's `freedSeatIds` say the seats can be sold again; an empty or absent
        // list says nothing (no seat, or not reported), so no fate is claimed then.
        line.ticket = Some(TicketFate::SeatReleased { seats });
    }
    if let Some(event) = outcome.event_id {
        refs.insert("event_id".into(), event.to_string());
    }
    let amount = line_amount(outcome.amount_refunded);
    match &amount {
        LineAmount::Money(m) => line.amount = Some(*m),
        LineAmount::NotRepresentable(raw) => {
            refs.insert("amount_refunded_raw".into(), raw.clone());
        }
        LineAmount::None => {}
    }
    (line, amount)
}

fn line_amount(value: Option<Decimal>) -> LineAmount {
    match value {
        None => LineAmount::None,
        Some(v) if v.is_zero() => LineAmount::None,
        Some(v) => match Money::from_vendor(v, currency()) {
            Ok(m) => LineAmount::Money(m),
            Err(_) => LineAmount::NotRepresentable(v.to_string()),
        },
    }
}

/// Counts computed from the lines, and how many lines have a status we do not know.
pub fn counts_of(lines: &[RefundLine]) -> (LineCounts, usize) {
    let mut counts = LineCounts {
        refunded: 0,
        skipped: 0,
        failed: 0,
    };
    let mut unknown = 0;
    for line in lines {
        match line.status {
            Some(LineStatus::Succeeded) => counts.refunded += 1,
            Some(LineStatus::Skipped) => counts.skipped += 1,
            Some(LineStatus::Failed) => counts.failed += 1,
            _ => unknown += 1,
        }
    }
    (counts, unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_mapping_is_exhaustive_and_honest() {
        for s in ["refunded", "Refunded", "SUCCESS", "succeeded"] {
            assert_eq!(line_status(Some(s)), LineStatus::Succeeded, "{s}");
        }
        assert_eq!(line_status(Some("Skipped")), LineStatus::Skipped);
        assert_eq!(line_status(Some("failed")), LineStatus::Failed);
        assert_eq!(line_status(Some("Error")), LineStatus::Failed);
        assert_eq!(line_status(Some("queued")), LineStatus::Unknown);
        assert_eq!(line_status(None), LineStatus::Unknown);
    }

    #[test]
    fn a_line_keeps_vendor_ids_and_drops_personal_data() {
        let outcome: RefundOrderOutcome = serde_json::from_value(serde_json::json!({
            "status": "Refunded", "paymentReference": "SB-1", "paymentId": "p-1", "eventId": 7,
            "eventName": "Concert", "holderName": "Jon Jonsson", "holderEmail": "jon@example.is",
            "amountRefunded": 4500.00, "partial": true, "ticketTokenIds": ["tk-1"],
            "freedSeatIds": [11, 12], "borgunRefundTransactionId": "BRG-9", "message": "ok"
        }))
        .unwrap();
        let (line, amount) = outcome_line(&outcome);
        assert_eq!(
            line.amount.map(|m| m.value().to_string()),
            Some("4500".into())
        );
        assert!(matches!(amount, LineAmount::Money(_)));
        assert_eq!(line.partial, Some(true));
        assert_eq!(line.vendor_refs["freed_seat_ids"], "11,12");
        assert_eq!(
            serde_json::to_value(&line.ticket).unwrap(),
            serde_json::json!({"state": "seat_released", "seats": ["11", "12"]})
        );
        assert_eq!(line.vendor_refs["borgun_refund_transaction_id"], "BRG-9");
        let text = serde_json::to_string(&line).unwrap();
        assert!(
            !text.contains("Jonsson") && !text.contains("jon@"),
            "{text}"
        );
    }

    #[test]
    fn fractional_isk_is_kept_raw_not_rounded() {
        let outcome = RefundOrderOutcome {
            status: Some("refunded".into()),
            amount_refunded: Some("4500.5".parse().unwrap()),
            ..Default::default()
        };
        let (line, amount) = outcome_line(&outcome);
        assert_eq!(line.amount, None);
        assert_eq!(amount, LineAmount::NotRepresentable("4500.5".into()));
        assert_eq!(line.vendor_refs["amount_refunded_raw"], "4500.5");
        assert_eq!(
            line.ticket, None,
            "no freed seats reported: no fate claimed"
        );
    }
}
