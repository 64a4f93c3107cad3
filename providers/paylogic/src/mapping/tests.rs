//! Unit tests of `mapping.rs`, on the recorded fixtures' bodies and edge cases made here.

use super::*;
use refund_provider::fixture::Exchange;
use refund_provider::RefundStatus;
use serde_json::json;
use std::collections::BTreeMap;

fn instance() -> InstanceName {
    InstanceName::new("pl-main").unwrap()
}

/// A document as the provider receives it: its JSON text.
fn raw(document: &serde_json::Value) -> Box<RawValue> {
    serde_json::value::to_raw_value(document).unwrap()
}

fn fixture(name: &str, text: &str) -> serde_json::Value {
    Exchange::parse(name, text).response_body().clone()
}

const ORDER: &str = "https://shopping-api.paylogic.com/orders/a9211319a7bf4c1d82b78d536c92de58";

#[test]
fn maps_the_doc_example() {
    let body = fixture(
        "get_requested.json",
        include_str!("../../../../fixtures/paylogic/get_requested.json"),
    );
    let refund = to_refund(&instance(), &raw(&body), Some(ORDER), "en").unwrap();
    assert_eq!(refund.status, RefundStatus::Pending);
    assert_eq!(
        refund.vendor_status.as_deref(),
        Some("requested / direct: not_initiated")
    );
    assert_eq!(
        refund.vendor_reference.as_str(),
        "4221f0abd8bc4e768272b483cd929d09"
    );
    assert_eq!(refund.provider_kind, "paylogic");
    assert_eq!(refund.amount.unwrap().to_string(), "6.50 EUR");
    assert_eq!(refund.target.order.as_deref(), Some(ORDER));
    assert_eq!(refund.vendor_refs["refund_type"], "psp");
    assert_eq!(refund.vendor_refs["order"], ORDER);
    let lines: Vec<_> = refund
        .lines
        .iter()
        .map(|l| {
            (
                l.kind,
                l.description.clone().unwrap_or_default(),
                l.amount.map(|m| m.to_string()).unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            (
                LineKind::Ticket,
                "Simple entrance".into(),
                "1.00 EUR".into()
            ),
            (
                LineKind::Ticket,
                "Simple entrance".into(),
                "1.00 EUR".into()
            ),
            (
                LineKind::Other,
                "Other costs (not attributed to a ticket)".into(),
                "4.50 EUR".into()
            ),
        ]
    );
    assert!(refund.notes.is_empty(), "{:?}", refund.notes);
    assert_eq!(
        refund.created_at.unwrap().to_rfc3339(),
        "2022-08-29T10:59:14+00:00"
    );
    assert_eq!(refund.raw, Some(body));
}

#[test]
fn completed_refund_in_dutch_falls_back_per_ticket() {
    let body = fixture(
        "get_completed.json",
        include_str!("../../../../fixtures/paylogic/get_completed.json"),
    );
    let refund = to_refund(&instance(), &raw(&body), None, "nl").unwrap();
    assert_eq!(refund.status, RefundStatus::Succeeded);
    let names: Vec<_> = refund.lines.iter().map(|l| l.description.clone()).collect();
    assert_eq!(
        names,
        vec![
            Some("Weekendkaart".into()),
            Some("Camping spot".into()),
            Some("Other costs (not attributed to a ticket)".into())
        ]
    );
    assert_eq!(refund.target.order, None);
}

#[test]
fn product_names_fall_back_sensibly() {
    let names = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let all = names(&[("de", "Eintritt"), ("en", "Entrance"), ("nl", "Toegang")]);
    assert_eq!(product_name(&all, "nl").as_deref(), Some("Toegang"));
    assert_eq!(product_name(&all, "fr").as_deref(), Some("Entrance"));
    let no_en = names(&[("de", ""), ("en", " "), ("fr", "Entrée"), ("nl", "Toegang")]);
    assert_eq!(product_name(&no_en, "es").as_deref(), Some("Entrée"));
    assert_eq!(product_name(&names(&[("en", ""), ("nl", "")]), "nl"), None);
    assert_eq!(product_name(&BTreeMap::new(), "en"), None);
}

#[test]
fn unreadable_amounts_are_noted_never_rounded() {
    let body = json!({
        "uid": "u1", "status": "completed", "direct_refund_status": "processing",
        "amount_breakdown": {
            "total": {"amount": "10.005", "currency": "EUR"},
            "other": {"amount": "0.00", "currency": "EUR"},
            "by_tickets": [
                {"product_name": {"en": "A"}, "amount": {"amount": "5.00", "currency": "XXX"}},
                {"product_name": null, "amount": {"amount": "5", "currency": "EUR"}}
            ]
        },
        "created_at": "yesterday"
    });
    let refund = to_refund(&instance(), &raw(&body), None, "en").unwrap();
    assert_eq!(refund.status, RefundStatus::Pending);
    assert_eq!(refund.amount, None);
    assert_eq!(refund.lines.len(), 2, "a zero `other` makes no line");
    assert_eq!(refund.lines[0].amount, None);
    assert_eq!(refund.lines[1].amount.unwrap().to_string(), "5.00 EUR");
    assert_eq!(refund.lines[1].description, None);
    assert_eq!(refund.created_at, None);
    let notes = refund.notes.join("\n");
    for expected in [
        "direct refund is `processing`",
        "total amount `10.005 EUR`",
        "ticket 1 amount `5.00 XXX`",
        "mixes currencies",
        "`created_at` `yesterday`",
    ] {
        assert!(notes.contains(expected), "{expected} in {notes}");
    }
}

#[test]
fn sums_that_disagree_are_noted() {
    let body = json!({
        "uid": "u2", "status": "refunded",
        "amount_breakdown": {
            "total": {"amount": "9.00", "currency": "EUR"},
            "by_tickets": [{"product_name": {"en": "A"}, "amount": {"amount": "5.00", "currency": "EUR"}}]
        },
        "_links": {"shop:order": {"href": ORDER}}
    });
    let refund = to_refund(&instance(), &raw(&body), None, "en").unwrap();
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert_eq!(refund.target.order.as_deref(), Some(ORDER));
    assert_eq!(
        refund.notes,
        vec!["Paylogic's breakdown adds up to 5.00 EUR, its total is 9.00 EUR".to_string()]
    );
}

#[test]
fn documents_without_a_uid_are_bad_responses() {
    for body in [
        json!({"status": "requested"}),
        json!({"uid": 5}),
        json!("text"),
    ] {
        let e = to_refund(&instance(), &raw(&body), None, "en").unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadResponse);
    }
    let minimal = to_refund(&instance(), &raw(&json!({"uid": "u3"})), None, "en").unwrap();
    assert_eq!(minimal.status, RefundStatus::Unknown);
    assert_eq!(minimal.vendor_status, None);
}

#[test]
fn amounts_are_read_from_the_documents_text_exactly_or_refused() {
    let document = |total: &str| {
        RawValue::from_string(format!(
            r#"{{"uid": "u4", "status": "refunded", "amount_breakdown":
                {{"total": {{"amount": {total}, "currency": "EUR"}}}}}}"#
        ))
        .unwrap()
    };
    for (text, exact) in [
        ("123456789012345678.9", "123456789012345678.90 EUR"),
        ("\"6.50\"", "6.50 EUR"),
        ("16.1", "16.10 EUR"),
        ("0.1", "0.10 EUR"),
    ] {
        let refund = to_refund(&instance(), &document(text), None, "en").unwrap();
        assert_eq!(refund.amount.unwrap().to_string(), exact, "{text}");
    }
    // 30 significant digits: more than a decimal holds, so refused rather than rounded.
    let e = to_refund(
        &instance(),
        &document("1234567890123456.78901234567890"),
        None,
        "en",
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadResponse);
    assert!(e.message.contains("never rounded"), "{}", e.message);
}

#[test]
fn a_breakdown_whose_sum_overflows_is_a_bad_response() {
    let max = "79228162514264337593543950335";
    let body = json!({
        "uid": "u5", "status": "refunded",
        "amount_breakdown": {
            "total": {"amount": max, "currency": "ISK"},
            "by_tickets": [
                {"product_name": {"en": "A"}, "amount": {"amount": max, "currency": "ISK"}},
                {"product_name": {"en": "B"}, "amount": {"amount": max, "currency": "ISK"}}
            ]
        }
    });
    let e = to_refund(&instance(), &raw(&body), None, "en").unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadResponse);
    assert!(e.message.contains("do not add up"), "{}", e.message);
}
