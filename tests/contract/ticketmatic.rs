//! Ticketmatic through the whole gateway over loopback HTTP: the replay vendor serves
//! `fixtures/ticketmatic/`, and every assertion is made at the canonical API (status, code,
//! canonical fields), then `assert_clean` proves the vendor got exactly the recorded calls.
//! The faults every vendor shares (401, 403, 404, 429, HTML 5xx, truncated JSON, resets,
//! HTTP 200 with an error body, timeouts) are cases of the shared suite (`shared.rs`, from
//! `fixtures/<vendor>/contract.toml`); this file keeps what is particular to this vendor.

use refund_provider::{InstanceName, RefundId, VendorRef};
use serde_json::{json, Value};

use crate::support::{assert_problem, secret_file, ApiResponse, ReplayVendor, TestGateway};

const ORDER: &str = "1269434";
const TWO_PAYMENTS: &str = "1269436";
const ACCESS_KEY: &str = "tm-contract-access-key";
const SECRET_KEY: &str = "tm-contract-secret-key";

async fn replay(names: &[&str]) -> ReplayVendor {
    ReplayVendor::vendor("ticketmatic", names).await
}

async fn gateway(vendor: &ReplayVendor) -> TestGateway {
    TestGateway::start(&format!(
        r#"
[providers.tm]
kind = "ticketmatic"
base_url = "{}"
timeout = "2s"
connect_timeout = "1s"
account = "demo"
access_key = {{ file = "{}" }}
secret_key = {{ file = "{}" }}
"#,
        vendor.base_url(),
        secret_file(ACCESS_KEY),
        secret_file(SECRET_KEY)
    ))
    .await
}

fn create_body(order: &str, payments: &[&str], amount: Option<&str>) -> Value {
    let mut body = json!({
        "provider": "tm",
        "target": {"order": order},
        "reason": "event cancelled",
    });
    if !payments.is_empty() {
        body["target"]["payments"] = json!(payments);
    }
    if let Some(value) = amount {
        body["amount"] = json!({"value": value, "currency": "EUR"});
    }
    body
}

/// One create against the given fixtures; the vendor must have seen exactly them.
async fn create(names: &[&str], body: Value) -> ApiResponse {
    let vendor = replay(names).await;
    let gw = gateway(&vendor).await;
    let response = gw.post("/v1/refunds", body).await;
    vendor.assert_clean();
    response
}

/// One GET of the canonical API against the given fixtures.
async fn lookup(names: &[&str], path: &str) -> ApiResponse {
    let vendor = replay(names).await;
    let gw = gateway(&vendor).await;
    let response = gw.get(path).await;
    vendor.assert_clean();
    response
}

fn refund_path(vendor_ref: &str) -> String {
    let id = RefundId::for_vendor(
        &InstanceName::new("tm").unwrap(),
        &VendorRef::new(vendor_ref),
    );
    format!("/v1/refunds/{id}")
}

fn list_path(order: &str) -> String {
    format!("/v1/refunds?provider=tm&order={order}")
}

fn eur(value: &str) -> Value {
    json!({"value": value, "currency": "EUR"})
}

#[tokio::test]
async fn full_refund_picks_the_payment_and_signs_every_call() {
    let vendor = replay(&["get-order", "add-refund-full"]).await;
    let gw = gateway(&vendor).await;
    let r = gw.post("/v1/refunds", create_body(ORDER, &[], None)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let refund = &r.body;
    assert_eq!(refund["status"], "succeeded");
    assert_eq!(refund["provider"], "tm");
    assert_eq!(refund["provider_kind"], "ticketmatic");
    assert_eq!(refund["amount"], eur("50.00"));
    assert_eq!(
        refund["target"],
        json!({"order": ORDER, "payments": ["125"]})
    );
    assert_eq!(refund["vendor_reference"], "order/1269434/payment/126");
    assert_eq!(refund["vendor_refs"]["payment_id"], "125");
    assert_eq!(refund["vendor_refs"]["refund_payment_id"], "126");
    assert_eq!(refund["lines"][0]["kind"], "payment");
    assert_eq!(refund["lines"][0]["partial"], false);
    let notes = refund["notes"].to_string();
    assert!(notes.contains("refunded payment 125"), "{notes}");
    assert!(notes.contains("no amount was given"), "{notes}");
    vendor.assert_clean();

    // Both calls carry a signature the vendor can verify with the secret key.
    for request in vendor.received() {
        let header = &request.headers["authorization"];
        let auth =
            provider_ticketmatic::parse_authorization(header).expect("TM-HMAC-SHA256 header");
        assert_eq!(auth.key, ACCESS_KEY);
        assert_eq!(
            auth.sign,
            provider_ticketmatic::signature(SECRET_KEY, ACCESS_KEY, "demo", auth.ts)
        );
    }
    assert!(!r.text.contains(SECRET_KEY) && !r.text.contains(ACCESS_KEY));
}

#[tokio::test]
async fn partial_refund_of_a_named_payment_then_get_and_list() {
    let vendor = replay(&[
        "get-order",
        "add-refund-partial",
        "get-order-partially-refunded",
        "get-order-partially-refunded",
    ])
    .await;
    let gw = gateway(&vendor).await;
    let created = gw
        .post("/v1/refunds", create_body(ORDER, &["125"], Some("20.00")))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["amount"], eur("20.00"));
    assert_eq!(created.body["status"], "succeeded");
    assert_eq!(created.body["lines"][0]["partial"], true);
    assert_eq!(created.body["reason"], "event cancelled");
    assert!(created.body.get("notes").is_none(), "{}", created.text);

    // The ledger's id; the vendor's reference is kept beside it.
    let id = created.body["id"].as_str().unwrap();
    assert!(id.starts_with("rfg_"), "{id}");
    assert_eq!(
        created.body["vendor_reference"],
        "order/1269434/payment/126"
    );
    let got = gw.get(&format!("/v1/refunds/{id}")).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.body["id"], id);
    assert_eq!(got.body["amount"], eur("20.00"));
    assert_eq!(got.body["status"], "succeeded");

    let listed = gw.get(&list_path(ORDER)).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let data = listed.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["id"], id);
    vendor.assert_clean();
}

#[tokio::test]
async fn no_payment_named_refunds_the_one_with_most_left() {
    let r = create(
        &["get-order-two-payments", "add-refund-picked-payment"],
        create_body(TWO_PAYMENTS, &[], None),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // 131 was the larger payment, but 15.00 of it was refunded before: 132 has 20.00 left.
    assert_eq!(r.body["vendor_refs"]["payment_id"], "132");
    assert_eq!(r.body["amount"], eur("20.00"));
    assert_eq!(r.body["vendor_reference"], "order/1269436/payment/134");
    assert!(
        r.body["notes"][0].as_str().unwrap().contains("payment 132"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn list_reads_the_refund_payments_of_the_order() {
    let r = lookup(&["get-order-two-payments"], &list_path(TWO_PAYMENTS)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let data = r.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["amount"], eur("15.00"));
    assert_eq!(data[0]["target"]["payments"], json!(["131"]));
    assert_eq!(data[0]["vendor_reference"], "order/1269436/payment/133");
    assert_eq!(data[0]["created_at"], "2024-04-22T09:15:00Z");
}

#[tokio::test]
async fn more_than_refundable_is_refused_before_the_refund_call() {
    let vendor = replay(&["get-order"]).await;
    let gw = gateway(&vendor).await;
    let r = gw
        .post("/v1/refunds", create_body(ORDER, &["125"], Some("50.01")))
        .await;
    assert_problem(&r, 422, "amount_exceeds_refundable");
    assert_eq!(r.body["pointer"], "/amount/value");
    assert_eq!(vendor.received().len(), 1, "only the order read");
    vendor.assert_clean();
}

#[tokio::test]
async fn invalid_targets_never_reach_the_vendor() {
    let r = create(&[], create_body("abc", &[], None)).await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(r.body["pointer"], "/target/order");
    let r = create(&[], create_body(ORDER, &["125", "131"], None)).await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(r.body["pointer"], "/target/payments");
    let mut usd = create_body(ORDER, &[], None);
    usd["amount"] = json!({"value": "10.00", "currency": "USD"});
    let r = create(&[], usd).await;
    // The gateway checks `capabilities.currencies` itself (today with `validation_failed`;
    // the provider's own check answers `currency_not_supported`): either way, 422 there.
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body["pointer"], "/amount/currency");
    let r = lookup(&[], &refund_path("not-a-ticketmatic-ref")).await;
    assert_problem(&r, 404, "not_found");
}

#[tokio::test]
async fn vendor_400_is_a_rejection_with_its_code() {
    let r = create(
        &["get-order", "error-400-refund-rejected"],
        create_body(ORDER, &["125"], Some("20.00")),
    )
    .await;
    assert_problem(&r, 422, "provider_rejected");
    assert_eq!(r.body["vendor_status"], 400);
    assert_eq!(r.body["vendor_code"], "6003");
    assert_eq!(
        r.body["vendor_message"],
        "Refunds are not possible for this payment method"
    );
    assert_eq!(r.body["outcome"], "not_applied");
}

#[tokio::test]
async fn vendor_404_points_at_the_order() {
    let r = create(&["error-404"], create_body("9999999", &[], None)).await;
    assert_problem(&r, 404, "not_found");
    assert_eq!(r.body["pointer"], "/target/order");
    assert_eq!(r.body["vendor_message"], "Order not found");
    let r = lookup(&["get-order"], &refund_path("order/1269434/payment/126")).await;
    assert_problem(&r, 404, "not_found");
}

#[tokio::test]
async fn vendor_500_on_the_refund_call_leaves_the_outcome_unknown() {
    let r = create(
        &["get-order", "error-500"],
        create_body(ORDER, &["125"], Some("20.00")),
    )
    .await;
    crate::support::assert_unknown_outcome(&r, "provider_unavailable", Some(500));
    assert_eq!(
        r.body["status_reason"]["vendor_message"],
        "Internal server error"
    );
}

/// A plain-text 500 (the docs allow a non-JSON error body): the status decides, the words
/// are kept. (HTML pages and truncated JSON are cases of the shared suite.)
#[tokio::test]
async fn plain_text_500_is_unavailable_with_its_words() {
    let r = lookup(&["error-500-text"], &list_path(ORDER)).await;
    assert_problem(&r, 502, "provider_unavailable");
    assert_eq!(r.body["vendor_status"], 500);
    assert_eq!(r.body["vendor_message"], "Internal Server Error");
}

#[tokio::test]
async fn sandbox_instance_refunds_then_refuses_beyond_refundable() {
    let gw = TestGateway::start(
        r#"
[providers.tm-sandbox]
kind = "ticketmatic"
sandbox = true
account = "demo"
"#,
    )
    .await;
    let mut body = create_body(ORDER, &[], Some("30.00"));
    body["provider"] = json!("tm-sandbox");
    let created = gw.post("/v1/refunds", body.clone()).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["vendor_refs"]["payment_id"], "125");
    let id = created.body["id"].as_str().unwrap();
    let got = gw.get(&format!("/v1/refunds/{id}")).await;
    assert_eq!(
        (got.status, &got.body["amount"]),
        (200, &eur("30.00")),
        "{}",
        got.text
    );
    let listed = gw
        .get(&format!("/v1/refunds?provider=tm-sandbox&order={ORDER}"))
        .await;
    assert_eq!(
        listed.body["data"].as_array().map(Vec::len),
        Some(1),
        "{}",
        listed.text
    );
    // 20.00 is left: a second 30.00 is refused.
    let again = gw.post("/v1/refunds", body).await;
    assert_problem(&again, 422, "amount_exceeds_refundable");
}

/// A quote replays exactly the recorded order read and nothing else (`assert_clean` fails
/// on any request no fixture expects), and answers from it.
#[tokio::test]
async fn quote_reads_the_recorded_order_only() {
    let vendor = ReplayVendor::vendor("ticketmatic", &["get-order-two-payments"]).await;
    let gw = gateway(&vendor).await;
    let q = gw
        .post_with(
            "/v1/refund-quotes",
            json!({"provider": "tm", "target": {"order": "1269436"}, "amount": {"value": "12.50", "currency": "EUR"}}),
            &[],
        )
        .await;
    assert_eq!(q.status, 200, "{}", q.text);
    assert_eq!(q.body["totals"]["paid"]["value"], "50.00");
    assert_eq!(q.body["totals"]["refunded"]["value"], "15.00");
    assert_eq!(q.body["create"]["outcome"], "refund");
    assert_eq!(q.body["create"]["amount"]["value"], "12.50");
    assert_eq!(q.body["create"]["payment"]["reference"], "132");
    vendor.assert_clean();
}
