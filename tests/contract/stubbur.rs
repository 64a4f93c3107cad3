//! Stubbur through the whole gateway over loopback HTTP: the replay vendor serves
//! `fixtures/stubbur/`, and every assertion is made at the canonical API.
//! The faults every vendor shares (401, 403, 404, 429, HTML 5xx, truncated JSON, resets,
//! HTTP 200 with an error body, timeouts) are cases of the shared suite (`shared.rs`, from
//! `fixtures/<vendor>/contract.toml`); this file keeps what is particular to this vendor.

use serde_json::{json, Value};

use crate::support::{assert_problem, secret_file, ApiResponse, ReplayVendor, TestGateway};

async fn replay(names: &[&str]) -> ReplayVendor {
    ReplayVendor::vendor("stubbur", names).await
}

fn bearer() -> String {
    format!(
        r#"auth = {{ mode = "bearer", token = {{ file = "{}" }} }}"#,
        secret_file("stubbur-contract-token")
    )
}

fn credentials() -> String {
    format!(
        r#"auth = {{ mode = "credentials", username = "refund-bot@example.invalid", password = {{ file = "{}" }} }}"#,
        secret_file("stubbur-contract-password")
    )
}

async fn gateway(vendor: &ReplayVendor, auth: &str) -> TestGateway {
    TestGateway::start(&format!(
        r#"
[providers.sb]
kind = "stubbur"
base_url = "{}"
timeout = "2s"
connect_timeout = "1s"
{auth}
"#,
        vendor.base_url()
    ))
    .await
}

fn body(target: Value, reason: Option<&str>) -> Value {
    let mut body = json!({"provider": "sb", "target": target});
    if let Some(reason) = reason {
        body["reason"] = json!(reason);
    }
    body
}

/// One create against one fixture with the bearer token; the replay must be clean.
async fn create(fixture: &str, target: Value, reason: Option<&str>) -> ApiResponse {
    let vendor = replay(&[fixture]).await;
    let gw = gateway(&vendor, &bearer()).await;
    let response = gw.post("/v1/refunds", body(target, reason)).await;
    vendor.assert_clean();
    response
}

#[tokio::test]
async fn ticket_refund_succeeds_with_one_order_line() {
    let r = create(
        "refund-tickets-success",
        json!({"tickets": ["tk-1001-0201"]}),
        Some("Customer request"),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "succeeded");
    assert_eq!(r.body["provider_kind"], "stubbur");
    assert_eq!(
        r.body["amount"],
        json!({"value": "6900", "currency": "ISK"})
    );
    assert_eq!(
        r.body["counts"],
        json!({"refunded": 1, "skipped": 0, "failed": 0})
    );
    let line = &r.body["lines"][0];
    assert_eq!(line["kind"], "order");
    assert_eq!(line["reference"], "SB-1001-02");
    assert_eq!(line["status"], "succeeded");
    assert_eq!(line["tickets"], json!(["tk-1001-0201"]));
    assert_eq!(
        line["vendor_refs"]["borgun_refund_transaction_id"],
        "BRG-RF-000201"
    );
    assert_eq!(line["vendor_refs"]["freed_seat_ids"], "201");
    assert!(!r.text.contains("REDACTED") && !r.text.contains("example.invalid"));
}

#[tokio::test]
async fn partial_outcome_is_marked_partial() {
    let r = create(
        "refund-tickets-partial",
        json!({"tickets": ["tk-1001-0101"]}),
        None,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "succeeded");
    assert_eq!(r.body["lines"][0]["partial"], true);
    assert_eq!(r.body["amount"]["value"], "4500");
}

#[tokio::test]
async fn payment_reference_refund() {
    let r = create(
        "refund-payments-success",
        json!({"payments": ["SB-1001-01"]}),
        Some("Duplicate purchase"),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.body["lines"][0]["tickets"],
        json!(["tk-1001-0101", "tk-1001-0102"])
    );
}

#[tokio::test]
async fn event_wide_refund_with_mixed_outcomes_does_not_claim_success() {
    let r = create(
        "refund-event-mixed",
        json!({"event": "1001", "all_for_event": true}),
        Some("Event cancelled"),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "partially_succeeded");
    assert_ne!(r.body["status"], "succeeded");
    let counts = &r.body["counts"];
    assert_eq!(counts, &json!({"refunded": 2, "skipped": 1, "failed": 1}));
    let lines = r.body["lines"].as_array().unwrap();
    let total = |s: &str| lines.iter().filter(|l| l["status"] == s).count() as u64;
    assert_eq!(total("succeeded"), counts["refunded"].as_u64().unwrap());
    assert_eq!(total("skipped"), counts["skipped"].as_u64().unwrap());
    assert_eq!(total("failed"), counts["failed"].as_u64().unwrap());
    assert_eq!(lines.len(), 4);
    let refunded: u64 = lines
        .iter()
        .filter(|l| l["status"] == "succeeded")
        .map(|l| {
            l["amount"]["value"]
                .as_str()
                .unwrap()
                .parse::<u64>()
                .unwrap()
        })
        .sum();
    assert_eq!(r.body["amount"]["value"], refunded.to_string());
    let failed = lines.iter().find(|l| l["status"] == "failed").unwrap();
    assert_eq!(failed["reference"], "SB-1001-04");
    assert!(failed["message"].as_str().unwrap().contains("declined"));
    assert!(!r.text.contains("REDACTED"), "holder data is not copied");
}

#[tokio::test]
async fn an_explicit_amount_is_refused_before_any_vendor_call() {
    let vendor = replay(&[]).await;
    let gw = gateway(&vendor, &bearer()).await;
    let mut b = body(json!({"tickets": ["tk-1001-0201"]}), None);
    b["amount"] = json!({"value": "6900", "currency": "ISK"});
    let r = gw.post("/v1/refunds", b).await;
    assert_problem(&r, 501, "unsupported_operation");
    assert_eq!(r.body["pointer"], "/amount");
    assert!(vendor.received().is_empty());

    let r = gw
        .post("/v1/refunds", body(json!({"all_for_event": true}), None))
        .await;
    assert_eq!(r.code(), "validation_failed", "{}", r.text);
    assert_eq!(r.body["pointer"], "/target/event");
    assert!(vendor.received().is_empty());
    vendor.assert_clean();
}

/// The documented ServiceStack errors the shared suite does not cover (it has 401, 403,
/// 404 and 429): each keeps the vendor's status and `errorCode`.
#[tokio::test]
async fn the_other_documented_service_stack_errors() {
    let tk = json!({"tickets": ["tk-1001-0201"]});
    for (fixture, target, code, vendor_code) in [
        (
            "error-400",
            json!({"tickets": ["not-a-token"]}),
            "provider_rejected",
            "ArgumentException",
        ),
        (
            "error-405",
            tk.clone(),
            "provider_rejected",
            "MethodNotAllowed",
        ),
        (
            "error-409",
            json!({"event": "1001", "all_for_event": true}),
            "provider_rejected",
            "Conflict",
        ),
    ] {
        let r = create(fixture, target, None).await;
        assert_problem(&r, 422, code);
        assert_eq!(r.body["vendor_code"], vendor_code, "{fixture}: {}", r.text);
        assert_eq!(
            r.body["vendor_status"].to_string(),
            fixture[6..],
            "{fixture}"
        );
        assert_eq!(r.body["outcome"], "not_applied", "{fixture}");
    }
    let r = create("error-400", json!({"tickets": ["not-a-token"]}), None).await;
    assert!(r.body["vendor_message"]
        .as_str()
        .unwrap()
        .contains("TicketTokenIds: "));
    // The vendor failed mid-request: it may have applied the refund.
    let r = create("error-500", json!({"payments": ["SB-1001-02"]}), None).await;
    crate::support::assert_unknown_outcome(&r, "provider_unavailable", Some(500));
    assert_eq!(
        r.body["status_reason"]["vendor_code"],
        "NullReferenceException"
    );
}

#[tokio::test]
async fn credentials_login_is_reused_and_renewed_once_on_401() {
    let vendor = replay(&[
        "auth-login-session-a",
        "auth-refund-session-a",
        "auth-refund-session-a-expired",
        "auth-login-session-b",
        "auth-refund-session-b",
    ])
    .await;
    let gw = gateway(&vendor, &credentials()).await;
    let first = gw
        .post(
            "/v1/refunds",
            body(json!({"tickets": ["tk-1001-0201"]}), None),
        )
        .await;
    assert_eq!(
        (first.status, &first.body["status"]),
        (201, &json!("succeeded")),
        "{}",
        first.text
    );
    let second = gw
        .post(
            "/v1/refunds",
            body(json!({"tickets": ["tk-1001-0102"]}), None),
        )
        .await;
    assert_eq!(second.status, 201, "{}", second.text);
    assert_eq!(second.body["lines"][0]["tickets"], json!(["tk-1001-0102"]));
    let paths: Vec<String> = vendor.received().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/auth/credentials",
            "/refund/process",
            "/refund/process",
            "/auth/credentials",
            "/refund/process"
        ]
    );
    vendor.assert_clean();
}

#[tokio::test]
async fn credentials_fail_after_one_renewal() {
    let vendor = replay(&[
        "auth-login-session-a",
        "auth-refund-session-a-expired",
        "auth-login-session-b",
        "auth-refund-session-b-401",
    ])
    .await;
    let gw = gateway(&vendor, &credentials()).await;
    let r = gw
        .post(
            "/v1/refunds",
            body(json!({"tickets": ["tk-1001-0102"]}), None),
        )
        .await;
    assert_problem(&r, 502, "provider_unauthorized");
    assert_eq!(r.body["outcome"], "not_applied");
    vendor.assert_clean();
}

#[tokio::test]
async fn lookups_come_from_the_ledger_not_the_vendor() {
    let vendor = replay(&["refund-tickets-success"]).await;
    let gw = gateway(&vendor, &bearer()).await;
    let created = gw
        .post(
            "/v1/refunds",
            body(
                json!({"tickets": ["tk-1001-0201"]}),
                Some("Customer request"),
            ),
        )
        .await;
    let id = created.body["id"].as_str().unwrap().to_string();
    // Stubbur has no read endpoint: the refund is read from what the gateway recorded.
    let got = gw.get(&format!("/v1/refunds/{id}")).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.body, created.body);
    assert_eq!(got.body["lines"][0]["reference"], "SB-1001-02");
    let listed = gw.get("/v1/refunds?provider=sb&ticket=tk-1001-0201").await;
    assert_problem(&listed, 501, "unsupported_operation");
    vendor.assert_clean();
}

#[tokio::test]
async fn sandbox_instance_refunds_and_skips_what_is_already_refunded() {
    let gw = TestGateway::start(
        r#"
[providers.sbx]
kind = "stubbur"
sandbox = true
auth = { mode = "credentials", username = "anyone" }
"#,
    )
    .await;
    let create = |target: Value| json!({"provider": "sbx", "target": target});
    let partial = gw
        .post("/v1/refunds", create(json!({"tickets": ["tk-1001-0101"]})))
        .await;
    assert_eq!(partial.status, 201, "{}", partial.text);
    assert_eq!(partial.body["lines"][0]["partial"], true);
    let event = gw
        .post(
            "/v1/refunds",
            create(json!({"event": "1001", "all_for_event": true})),
        )
        .await;
    assert_eq!(
        event.body["status"], "partially_succeeded",
        "{}",
        event.text
    );
    assert_eq!(
        event.body["counts"],
        json!({"refunded": 2, "skipped": 1, "failed": 1})
    );
    assert_eq!(
        event.body["amount"],
        json!({"value": "11400", "currency": "ISK"})
    );
    let again = gw
        .post("/v1/refunds", create(json!({"payments": ["SB-1001-02"]})))
        .await;
    assert_eq!(again.body["status"], "failed", "{}", again.text);
    assert_eq!(again.body["lines"][0]["status"], "skipped");
}

/// Stubbur has no read endpoint: a quote sends nothing at all, refuses an amount as the
/// create does, and a target the create cannot take is refused with its pointer.
#[tokio::test]
async fn a_quote_sends_nothing_to_stubbur() {
    let vendor = replay(&[]).await;
    let gw = gateway(&vendor, &bearer()).await;
    let q = gw
        .post_with(
            "/v1/refund-quotes",
            body(json!({"event": "1001", "all_for_event": true}), None),
            &[],
        )
        .await;
    assert_eq!(q.status, 200, "{}", q.text);
    assert_eq!(q.body["create"]["outcome"], "vendor_decides");
    let mut b = body(json!({"tickets": ["tk-1001-0201"]}), None);
    b["amount"] = json!({"value": "6900", "currency": "ISK"});
    let q = gw.post_with("/v1/refund-quotes", b, &[]).await;
    assert_eq!(
        q.body["create"]["code"], "unsupported_operation",
        "{}",
        q.text
    );
    let bad = gw
        .post_with(
            "/v1/refund-quotes",
            body(json!({"all_for_event": true}), None),
            &[],
        )
        .await;
    assert_problem(&bad, 422, "validation_failed");
    assert_eq!(bad.body["pointer"], "/target/event");
    assert!(vendor.received().is_empty());
    vendor.assert_clean();
}
