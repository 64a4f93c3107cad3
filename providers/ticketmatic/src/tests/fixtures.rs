//! The provider against the recorded exchanges of `fixtures/ticketmatic/`, through the
//! core's `FixtureTransport`: each request must be the recorded one, and each answer must
//! map to the result stated here. (The faults every vendor shares are also run through the
//! gateway by the shared contract suite.)

use std::sync::Arc;
use std::time::Duration;

use refund_provider::fixture_transport::FixtureTransport;
use refund_provider::http::Method;
use refund_provider::{ErrorKind, Outcome, RefundStatus};

use super::{provider, request, BASE, ORDER};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/ticketmatic");

fn fixtures(names: &[&str]) -> Arc<FixtureTransport> {
    Arc::new(FixtureTransport::load(BASE, DIR, names).with_timeout(Duration::from_millis(500)))
}

#[tokio::test]
async fn a_full_refund_reads_the_order_then_refunds_its_payment() {
    let t = fixtures(&["get-order", "add-refund-full"]);
    let refund = provider(false, t.clone())
        .create(&request(ORDER, &[], None))
        .await
        .unwrap();
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert_eq!(refund.amount.unwrap().value().to_string(), "50.00");
    assert_eq!(refund.vendor_refs["payment_id"], "125");
    assert_eq!(
        t.paths(),
        ["/demo/orders/1269434", "/demo/orders/1269434/refunds"]
    );
    t.assert_all_used();
}

#[tokio::test]
async fn a_failed_order_read_sends_no_refund_and_applies_nothing() {
    for (fault, kind) in [
        ("fault-reset-get-order", ErrorKind::Unavailable),
        ("garbage-502-html", ErrorKind::Unavailable),
        ("error-500-text", ErrorKind::Unavailable),
        ("garbage-truncated-json", ErrorKind::BadResponse),
        ("timeout-get-order", ErrorKind::Timeout),
    ] {
        let t = fixtures(&[fault]);
        let e = provider(false, t.clone())
            .create(&request(ORDER, &["125"], Some("20.00")))
            .await
            .unwrap_err();
        assert_eq!((e.kind, e.outcome), (kind, Outcome::NotApplied), "{fault}");
        assert_eq!(t.sent_with(&Method::POST), 0, "{fault}");
        t.assert_all_used();
    }
}

#[tokio::test]
async fn a_failed_refund_call_leaves_the_outcome_unknown() {
    for (fault, kind, status) in [
        ("fault-reset", ErrorKind::Unavailable, None),
        ("error-500", ErrorKind::Unavailable, Some(500)),
        (
            "garbage-502-html-add-refund",
            ErrorKind::Unavailable,
            Some(502),
        ),
        (
            "garbage-truncated-json-add-refund",
            ErrorKind::BadResponse,
            Some(200),
        ),
        ("timeout-add-refund", ErrorKind::Timeout, None),
    ] {
        let t = fixtures(&["get-order", fault]);
        let e = provider(false, t.clone())
            .create(&request(ORDER, &["125"], Some("20.00")))
            .await
            .unwrap_err();
        assert_eq!((e.kind, e.outcome), (kind, Outcome::Unknown), "{fault}");
        assert_eq!(e.vendor.and_then(|v| v.status), status, "{fault}");
        assert_eq!(t.sent_with(&Method::POST), 1, "{fault}");
        t.assert_all_used();
    }
}

#[tokio::test]
async fn a_refused_refund_keeps_the_vendor_code() {
    let t = fixtures(&["get-order", "error-400-refund-rejected"]);
    let e = provider(false, t.clone())
        .create(&request(ORDER, &["125"], Some("20.00")))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind, e.outcome),
        (ErrorKind::Rejected, Outcome::NotApplied)
    );
    assert_eq!(e.vendor.unwrap().code.as_deref(), Some("6003"));
    t.assert_all_used();
}
