//! iVvy through the whole gateway over loopback HTTP: the replay vendor serves
//! `fixtures/ivvy/`, and every assertion is made at the canonical API. The last tests use
//! the iVvy sandbox, which verifies each request's signature over real HTTP.
//! The faults every vendor shares (401, 403, 404, 429, HTML 5xx, truncated JSON, resets,
//! HTTP 200 with an error body, timeouts) are cases of the shared suite (`shared.rs`, from
//! `fixtures/<vendor>/contract.toml`); this file keeps what is particular to this vendor.

use serde_json::{json, Value};

use crate::support::{assert_problem, secret_file, ApiResponse, ReplayVendor, TestGateway};

async fn replay(names: &[&str]) -> ReplayVendor {
    ReplayVendor::vendor("ivvy", names).await
}

async fn gateway(vendor: &ReplayVendor) -> TestGateway {
    TestGateway::start(&format!(
        r#"
[providers.iv]
kind = "ivvy"
base_url = "{}"
timeout = "2s"
connect_timeout = "1s"
api_key = {{ file = "{}" }}
api_secret = {{ file = "{}" }}
currency = "AUD"
"#,
        vendor.base_url(),
        secret_file("ivvy-contract-key"),
        secret_file("ivvy-contract-secret"),
    ))
    .await
}

fn create_body(booking: &str, amount: Option<&str>) -> Value {
    let mut body = json!({
        "provider": "iv",
        "target": {"venue": "2", "booking": booking},
        "reason": "Function cancelled by client",
    });
    if let Some(value) = amount {
        body["amount"] = json!({"value": value, "currency": "AUD"});
    }
    body
}

/// One create against the given fixtures; every fixture must have been used as recorded.
async fn create(names: &[&str], amount: &str) -> ApiResponse {
    let vendor = replay(names).await;
    let gw = gateway(&vendor).await;
    let response = gw.post("/v1/refunds", create_body("2", Some(amount))).await;
    vendor.assert_clean();
    response
}

#[tokio::test]
async fn refund_spread_over_two_invoices_then_get_and_list() {
    let vendor = replay(&[
        "add-refund-spread-two-invoices",
        "get-invoice-1736",
        "get-invoice-1737",
        "get-invoice-list-venue-2",
        "get-invoice-1736",
        "get-invoice-1737",
    ])
    .await;
    let gw = gateway(&vendor).await;

    let created = gw
        .post("/v1/refunds", create_body("2", Some("200.00")))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let refund = &created.body;
    assert_eq!(refund["status"], "succeeded");
    assert_eq!(refund["provider"], "iv");
    assert_eq!(refund["provider_kind"], "ivvy");
    assert_eq!(
        refund["amount"],
        json!({"value": "200.00", "currency": "AUD"})
    );
    assert_eq!(
        refund["vendor_reference"],
        "venue/2/booking/2/refunds/1736:180,1737:181"
    );
    let lines = refund["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["kind"], "invoice");
    assert_eq!(lines[0]["reference"], "1736");
    assert_eq!(lines[0]["vendor_refs"]["refund_id"], "180");
    assert_eq!(lines[1]["reference"], "1737");
    assert_eq!(lines[1]["vendor_refs"]["refund_id"], "181");

    let id = refund["id"].as_str().unwrap();
    let got = gw.get(&format!("/v1/refunds/{id}")).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.body["id"], id);
    assert_eq!(got.body["status"], "succeeded");
    assert_eq!(
        got.body["amount"],
        json!({"value": "200.00", "currency": "AUD"})
    );
    assert_eq!(got.body["reason"], "Function cancelled by client");
    let amounts: Vec<&Value> = got.body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["amount"]["value"])
        .collect();
    assert_eq!(amounts, [&json!("150.00"), &json!("50.00")]);

    let listed = gw.get("/v1/refunds?provider=iv&venue=2&booking=2").await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    // One refund spread over two invoices lists as that one refund, under the create's id.
    let data = listed.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{}", listed.text);
    assert_eq!(data[0]["id"], id);
    assert_eq!(
        data[0]["vendor_reference"],
        "venue/2/booking/2/refunds/1736:180,1737:181"
    );
    assert_eq!(
        data[0]["amount"],
        json!({"value": "200.00", "currency": "AUD"})
    );

    // The create went out as iVvy documents it: amount as a JSON number, date in UTC.
    let sent = vendor.received()[0].json().unwrap();
    assert_eq!(sent["refund"]["amount"], json!(200));
    let date = sent["refund"]["refundDate"].as_str().unwrap();
    assert!(date.ends_with(" UTC") && date.len() == 23, "{date}");
    vendor.assert_clean();
}

#[tokio::test]
async fn partially_applied_refund_leaves_the_outcome_unknown() {
    let r = create(&["add-refund-partially-applied-24148"], "60.00").await;
    crate::support::assert_unknown_outcome(&r, "refund_partially_applied", Some(400));
    assert_eq!(r.body["status_reason"]["vendor_code"], "24148");
    assert!(
        r.body["status_reason"]["vendor_message"]
            .as_str()
            .unwrap()
            .contains("Only 50.00 of 60.00 could be applied"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn each_refund_error_code_has_its_own_canonical_code() {
    let cases = [
        (
            "add-refund-nothing-refundable-24145",
            "10.00",
            409,
            "nothing_refundable",
            "24145",
        ),
        (
            "add-refund-more-than-payable-24146",
            "1000.00",
            422,
            "amount_exceeds_refundable",
            "24146",
        ),
        (
            "add-refund-amount-not-positive-24147",
            "0.01",
            400,
            "amount_invalid",
            "24147",
        ),
        (
            "add-refund-partially-applied-24148",
            "60.00",
            202,
            "refund_partially_applied",
            "24148",
        ),
        (
            "add-refund-invalid-details-24149",
            "5.00",
            422,
            "provider_rejected",
            "24149",
        ),
    ];
    let mut seen = Vec::new();
    for (name, amount, status, code, vendor_code) in cases {
        let r = create(&[name], amount).await;
        if vendor_code == "24148" {
            // Part may have been applied: the refund is `unknown`, for a lookup to settle.
            crate::support::assert_unknown_outcome(&r, code, Some(400));
            assert_eq!(r.body["status_reason"]["vendor_code"], vendor_code);
            seen.push((code.to_string(), r.status));
            continue;
        }
        assert_problem(&r, status, code);
        assert_eq!(r.body["vendor_code"], vendor_code, "{name}");
        assert_eq!(r.body["outcome"], "not_applied", "{name}");
        seen.push((r.code().to_string(), r.status));
    }
    seen.sort();
    seen.dedup();
    assert_eq!(
        seen.len(),
        5,
        "each specific code maps to its own canonical code"
    );
}

#[tokio::test]
async fn requests_ivvy_cannot_take_never_reach_it() {
    let vendor = replay(&[]).await;
    let gw = gateway(&vendor).await;
    let r = gw.post("/v1/refunds", create_body("2", None)).await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(r.body["pointer"], "/amount");
    let r = gw
        .post("/v1/refunds", create_body("BK-0002", Some("10.00")))
        .await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(r.body["pointer"], "/target/booking");
    let mut eur = create_body("2", Some("10.00"));
    eur["amount"]["currency"] = json!("EUR");
    let r = gw.post("/v1/refunds", eur).await;
    assert_problem(&r, 422, "currency_not_supported");
    assert_eq!(r.body["pointer"], "/amount/currency");
    assert!(vendor.received().is_empty());
    vendor.assert_clean();
}

#[tokio::test]
async fn sandbox_checks_signatures_and_refuses_beyond_refundable() {
    let gw = TestGateway::start("[providers.iv]\nkind = \"ivvy\"\nsandbox = true\n").await;
    let created = gw
        .post("/v1/refunds", create_body("2", Some("200.00")))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["lines"].as_array().unwrap().len(), 2);

    let id = created.body["id"].as_str().unwrap();
    let got = gw.get(&format!("/v1/refunds/{id}")).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.body["amount"]["value"], "200.00");

    let listed = gw.get("/v1/refunds?provider=iv&venue=2&booking=2").await;
    assert_eq!(
        listed.body["data"].as_array().unwrap().len(),
        1,
        "{}",
        listed.text
    );

    let r = gw
        .post("/v1/refunds", create_body("2", Some("100.00")))
        .await;
    assert_problem(&r, 422, "amount_exceeds_refundable");
    let r = gw
        .post("/v1/refunds", create_body("2", Some("60.00")))
        .await;
    crate::support::assert_unknown_outcome(&r, "refund_partially_applied", Some(400));
    let r = gw.post("/v1/refunds", create_body("2", Some("1.00"))).await;
    assert_problem(&r, 409, "nothing_refundable");
}

/// A quote replays exactly the recorded invoice reads (list, then each invoice of the
/// booking) and nothing else.
#[tokio::test]
async fn quote_reads_the_recorded_invoices_only() {
    let vendor = replay(&[
        "get-invoice-list-venue-2",
        "get-invoice-1736",
        "get-invoice-1737",
    ])
    .await;
    let gw = gateway(&vendor).await;
    let q = gw
        .post_with(
            "/v1/refund-quotes",
            json!({"provider": "iv", "target": {"venue": "2", "booking": "2"}, "amount": {"value": "10.00", "currency": "AUD"}}),
            &[],
        )
        .await;
    assert_eq!(q.status, 200, "{}", q.text);
    let lines = q.body["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{}", q.text);
    assert!(lines.iter().all(|l| l["kind"] == "invoice"));
    vendor.assert_clean();
}
