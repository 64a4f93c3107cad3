//! Bad canonical input answers 4xx problem+json with a stable code and a pointer; never a 500.

use serde_json::json;

use crate::support::{ApiResponse, TestGateway};

const CONFIG: &str = r#"
[server]
listen = "127.0.0.1:0"
body_limit = 2048

[providers.tm]
kind = "ticketmatic"
sandbox = true
account = "demo"

[providers.fv]
kind = "fourvenues"
sandbox = true
"#;

fn assert_problem(r: &ApiResponse, status: u16, code: &str, pointer: Option<&str>) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(
        r.header("content-type"),
        Some("application/problem+json"),
        "{}",
        r.text
    );
    assert_eq!(r.code(), code, "{}", r.text);
    assert_eq!(r.body["status"], status, "{}", r.text);
    assert!(
        r.body["type"].as_str().unwrap_or("").ends_with(code),
        "{}",
        r.text
    );
    assert!(
        !r.body["detail"].as_str().unwrap_or("").is_empty(),
        "{}",
        r.text
    );
    if let Some(p) = pointer {
        assert_eq!(r.body["pointer"], p, "{}", r.text);
    }
}

fn valid() -> serde_json::Value {
    json!({"provider": "tm", "target": {"order": "1269434"}, "amount": {"value": "1.00", "currency": "EUR"}})
}

#[tokio::test]
async fn malformed_bodies() {
    let gw = TestGateway::start(CONFIG).await;
    let r = gw
        .post_raw("/v1/refunds", "application/json", "{\"provider\": ")
        .await;
    assert_problem(&r, 400, "malformed_json", None);
    let r = gw.post_raw("/v1/refunds", "application/json", "").await;
    assert_problem(&r, 400, "malformed_json", None);
    let r = gw
        .post_raw("/v1/refunds", "text/plain", valid().to_string())
        .await;
    assert_problem(&r, 415, "unsupported_media_type", None);
    let r = gw
        .post_raw("/v1/refunds", "application/json", "{} trailing")
        .await;
    assert_problem(&r, 400, "malformed_json", None);
    let big = format!(
        "{{\"provider\": \"tm\", \"reason\": \"{}\"}}",
        "x".repeat(4096)
    );
    let r = gw.post_raw("/v1/refunds", "application/json", big).await;
    assert_problem(&r, 413, "payload_too_large", None);
}

#[tokio::test]
async fn amounts_are_exact_or_refused() {
    let gw = TestGateway::start(CONFIG).await;
    let cases = [
        (json!({"value": 10.0, "currency": "EUR"}), "/amount/value"),
        (
            json!({"value": "10.001", "currency": "EUR"}),
            "/amount/value",
        ),
        (json!({"value": "-5", "currency": "EUR"}), "/amount/value"),
        (json!({"value": "0", "currency": "EUR"}), "/amount/value"),
        (json!({"value": "1e3", "currency": "EUR"}), "/amount/value"),
        (
            json!({"value": "10", "currency": "EURO"}),
            "/amount/currency",
        ),
        (
            json!({"value": "10", "currency": "XAU"}),
            "/amount/currency",
        ),
        (json!({"value": "10", "currency": 978}), "/amount/currency"),
        (json!({"value": "10"}), "/amount/currency"),
        (
            json!({"value": "10", "currency": "EUR", "cents": 1}),
            "/amount/cents",
        ),
    ];
    for (amount, pointer) in cases {
        let mut body = valid();
        body["amount"] = amount.clone();
        let r = gw.post("/v1/refunds", body).await;
        assert_problem(&r, 422, "validation_failed", Some(pointer));
    }
    // A real currency the instance does not refund in has its own code.
    let mut body = valid();
    body["amount"] = json!({"value": "10", "currency": "ISK"});
    let r = gw.post("/v1/refunds", body).await;
    assert_problem(&r, 422, "currency_not_supported", Some("/amount/currency"));
}

#[tokio::test]
async fn fields_and_providers() {
    let gw = TestGateway::start(CONFIG).await;
    let mut body = valid();
    body["provider"] = json!("nope");
    assert_problem(
        &gw.post("/v1/refunds", body).await,
        422,
        "unknown_provider",
        Some("/provider"),
    );
    let mut body = valid();
    body.as_object_mut().unwrap().remove("provider");
    assert_problem(
        &gw.post("/v1/refunds", body).await,
        422,
        "validation_failed",
        Some("/provider"),
    );
    let mut body = valid();
    body["target"] = json!({});
    assert_problem(
        &gw.post("/v1/refunds", body).await,
        422,
        "validation_failed",
        Some("/target/order"),
    );
    let mut body = valid();
    body["target"] = json!({"ordr": "1"});
    assert_problem(
        &gw.post("/v1/refunds", body).await,
        422,
        "validation_failed",
        Some("/target/ordr"),
    );
    let mut body = valid();
    body["target"]["tickets"] = json!("not-a-list");
    assert_problem(
        &gw.post("/v1/refunds", body).await,
        422,
        "validation_failed",
        Some("/target/tickets"),
    );
    let body = json!({"provider": "fv", "target": {"tickets": ["5f8d0f8b9d2b3b0017b6d8a0"]}, "amount": {"value": "1.50", "currency": "EUR"}});
    assert_problem(
        &gw.post("/v1/refunds", body).await,
        422,
        "amount_not_representable",
        Some("/amount/value"),
    );
}

#[tokio::test]
async fn queries_ids_and_routes() {
    let gw = TestGateway::start(CONFIG).await;
    let r = gw.get("/v1/refunds?order=1").await;
    assert_eq!(
        (r.status, r.code()),
        (400, "validation_failed"),
        "{}",
        r.text
    );
    assert_eq!(r.body["parameter"], "provider");
    let r = gw.get("/v1/refunds?provider=nope&order=1").await;
    assert_eq!(
        (r.status, r.code()),
        (400, "unknown_provider"),
        "{}",
        r.text
    );
    let r = gw.get("/v1/refunds?provider=tm&colour=blue").await;
    assert_eq!(
        (r.status, r.body["parameter"].as_str()),
        (400, Some("colour")),
        "{}",
        r.text
    );
    // Without a target, the ledger is listed; its filters are checked too.
    let r = gw.get("/v1/refunds?provider=tm").await;
    assert_eq!(
        (r.status, r.body["has_more"].as_bool()),
        (200, Some(false)),
        "{}",
        r.text
    );
    for (query, parameter) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("status=done", "status"),
        ("created_gte=yesterday", "created_gte"),
        ("order=1&status=failed", "status"),
    ] {
        let r = gw.get(&format!("/v1/refunds?{query}")).await;
        assert_eq!(
            (r.status, r.body["parameter"].as_str()),
            (400, Some(parameter)),
            "{query}: {}",
            r.text
        );
    }
    for id in [
        "nope",
        "rf_",
        "rf_%21%21",
        "rf_dW5rbm93bjpvcmRlci8x",
        "rfg_01jzzzzzzzzzzzzzzzzzzzzzzz",
    ] {
        let r = gw.get(&format!("/v1/refunds/{id}")).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{id}: {}", r.text);
    }
    let r = gw.get("/v2/anything").await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = gw.post("/v1/providers", json!({})).await;
    assert_eq!((r.status, r.code()), (405, "method_not_allowed"));
}
