//! A vendor that does not answer in time: the client gets 202 with the refund in status
//! `unknown` (never a bare error that invites a blind retry), and the create is not sent again.

use serde_json::json;

use crate::support::{secret_file, ReplayVendor, TestGateway};

#[tokio::test]
async fn a_create_that_times_out_is_unknown_and_not_retried() {
    let vendor = ReplayVendor::start(&[
        "fixtures/ticketmatic/get-order.json",
        "fixtures/ticketmatic/timeout-add-refund.json",
    ])
    .await;
    let config = format!(
        "[providers.tm]\nkind = \"ticketmatic\"\nbase_url = \"{}\"\naccount = \"demo\"\ntimeout = \"500ms\"\n\
         retry = {{ attempts = 3, backoff = \"10ms\" }}\n\
         access_key = {{ file = \"{}\" }}\nsecret_key = {{ file = \"{}\" }}\n",
        vendor.base_url(),
        secret_file("access"),
        secret_file("secret")
    );
    let gw = TestGateway::start(&config).await;
    let started = std::time::Instant::now();
    let r = gw
        .post(
            "/v1/refunds",
            json!({"provider": "tm", "target": {"order": "1269434", "payments": ["125"]}, "amount": {"value": "20.00", "currency": "EUR"}}),
        )
        .await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "the gateway must not wait for the vendor"
    );
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.body["status"], "unknown");
    assert_eq!(r.body["status_reason"]["code"], "provider_timeout");
    assert!(r.body["id"].as_str().unwrap().starts_with("rfg_"));
    assert_eq!(r.body["amount"]["value"], "20.00");
    let posts = vendor
        .received()
        .iter()
        .filter(|q| q.method == "POST")
        .count();
    assert_eq!(
        posts, 1,
        "a create whose outcome is unknown is never sent twice"
    );
    vendor.assert_clean();
}
