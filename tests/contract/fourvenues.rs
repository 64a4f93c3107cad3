//! Fourvenues through the whole gateway over loopback HTTP: the replay vendor serves
//! `fixtures/fourvenues/`, and every assertion is made at the canonical API.
//! The faults every vendor shares (401, 403, 404, 429, HTML 5xx, truncated JSON, resets,
//! HTTP 200 with an error body, timeouts) are cases of the shared suite (`shared.rs`, from
//! `fixtures/<vendor>/contract.toml`); this file keeps what is particular to this vendor.

use serde_json::{json, Value};

use crate::support::{assert_problem, secret_file, ReplayVendor, TestGateway};

const A: &str = "5f8d0f8b9d2b3b0017b6d8a0";
const B: &str = "5f8d0f8b9d2b3b0017b6d8b1";

async fn replay(names: &[&str]) -> ReplayVendor {
    ReplayVendor::vendor("fourvenues", names).await
}

async fn gateway(vendor: &ReplayVendor) -> TestGateway {
    TestGateway::start(&format!(
        r#"
[providers.fv]
kind = "fourvenues"
base_url = "{}"
timeout = "2s"
connect_timeout = "1s"
api_key = {{ file = "{}" }}
"#,
        vendor.base_url(),
        secret_file("fv-contract-key")
    ))
    .await
}

fn create_body(ticket: &str, amount: Option<&str>) -> Value {
    let mut body = json!({
        "provider": "fv",
        "target": {"tickets": [ticket]},
        "reason": "event cancelled",
    });
    if let Some(value) = amount {
        body["amount"] = json!({"value": value, "currency": "EUR"});
    }
    body
}

/// Runs one create against the given fixtures and returns the answer.
async fn create(names: &[&str], ticket: &str, amount: Option<&str>) -> crate::support::ApiResponse {
    let vendor = replay(names).await;
    let gw = gateway(&vendor).await;
    let response = gw.post("/v1/refunds", create_body(ticket, amount)).await;
    vendor.assert_clean();
    response
}

#[tokio::test]
async fn partial_refund_then_get_and_list() {
    let vendor = replay(&[
        "get-ticket-unrefunded",
        "refund-partial",
        "get-ticket-refunded",
        "get-ticket-refunded",
    ])
    .await;
    let gw = gateway(&vendor).await;

    let created = gw.post("/v1/refunds", create_body(A, Some("10.00"))).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let refund = &created.body;
    assert_eq!(refund["status"], "succeeded");
    assert_eq!(refund["provider"], "fv");
    assert_eq!(refund["provider_kind"], "fourvenues");
    assert_eq!(
        refund["amount"],
        json!({"value": "10.00", "currency": "EUR"})
    );
    assert_eq!(refund["target"]["tickets"], json!([A]));
    assert_eq!(refund["vendor_reference"], format!("ticket/{A}/refund/0"));
    assert_eq!(refund["reason"], "event cancelled");
    assert_eq!(refund["lines"][0]["kind"], "ticket");
    assert_eq!(refund["lines"][0]["partial"], true);
    assert_eq!(refund["vendor_created_at"], "2020-10-19T07:00:00Z");
    assert!(
        refund["created_at"].as_str().unwrap() > "2026",
        "the gateway's own time: {}",
        refund["created_at"]
    );
    assert!(
        !created.text.contains("REDACTED"),
        "no personal data is copied"
    );

    let id = refund["id"].as_str().unwrap();
    let got = gw.get(&format!("/v1/refunds/{id}")).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.body["id"], id);
    assert_eq!(got.body["amount"], refund["amount"]);

    let listed = gw.get(&format!("/v1/refunds?provider=fv&ticket={A}")).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed.body["data"][0]["id"], id);
    vendor.assert_clean();
}

#[tokio::test]
async fn full_refund_without_amount_takes_the_whole_remaining() {
    let r = create(&["get-ticket-partly-refunded", "refund-full"], B, None).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "succeeded");
    assert_eq!(
        r.body["amount"],
        json!({"value": "10.00", "currency": "EUR"})
    );
    assert_eq!(r.body["vendor_reference"], format!("ticket/{B}/refund/1"));
    assert_eq!(r.body["lines"][0]["partial"], true);
    let notes = r.body["notes"].to_string();
    assert!(notes.contains("whole remaining"), "{notes}");
}

#[tokio::test]
async fn fractional_amount_is_refused_without_any_vendor_request() {
    let vendor = replay(&[]).await;
    let gw = gateway(&vendor).await;
    let r = gw.post("/v1/refunds", create_body(A, Some("10.50"))).await;
    assert_problem(&r, 422, "amount_not_representable");
    assert_eq!(r.body["pointer"], "/amount/value");
    assert!(vendor.received().is_empty(), "{:?}", vendor.received());
    vendor.assert_clean();
}

#[tokio::test]
async fn a_fractional_remaining_is_refused_before_the_refund_request() {
    // Ticket A after the partial refund: 6.1 EUR left, which is not whole euros.
    let r = create(&["get-ticket-refunded"], A, None).await;
    assert_problem(&r, 422, "amount_not_representable");
    assert_eq!(r.body["pointer"], "/amount");
}

#[tokio::test]
async fn vendor_400_is_a_rejection() {
    let r = create(
        &["get-ticket-unrefunded", "error-400-refund"],
        A,
        Some("16"),
    )
    .await;
    assert_problem(&r, 422, "provider_rejected");
    assert_eq!(r.body["vendor_status"], 400);
    assert_eq!(
        r.body["vendor_message"],
        "The amount to refund exceeds the refundable amount of the ticket"
    );
    assert_eq!(r.body["outcome"], "not_applied");
}

#[tokio::test]
async fn sandbox_create_get_list_and_over_refund() {
    let gw = TestGateway::start("[providers.fv]\nkind = \"fourvenues\"\nsandbox = true\n").await;
    let created = gw.post("/v1/refunds", create_body(A, Some("10"))).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().unwrap();
    let got = gw.get(&format!("/v1/refunds/{id}")).await;
    assert_eq!((got.status, &got.body["id"]), (200, &json!(id)));
    let listed = gw.get(&format!("/v1/refunds?provider=fv&ticket={A}")).await;
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(1));
    let over = gw.post("/v1/refunds", create_body(A, Some("7"))).await;
    assert_problem(&over, 422, "amount_exceeds_refundable");
}

/// A quote replays exactly the recorded ticket read and nothing else.
#[tokio::test]
async fn quote_reads_the_recorded_ticket_only() {
    let vendor = ReplayVendor::vendor("fourvenues", &["get-ticket-partly-refunded"]).await;
    let gw = gateway(&vendor).await;
    let q = gw
        .post_with(
            "/v1/refund-quotes",
            json!({"provider": "fv", "target": {"tickets": [B]}, "amount": {"value": "10.50", "currency": "EUR"}}),
            &[],
        )
        .await;
    assert_eq!(q.status, 200, "{}", q.text);
    assert_eq!(q.body["lines"][0]["refundable"]["value"], "10.00");
    assert_eq!(q.body["create"]["code"], "amount_not_representable");
    vendor.assert_clean();
}
