//! Paylogic through the whole gateway over loopback HTTP: the replay vendor serves
//! `fixtures/paylogic/`, and every assertion is made at the canonical API. Paylogic is
//! lookup-only: a create is answered 501 without any vendor request.
//! The faults every vendor shares (401, 403, 404, 429, HTML 5xx, truncated JSON, resets,
//! HTTP 200 with an error body, timeouts) are cases of the shared suite (`shared.rs`, from
//! `fixtures/<vendor>/contract.toml`); this file keeps what is particular to this vendor.

use refund_provider::{InstanceName, RefundId, VendorRef};
use serde_json::{json, Value};

use crate::support::{assert_problem, secret_file, ApiResponse, ReplayVendor, TestGateway};

const DOC_UID: &str = "4221f0abd8bc4e768272b483cd929d09";
const DOC_ORDER: &str = "https://shopping-api.paylogic.com/orders/a9211319a7bf4c1d82b78d536c92de58";
const ORDER_2: &str = "https://shopping-api.paylogic.com/orders/5f1c0d2e8a9b4c7d9e0f1a2b3c4d5e6f";

async fn replay(names: &[&str]) -> ReplayVendor {
    ReplayVendor::vendor("paylogic", names).await
}

/// Instance `pl` with the fake Basic credentials the fixtures record (shop-app / k>?~secret).
async fn gateway(vendor: &ReplayVendor, language: &str) -> TestGateway {
    let auth = format!(
        r#"{{ mode = "basic", app = {{ file = "{}" }}, secret = {{ file = "{}" }} }}"#,
        secret_file("shop-app"),
        secret_file("k>?~secret")
    );
    gateway_with(vendor, language, &auth).await
}

async fn gateway_with(vendor: &ReplayVendor, language: &str, auth: &str) -> TestGateway {
    TestGateway::start(&format!(
        r#"
[providers.pl]
kind = "paylogic"
base_url = "{}"
timeout = "2s"
connect_timeout = "1s"
retry = {{ attempts = 1 }}
language = "{language}"
auth = {auth}
"#,
        vendor.base_url(),
    ))
    .await
}

fn id(uid: &str) -> String {
    RefundId::for_vendor(&InstanceName::new("pl").unwrap(), &VendorRef::new(uid)).to_string()
}

fn list_path(order: &str) -> String {
    let order: String = url::form_urlencoded::byte_serialize(order.as_bytes()).collect();
    format!("/v1/refunds?provider=pl&order={order}")
}

/// One lookup against the given fixtures, checked clean.
async fn get(names: &[&str], uid: &str, language: &str) -> ApiResponse {
    let vendor = replay(names).await;
    let gw = gateway(&vendor, language).await;
    let r = gw.get(&format!("/v1/refunds/{}", id(uid))).await;
    vendor.assert_clean();
    r
}

fn line_names(refund: &Value) -> Vec<&str> {
    refund["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["description"].as_str().unwrap_or(""))
        .collect()
}

#[tokio::test]
async fn create_is_501_without_any_vendor_request() {
    let vendor = replay(&[]).await;
    let gw = gateway(&vendor, "en").await;
    let r = gw
        .post(
            "/v1/refunds",
            json!({"provider": "pl", "target": {"order": DOC_ORDER},
                   "amount": {"value": "6.50", "currency": "EUR"}}),
        )
        .await;
    assert_problem(&r, 501, "unsupported_operation");
    assert!(vendor.received().is_empty(), "{:?}", vendor.received());
    vendor.assert_clean();
}

#[tokio::test]
async fn list_of_one_page_maps_the_doc_example() {
    let vendor = replay(&["list_one_page"]).await;
    let gw = gateway(&vendor, "en").await;
    let r = gw.get(&list_path(DOC_ORDER)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let data = r.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    let refund = &data[0];
    assert_eq!(refund["id"], id(DOC_UID));
    assert_eq!(refund["provider"], "pl");
    assert_eq!(refund["provider_kind"], "paylogic");
    assert_eq!(refund["status"], "pending");
    assert_eq!(refund["vendor_status"], "requested / direct: not_initiated");
    assert_eq!(refund["vendor_reference"], DOC_UID);
    assert_eq!(
        refund["amount"],
        json!({"value": "6.50", "currency": "EUR"})
    );
    assert_eq!(refund["target"], json!({"order": DOC_ORDER}));
    assert_eq!(
        line_names(refund),
        [
            "Simple entrance",
            "Simple entrance",
            "Other costs (not attributed to a ticket)"
        ]
    );
    assert_eq!(refund["lines"][0]["kind"], "ticket");
    assert_eq!(refund["lines"][0]["amount"]["value"], "1.00");
    assert_eq!(refund["lines"][2]["kind"], "other");
    assert_eq!(refund["lines"][2]["amount"]["value"], "4.50");
    assert_eq!(refund["created_at"], "2022-08-29T10:59:14Z");
    assert!(refund.get("raw").is_none());
    vendor.assert_clean();
}

#[tokio::test]
async fn list_follows_next_links_across_two_pages() {
    let vendor = replay(&["list_page_1", "list_page_2"]).await;
    let gw = gateway(&vendor, "nl").await;
    let r = gw.get(&list_path(ORDER_2)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let data = r.body["data"].as_array().unwrap();
    let statuses: Vec<&str> = data.iter().map(|d| d["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["succeeded", "pending", "canceled"]);
    // Dutch where translated, English otherwise.
    assert_eq!(line_names(&data[0]), ["Festival dagticket"]);
    assert_eq!(
        line_names(&data[1]),
        ["Parking", "Other costs (not attributed to a ticket)"]
    );
    assert_eq!(vendor.received().len(), 2);
    vendor.assert_clean();
}

#[tokio::test]
async fn next_link_to_another_origin_is_not_followed() {
    let vendor = replay(&["list_next_foreign_origin"]).await;
    let gw = gateway(&vendor, "en").await;
    let r = gw.get(&list_path(DOC_ORDER)).await;
    assert_problem(&r, 502, "provider_bad_response");
    assert_eq!(vendor.received().len(), 1);
    vendor.assert_clean();
}

#[tokio::test]
async fn get_maps_each_status_fixture() {
    let cases = [
        (
            "get_requested",
            DOC_UID,
            "pending",
            "requested / direct: not_initiated",
        ),
        (
            "get_completed",
            "b7e4c2a19d8f4e3ab6c5d4e3f2a1b0c9",
            "succeeded",
            "completed / direct: completed",
        ),
        (
            "get_failed",
            "c1d2e3f4a5b64c7d8e9f0a1b2c3d4e5f",
            "failed",
            "failed / direct: failed",
        ),
        (
            "get_unknown_status",
            "d4c3b2a1f0e94d8c7b6a5f4e3d2c1b0a",
            "unknown",
            "on_hold / direct: not_initiated",
        ),
    ];
    for (fixture, uid, status, vendor_status) in cases {
        let r = get(&[fixture], uid, "nl").await;
        assert_eq!(r.status, 200, "{fixture}: {}", r.text);
        assert_eq!(r.body["id"], id(uid), "{fixture}");
        assert_eq!(r.body["status"], status, "{fixture}");
        assert_eq!(r.body["vendor_status"], vendor_status, "{fixture}");
    }
    let completed = get(&["get_completed"], "b7e4c2a19d8f4e3ab6c5d4e3f2a1b0c9", "nl").await;
    assert_eq!(
        completed.body["amount"],
        json!({"value": "30.00", "currency": "EUR"})
    );
    assert_eq!(
        line_names(&completed.body),
        [
            "Weekendkaart",
            "Camping spot",
            "Other costs (not attributed to a ticket)"
        ]
    );
}

#[tokio::test]
async fn get_with_a_cognito_token() {
    let vendor = replay(&["get_cognito"]).await;
    let auth = format!(
        r#"{{ mode = "cognito", token = {{ file = "{}" }} }}"#,
        secret_file("test-cognito-token")
    );
    let gw = gateway_with(&vendor, "en", &auth).await;
    let r = gw
        .get(&format!("/v1/refunds/{}?include=raw", id(DOC_UID)))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["raw"]["uid"], DOC_UID);
    vendor.assert_clean();
}

#[tokio::test]
async fn references_that_are_not_uids_never_reach_the_vendor() {
    let vendor = replay(&[]).await;
    let gw = gateway(&vendor, "en").await;
    let r = gw.get(&format!("/v1/refunds/{}", id("../orders/x"))).await;
    assert_problem(&r, 404, "not_found");
    let r = gw
        .get("/v1/refunds?provider=pl&order=not%20an%20order")
        .await;
    assert_problem(&r, 400, "validation_failed");
    assert_eq!(r.body["parameter"], "order");
    assert!(vendor.received().is_empty());
    vendor.assert_clean();
}

#[tokio::test]
async fn sandbox_serves_lookups_and_refuses_creates() {
    let gw = TestGateway::start("[providers.pl]\nkind = \"paylogic\"\nsandbox = true\n").await;
    let got = gw.get(&format!("/v1/refunds/{}", id(DOC_UID))).await;
    assert_eq!(
        (got.status, &got.body["status"]),
        (200, &json!("pending")),
        "{}",
        got.text
    );
    // A bare order uid: the sandbox paginates its three refunds over two pages.
    let listed = gw
        .get("/v1/refunds?provider=pl&order=5f1c0d2e8a9b4c7d9e0f1a2b3c4d5e6f")
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(3));
    let created = gw
        .post(
            "/v1/refunds",
            json!({"provider": "pl", "target": {"order": DOC_ORDER}}),
        )
        .await;
    assert_problem(&created, 501, "unsupported_operation");
}

/// Paylogic cannot create: a quote reads the order's recorded refunds (nothing else), says
/// what is refunded of them, that paid and refundable cannot be known, and that a create
/// would be refused.
#[tokio::test]
async fn quote_reads_the_recorded_refunds_only_and_says_a_create_is_refused() {
    let vendor = replay(&["list_one_page"]).await;
    let gw = gateway(&vendor, "en").await;
    let q = gw
        .post_with(
            "/v1/refund-quotes",
            json!({"provider": "pl", "target": {"order": DOC_ORDER}}),
            &[],
        )
        .await;
    assert_eq!(q.status, 200, "{}", q.text);
    assert_eq!(q.body["create"]["outcome"], "refused");
    assert_eq!(q.body["create"]["code"], "unsupported_operation");
    let whats: Vec<&str> = q.body["cannot_know"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["what"].as_str().unwrap())
        .collect();
    assert!(
        whats.contains(&"paid") && whats.contains(&"refundable"),
        "{whats:?}"
    );
    assert!(
        !q.body["lines"].as_array().unwrap().is_empty(),
        "{}",
        q.text
    );
    vendor.assert_clean();
    let create = gw
        .post(
            "/v1/refunds",
            json!({"provider": "pl", "target": {"order": DOC_ORDER}}),
        )
        .await;
    assert_problem(&create, 501, "unsupported_operation");
}
