//! The provider against the recorded exchanges of `fixtures/ivvy/`, through the core's
//! `FixtureTransport`: each request must be the recorded one (signed headers present, the
//! documented body), and each answer must map to the result stated here. (The faults every
//! vendor shares are also run through the gateway by the shared contract suite.)

use std::sync::Arc;

use refund_provider::fixture_transport::FixtureTransport;
use refund_provider::{ErrorKind, Outcome, Provider, RefundStatus, VendorRef};

use super::{provider, request, BASE};
use crate::IvvyConfig;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/ivvy");

/// A live instance with fake credentials, answered by `names`.
fn live(names: &[&str]) -> (Arc<dyn Provider>, Arc<FixtureTransport>) {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let secret = |tag: &str| {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("ivvy-fixture-{}-{n}", std::process::id()));
        std::fs::write(&path, format!("fake-{tag}")).unwrap();
        serde_json::json!({ "file": path })
    };
    let config: IvvyConfig = serde_json::from_value(serde_json::json!({
        "api_key": secret("key"), "api_secret": secret("secret"), "currency": "AUD"
    }))
    .unwrap();
    let transport = Arc::new(FixtureTransport::load(BASE, DIR, names));
    (provider(config, false, transport.clone()), transport)
}

#[tokio::test]
async fn a_refund_spread_over_two_invoices_is_read_back_by_its_id() {
    let (p, t) = live(&[
        "add-refund-spread-two-invoices",
        "get-invoice-1736",
        "get-invoice-1737",
    ]);
    let created = p.create(&request("200.00")).await.unwrap();
    assert_eq!(created.status, RefundStatus::Succeeded);
    assert_eq!(
        created.vendor_reference.as_str(),
        "venue/2/booking/2/refunds/1736:180,1737:181"
    );
    let got = p.get(&created.vendor_reference).await.unwrap();
    let amounts: Vec<String> = got
        .lines
        .iter()
        .map(|l| l.amount.unwrap().value().to_string())
        .collect();
    assert_eq!(amounts, ["150.00", "50.00"]);
    let sent = t.sent();
    assert_eq!(sent[0].query["action"], "addRefundToBooking");
    assert_eq!(sent[0].json().unwrap()["refund"]["amount"], 200);
    t.assert_all_used();
}

#[tokio::test]
async fn an_error_body_decides_whatever_the_http_status() {
    let (p, t) = live(&["add-refund-error-body-http-200"]);
    let e = p.create(&request("500.00")).await.unwrap_err();
    assert_eq!(
        (e.kind, e.outcome),
        (ErrorKind::AmountExceedsRefundable, Outcome::NotApplied)
    );
    let v = e.vendor.unwrap();
    assert_eq!((v.status, v.code.as_deref()), (Some(200), Some("24146")));
    t.assert_all_used();

    let (p, t) = live(&["get-invoice-error-body-http-200"]);
    let e = p
        .get(&VendorRef::new("venue/2/booking/2/refunds/1736:180"))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert_eq!(e.vendor.unwrap().code.as_deref(), Some("24137"));
    t.assert_all_used();
}

#[tokio::test]
async fn a_partly_applied_refund_leaves_the_outcome_unknown() {
    let (p, t) = live(&["add-refund-partially-applied-24148"]);
    let e = p.create(&request("60.00")).await.unwrap_err();
    assert_eq!(
        (e.kind, e.outcome),
        (ErrorKind::PartiallyApplied, Outcome::Unknown)
    );
    t.assert_all_used();
}
