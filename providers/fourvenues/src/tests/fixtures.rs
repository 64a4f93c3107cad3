//! The provider against the recorded exchanges of `fixtures/fourvenues/`, through the
//! core's `FixtureTransport`: each request must be the recorded one, and each answer must
//! map to the result stated here. (The faults every vendor shares are also run through the
//! gateway by the shared contract suite.)

use std::sync::Arc;
use std::time::Duration;

use refund_provider::fixture_transport::FixtureTransport;
use refund_provider::http::Method;
use refund_provider::{ErrorKind, Outcome, Provider, RefundStatus, SecretRef};

use super::{provider, request, A, BASE};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/fourvenues");

/// A live instance with a fake key, answered by `names`.
fn live(names: &[&str]) -> (Arc<dyn Provider>, Arc<FixtureTransport>) {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let key = std::env::temp_dir().join(format!("fv-fixture-key-{}-{n}", std::process::id()));
    std::fs::write(&key, "fv-fixture-key").unwrap();
    let transport =
        Arc::new(FixtureTransport::load(BASE, DIR, names).with_timeout(Duration::from_millis(500)));
    let p = provider(false, Some(SecretRef::File(key)), transport.clone());
    (p, transport)
}

#[tokio::test]
async fn a_partial_refund_reads_the_ticket_then_refunds_whole_euros() {
    let (p, t) = live(&["get-ticket-unrefunded", "refund-partial"]);
    let refund = p.create(&request(A, Some("10"))).await.unwrap();
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert_eq!(
        refund.vendor_reference.as_str(),
        format!("ticket/{A}/refund/0")
    );
    let put = &t.sent()[1];
    assert_eq!(put.method, Method::PUT);
    assert_eq!(put.json().unwrap(), serde_json::json!({"amount": 10}));
    t.assert_all_used();
}

#[tokio::test]
async fn a_failed_ticket_read_sends_no_refund_and_applies_nothing() {
    for (fault, kind) in [
        ("reset-get-ticket", ErrorKind::Unavailable),
        ("error-502-html-get-ticket", ErrorKind::Unavailable),
        ("truncated-json-get-ticket", ErrorKind::BadResponse),
        ("timeout-get-ticket", ErrorKind::Timeout),
    ] {
        let (p, t) = live(&[fault]);
        let e = p.create(&request(A, Some("10"))).await.unwrap_err();
        assert_eq!((e.kind, e.outcome), (kind, Outcome::NotApplied), "{fault}");
        assert_eq!(t.sent_with(&Method::PUT), 0, "{fault}");
        t.assert_all_used();
    }
}

#[tokio::test]
async fn a_failed_refund_call_leaves_the_outcome_unknown() {
    for (fault, kind) in [
        ("reset-refund", ErrorKind::Unavailable),
        ("error-502-html-refund", ErrorKind::Unavailable),
        ("truncated-json-refund", ErrorKind::BadResponse),
        ("refund-timeout", ErrorKind::Timeout),
    ] {
        let (p, t) = live(&["get-ticket-unrefunded", fault]);
        let e = p.create(&request(A, Some("10"))).await.unwrap_err();
        assert_eq!((e.kind, e.outcome), (kind, Outcome::Unknown), "{fault}");
        assert_eq!(t.sent_with(&Method::PUT), 1, "{fault}");
        t.assert_all_used();
    }
}

#[tokio::test]
async fn success_false_in_a_200_is_a_refusal() {
    let (p, t) = live(&["get-ticket-unrefunded", "error-200-success-false-refund"]);
    let e = p.create(&request(A, Some("10"))).await.unwrap_err();
    assert_eq!(
        (e.kind, e.outcome),
        (ErrorKind::Rejected, Outcome::NotApplied)
    );
    assert_eq!(e.vendor.unwrap().message, "The ticket cannot be refunded");
    t.assert_all_used();
}
