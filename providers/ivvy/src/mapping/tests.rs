//! Unit tests of the pure translation in `mapping.rs`.

use super::*;
use crate::wire::{Id, RefundPair};

fn aud() -> Currency {
    Currency::from_code("AUD").unwrap()
}

fn instance() -> InstanceName {
    InstanceName::new("ivvy-au").unwrap()
}

fn request(amount: &str) -> RefundRequest {
    RefundRequest {
        target: booking_target(2, 2),
        amount: Some(Money::parse(amount, aud()).unwrap()),
        reason: Some("Cancelled function".into()),
        metadata: Default::default(),
        gateway_reference: Some("gw_123".into()),
    }
}

fn invoice(json: serde_json::Value) -> Invoice {
    serde_json::from_value(json).unwrap()
}

#[test]
fn builds_the_documented_body() {
    let req = request("100.00");
    let now = crate::auth::parse_date("2015-01-22 00:00:00").unwrap();
    let body = create_body(2, 2, req.amount.as_ref().unwrap(), &req, now).unwrap();
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        serde_json::json!({"venueId": 2, "bookingId": 2, "refund": {
            "refundDate": "2015-01-22 00:00:00 UTC", "amount": 100,
            "notes": "gw_123 - Cancelled function"}})
    );
    let amount = amount_number(&Money::parse("75.50", aud()).unwrap()).unwrap();
    assert_eq!(amount.to_string(), "75.5");
    let amount = amount_number(&Money::parse("0.07", aud()).unwrap()).unwrap();
    assert_eq!(amount.to_string(), "0.07");
    let big = Money::parse("12345678901234567.89", aud()).unwrap();
    assert_eq!(
        amount_number(&big).unwrap_err().kind,
        ErrorKind::AmountNotRepresentable
    );
}

#[test]
fn notes_are_optional() {
    let mut req = request("1");
    req.gateway_reference = None;
    assert_eq!(refund_notes(&req).as_deref(), Some("Cancelled function"));
    req.reason = Some("  ".into());
    assert_eq!(refund_notes(&req), None);
}

#[test]
fn created_refund_has_a_line_per_invoice() {
    let answer: AddRefundResult = serde_json::from_str(
        r#"{"Success": true, "refundDetails": [{"invoiceId": 1736, "refundId": 180},
            {"invoiceId": 1737, "refundId": 181}]}"#,
    )
    .unwrap();
    let reference = IvvyRef {
        venue: 2,
        booking: 2,
        pairs: answer.refund_details.clone(),
    };
    let req = request("200.00");
    let refund = created_refund(&instance(), &reference, &req, req.amount.unwrap(), &answer);
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert_eq!(
        refund.vendor_reference.as_str(),
        "venue/2/booking/2/refunds/1736:180,1737:181"
    );
    assert_eq!(refund.lines.len(), 2);
    assert_eq!(refund.lines[1].reference.as_deref(), Some("1737"));
    assert_eq!(refund.lines[1].vendor_refs["refund_id"], "181");
    assert_eq!(refund.notes.len(), 1);
}

#[test]
fn looks_refunds_up_on_their_invoices() {
    let invoices = vec![
        invoice(
            serde_json::json!({"id": 1736, "currency": "AUD", "currentStatus": 5,
            "refunds": [{"id": 180, "amountRefunded": 150, "notes": "gw_1 - x",
                         "createdDate": "2026-11-22 10:00:00 UTC"}]}),
        ),
        invoice(
            serde_json::json!({"id": 1737, "currency": "AUD", "currentStatus": 9,
            "refunds": [{"id": 999, "refundId": 181, "amountRefunded": -50.5}]}),
        ),
    ];
    let reference = IvvyRef {
        venue: 2,
        booking: 2,
        pairs: vec![
            RefundPair {
                invoice_id: Id(1736),
                refund_id: Id(180),
            },
            RefundPair {
                invoice_id: Id(1737),
                refund_id: Id(181),
            },
        ],
    };
    let refund = looked_up_refund(&instance(), aud(), &reference, &invoices)
        .unwrap()
        .unwrap();
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert_eq!(refund.amount.unwrap().value().to_string(), "200.50");
    assert_eq!(refund.reason.as_deref(), Some("gw_1 - x"));
    assert_eq!(
        refund.lines[0].description.as_deref(),
        Some("invoice 1736 (refunded)")
    );
    assert_eq!(
        refund.lines[1].description.as_deref(),
        Some("invoice 1737 (unknown status 9)")
    );
    assert!(refund.created_at.is_some());

    let mut partial = reference.clone();
    partial.pairs[1].refund_id = Id(555);
    let refund = looked_up_refund(&instance(), aud(), &partial, &invoices)
        .unwrap()
        .unwrap();
    assert_eq!(refund.status, RefundStatus::Unknown);
    assert_eq!(refund.notes.len(), 1);

    let mut none = reference.clone();
    none.pairs.truncate(1);
    none.pairs[0].refund_id = Id(1);
    assert!(looked_up_refund(&instance(), aud(), &none, &invoices)
        .unwrap()
        .is_none());
}

#[test]
fn a_lookup_whose_amounts_overflow_is_a_bad_response() {
    let max = "79228162514264337593543950335";
    let invoices: Vec<Invoice> = serde_json::from_str(&format!(
        r#"[{{"id": 1736, "currency": "AUD", "refunds": [{{"id": 180, "amountRefunded": {max}}}]}},
            {{"id": 1737, "currency": "AUD", "refunds": [{{"id": 181, "amountRefunded": {max}}}]}}]"#
    ))
    .unwrap();
    let reference = IvvyRef {
        venue: 2,
        booking: 2,
        pairs: vec![
            RefundPair {
                invoice_id: Id(1736),
                refund_id: Id(180),
            },
            RefundPair {
                invoice_id: Id(1737),
                refund_id: Id(181),
            },
        ],
    };
    let e = looked_up_refund(&instance(), aud(), &reference, &invoices).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadResponse);
    assert!(e.message.contains("do not add up"), "{}", e.message);
}

#[test]
fn lists_and_refuses_other_currencies() {
    let invoices = vec![invoice(serde_json::json!({"id": 1736, "currency": "AUD",
        "refunds": [{"id": 180, "amountRefunded": 150}, {"id": 182, "amountRefunded": 1.25}]}))];
    let list = listed_refunds(&instance(), aud(), 2, 2, &invoices).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        list[1].vendor_reference.as_str(),
        "venue/2/booking/2/refunds/1736:182"
    );
    let usd = vec![invoice(serde_json::json!({"id": 1, "currency": "USD",
        "refunds": [{"id": 2, "amountRefunded": 1}]}))];
    assert_eq!(
        listed_refunds(&instance(), aud(), 2, 2, &usd)
            .unwrap_err()
            .kind,
        ErrorKind::CurrencyNotSupported
    );
}

#[test]
fn odd_amounts_are_shown_not_rounded() {
    let invoices = vec![invoice(serde_json::json!({"id": 1, "refunds": [
        {"id": 2, "amountRefunded": 10.005}]}))];
    let list = listed_refunds(&instance(), aud(), 2, 2, &invoices).unwrap();
    assert_eq!(list[0].amount, None);
    assert!(list[0].lines[0]
        .message
        .as_deref()
        .unwrap()
        .contains("10.005"));
}
