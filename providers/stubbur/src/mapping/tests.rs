//! Unit tests of `mapping.rs`: request validation and the honest overall status.

use super::*;
use refund_provider::fixture::Exchange;
use refund_provider::{Currency, LineKind, Money};

fn request(target: serde_json::Value) -> RefundRequest {
    serde_json::from_value(serde_json::json!({ "target": target })).unwrap()
}

fn instance() -> InstanceName {
    InstanceName::new("stubbur-test").unwrap()
}

fn fixture_result(text: &str) -> RefundResult {
    serde_json::from_value(Exchange::parse("fixture", text).response_body().clone()).unwrap()
}

const MIXED: &str = include_str!("../../../../fixtures/stubbur/refund-event-mixed.json");

#[test]
fn selections_translate() {
    let wire = to_vendor_request(&request(serde_json::json!({"tickets": [" tk-1 "]}))).unwrap();
    assert_eq!(wire.ticket_token_ids, vec!["tk-1"]);
    let wire = to_vendor_request(&request(
        serde_json::json!({"payments": ["SB-1"], "tickets": ["tk-2"], "event": "7"}),
    ))
    .unwrap();
    assert_eq!(
        (
            wire.payment_references,
            wire.event_id,
            wire.refund_all_for_event
        ),
        (vec!["SB-1".to_string()], Some(7), None)
    );
    let mut all = request(serde_json::json!({"event": "1001", "all_for_event": true}));
    all.reason = Some("Event cancelled".into());
    assert_eq!(
        serde_json::to_value(to_vendor_request(&all).unwrap()).unwrap(),
        serde_json::json!({"eventId": 1001, "refundAllForEvent": true, "reason": "Event cancelled"})
    );
}

#[test]
fn targets_stubbur_has_no_use_for_are_refused_by_the_declared_shapes() {
    let caps = crate::capabilities();
    for (target, pointer) in [
        (serde_json::json!({"order": "5"}), "/target/order"),
        (
            serde_json::json!({"tickets": ["t"], "venue": "2"}),
            "/target/venue",
        ),
        (
            serde_json::json!({"event": "1", "all_for_event": true, "tickets": ["t"]}),
            "/target",
        ),
    ] {
        let request = request(target.clone());
        let e = caps.check_create(&request, "stubbur").unwrap_err();
        assert_eq!(e.pointer.as_deref(), Some(pointer), "{target}");
    }
}

#[test]
fn invalid_targets_point_at_the_field() {
    for (target, pointer) in [
        (serde_json::json!({}), "/target"),
        (serde_json::json!({"event": "1001"}), "/target"),
        (serde_json::json!({"all_for_event": true}), "/target/event"),
        (
            serde_json::json!({"event": "x", "all_for_event": true}),
            "/target/event",
        ),
        (
            serde_json::json!({"event": "1", "all_for_event": true, "tickets": ["t"]}),
            "/target/all_for_event",
        ),
        (
            serde_json::json!({"tickets": ["a", " "]}),
            "/target/tickets/1",
        ),
    ] {
        let e = to_vendor_request(&request(target.clone())).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidRequest, "{target}");
        assert_eq!(e.pointer.as_deref(), Some(pointer), "{target}");
    }
}

#[test]
fn an_explicit_amount_is_refused_not_ignored() {
    let mut r = request(serde_json::json!({"tickets": ["tk-1"]}));
    r.amount = Some(Money::parse("100", Currency::ISK).unwrap());
    let e = to_vendor_request(&r).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unsupported);
    assert_eq!(e.kind.code(), "unsupported_operation");
    assert_eq!(e.pointer.as_deref(), Some("/amount"));
}

#[test]
fn mixed_event_refund_is_partially_succeeded_with_lines_that_add_up() {
    let r = request(serde_json::json!({"event": "1001", "all_for_event": true}));
    let sent = to_vendor_request(&r).unwrap();
    let refund = to_refund(&instance(), &r, &sent, &fixture_result(MIXED)).unwrap();
    assert_eq!(refund.status, RefundStatus::PartiallySucceeded);
    let counts = refund.counts.unwrap();
    assert_eq!((counts.refunded, counts.skipped, counts.failed), (2, 1, 1));
    assert_eq!(
        refund.lines.len() as u32,
        counts.refunded + counts.skipped + counts.failed
    );
    assert!(refund.lines.iter().all(|l| l.kind == LineKind::Order));
    assert_eq!(refund.amount.unwrap().value().to_string(), "15900");
    assert_eq!(refund.amount.unwrap().currency(), Currency::ISK);
    let failed = &refund.lines[3];
    assert_eq!(failed.status, Some(LineStatus::Failed));
    assert_eq!(failed.reference.as_deref(), Some("SB-1001-04"));
    assert!(failed.message.as_deref().unwrap().contains("declined"));
    assert_eq!(refund.lines[0].vendor_refs["freed_seat_ids"], "101,102");
    assert_eq!(
        refund.vendor_reference.as_str(),
        "event/1001/payments/SB-1001-01,SB-1001-02,SB-1001-03,SB-1001-04/txn/BRG-RF-000102,BRG-RF-000201"
    );
    assert_eq!(
        refund.vendor_status.as_deref(),
        Some("success=false statusCode=200")
    );
    let text = serde_json::to_string(&refund).unwrap();
    assert!(
        !text.contains("REDACTED") && !text.contains("example.invalid"),
        "{text}"
    );
}

#[test]
fn overall_status_decision() {
    let c = |refunded, skipped, failed| LineCounts {
        refunded,
        skipped,
        failed,
    };
    assert_eq!(overall_status(c(3, 0, 0), 0), RefundStatus::Succeeded);
    assert_eq!(overall_status(c(3, 2, 0), 0), RefundStatus::Succeeded);
    assert_eq!(
        overall_status(c(1, 1, 1), 0),
        RefundStatus::PartiallySucceeded
    );
    assert_eq!(overall_status(c(0, 0, 2), 0), RefundStatus::Failed);
    assert_eq!(overall_status(c(0, 4, 0), 0), RefundStatus::Failed);
    assert_eq!(overall_status(c(5, 0, 0), 1), RefundStatus::Unknown);
}

#[test]
fn counts_that_do_not_add_up_are_recomputed_and_noted() {
    let r = request(serde_json::json!({"event": "1001", "all_for_event": true}));
    let sent = to_vendor_request(&r).unwrap();
    let mut result = fixture_result(MIXED);
    result.refunded_count = Some(4);
    result.failed_count = Some(0);
    let refund = to_refund(&instance(), &r, &sent, &result).unwrap();
    let counts = refund.counts.unwrap();
    assert_eq!((counts.refunded, counts.skipped, counts.failed), (2, 1, 1));
    assert_eq!(refund.status, RefundStatus::PartiallySucceeded);
    assert!(
        refund.notes.iter().any(|n| n.contains("do not match")),
        "{:?}",
        refund.notes
    );
}

#[test]
fn all_skipped_is_failed_with_a_note_and_unknown_lines_are_unknown() {
    let r = request(serde_json::json!({"tickets": ["tk-1"]}));
    let sent = to_vendor_request(&r).unwrap();
    let skipped = RefundResult {
        success: Some(true),
        skipped_count: Some(1),
        outcomes: Some(vec![crate::wire::RefundOrderOutcome {
            status: Some("Skipped".into()),
            payment_reference: Some("SB-1".into()),
            ..Default::default()
        }]),
        ..Default::default()
    };
    let refund = to_refund(&instance(), &r, &sent, &skipped).unwrap();
    assert_eq!(refund.status, RefundStatus::Failed);
    assert_eq!(refund.amount, None);
    assert!(refund
        .notes
        .iter()
        .any(|n| n.contains("nothing was refunded")));

    let mut odd = skipped.clone();
    odd.skipped_count = None;
    if let Some(o) = odd.outcomes.as_mut() {
        o[0].status = Some("Queued".into());
    }
    let refund = to_refund(&instance(), &r, &sent, &odd).unwrap();
    assert_eq!(refund.status, RefundStatus::Unknown);
    assert_eq!(refund.lines[0].status, Some(LineStatus::Unknown));
    assert_eq!(refund.lines[0].vendor_refs["vendor_status"], "Queued");
}

#[test]
fn a_total_that_isk_cannot_hold_is_noted_not_rounded() {
    let r = request(serde_json::json!({"tickets": ["tk-1"]}));
    let sent = to_vendor_request(&r).unwrap();
    let result = RefundResult {
        total_refunded: Some("10.5".parse().unwrap()),
        refunded_count: Some(1),
        outcomes: Some(vec![crate::wire::RefundOrderOutcome {
            status: Some("Refunded".into()),
            amount_refunded: Some("10.5".parse().unwrap()),
            ..Default::default()
        }]),
        ..Default::default()
    };
    let refund = to_refund(&instance(), &r, &sent, &result).unwrap();
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert_eq!(refund.amount, None);
    assert_eq!(refund.vendor_refs["total_refunded"], "10.5");
    assert!(
        refund.notes.iter().any(|n| n.contains("10.5")),
        "{:?}",
        refund.notes
    );
}

#[test]
fn an_answer_whose_amounts_overflow_is_a_bad_response_with_an_unknown_outcome() {
    let r = request(serde_json::json!({"tickets": ["tk-1", "tk-2"]}));
    let sent = to_vendor_request(&r).unwrap();
    let max = "79228162514264337593543950335";
    let answer = refund_provider::VendorResponse::new(
        200,
        format!(
            r#"{{"success": true, "refundedCount": 2, "outcomes": [
                {{"status": "Refunded", "paymentReference": "SB-1", "amountRefunded": {max}}},
                {{"status": "Refunded", "paymentReference": "SB-2", "amountRefunded": {max}}}]}}"#
        ),
    );
    let result: RefundResult = refund_provider::vendor_response::read_json(&answer).unwrap();
    let e = to_refund(&instance(), &r, &sent, &result).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadResponse);
    assert_eq!(e.outcome, refund_provider::Outcome::Unknown);
    assert!(e.message.contains("do not add up"), "{}", e.message);
}

#[test]
fn amounts_are_read_exactly_or_refused_never_rounded() {
    let answer = |amount: &str| {
        refund_provider::VendorResponse::new(
            200,
            format!(r#"{{"success": true, "totalRefunded": {amount}}}"#),
        )
    };
    let read =
        |amount: &str| refund_provider::vendor_response::read_json::<RefundResult>(&answer(amount));
    for (text, exact) in [
        ("123456789012345678", "123456789012345678"),
        ("12345678901234567.89", "12345678901234567.89"),
        ("4500", "4500"),
        ("\"4500\"", "4500"),
    ] {
        let total = read(text).unwrap().total_refunded.unwrap();
        assert_eq!(total.to_string(), exact);
    }
    let e = read("1234567890123456.78901234567890").unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadResponse);
    assert!(e.message.contains("never rounded"), "{}", e.message);
}
