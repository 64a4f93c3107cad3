//! Unit tests of the sandbox, calling `handle` directly.

use super::*;
use refund_provider::http::{HeaderMap, HeaderValue};

const DOC_ORDER: &str = "https://shopping-api.paylogic.com/orders/a9211319a7bf4c1d82b78d536c92de58";
const ORDER_2: &str = "5f1c0d2e8a9b4c7d9e0f1a2b3c4d5e6f";

fn request(
    method: Method,
    path: &str,
    query: Option<String>,
    auth: Option<(&'static str, String)>,
) -> SandboxRequest {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("127.0.0.1:9999"));
    if let Some((name, value)) = auth {
        headers.insert(name, HeaderValue::from_str(&value).unwrap());
    }
    SandboxRequest {
        method,
        path: path.to_string(),
        query,
        headers,
        body: bytes::Bytes::new(),
    }
}

fn basic() -> Option<(&'static str, String)> {
    Some(("authorization", basic_header(SANDBOX_APP, SANDBOX_SECRET)))
}

fn order_query(order: &str, page: Option<&str>) -> Option<String> {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    s.append_pair("order", order);
    if let Some(p) = page {
        s.append_pair("page", p);
    }
    Some(s.finish())
}

fn body(response: &VendorResponse) -> Value {
    serde_json::from_slice(&response.body).unwrap()
}

#[test]
fn serves_the_doc_refund_by_uid() {
    let sandbox = PaylogicSandbox::seeded();
    let r = sandbox.handle(&request(
        Method::GET,
        "/refunds/4221f0abd8bc4e768272b483cd929d09",
        None,
        basic(),
    ));
    assert_eq!(r.status, 200);
    assert_eq!(body(&r)["amount_breakdown"]["total"]["amount"], "6.50");
    let missing = sandbox.handle(&request(Method::GET, "/refunds/nope", None, basic()));
    assert_eq!(missing.status, 404);
}

#[test]
fn checks_auth_like_the_vendor() {
    let sandbox = PaylogicSandbox::seeded();
    let path = "/refunds/4221f0abd8bc4e768272b483cd929d09";
    let accepted = [
        basic(),
        Some(("authorization", format!("Bearer {SANDBOX_TOKEN}"))),
        Some((COGNITO_HEADER, SANDBOX_TOKEN.to_string())),
    ];
    for auth in accepted {
        assert_eq!(
            sandbox
                .handle(&request(Method::GET, path, None, auth))
                .status,
            200
        );
    }
    let refused = [
        None,
        Some(("authorization", basic_header(SANDBOX_APP, "wrong"))),
        Some(("authorization", "Bearer wrong".to_string())),
        Some((COGNITO_HEADER, "wrong".to_string())),
    ];
    for auth in refused {
        let r = sandbox.handle(&request(Method::GET, path, None, auth));
        assert_eq!(r.status, 401);
        assert!(body(&r)["detail"].is_string());
    }
}

#[test]
fn lists_by_order_uid_with_pagination() {
    let sandbox = PaylogicSandbox::seeded();
    let doc = sandbox.handle(&request(
        Method::GET,
        "/refunds",
        order_query(DOC_ORDER, None),
        basic(),
    ));
    assert_eq!(doc.status, 200);
    let doc = body(&doc);
    assert_eq!(
        doc["_embedded"]["shop:refunds"].as_array().unwrap().len(),
        1
    );
    assert!(doc["_links"]["next"].is_null());

    // The same order under the sandbox's own origin, as the provider builds it from a uid.
    let local = format!("http://127.0.0.1:9999/orders/{ORDER_2}");
    let page1 = body(&sandbox.handle(&request(
        Method::GET,
        "/refunds",
        order_query(&local, None),
        basic(),
    )));
    assert_eq!(page1["item_count"], 3);
    assert_eq!(
        page1["_embedded"]["shop:refunds"].as_array().unwrap().len(),
        2
    );
    let next = page1["_links"]["next"]["href"].as_str().unwrap();
    assert!(
        next.starts_with("http://127.0.0.1:9999/refunds?order="),
        "{next}"
    );
    assert!(next.ends_with("&page=2"), "{next}");
    let page2 = body(&sandbox.handle(&request(
        Method::GET,
        "/refunds",
        order_query(&local, Some("2")),
        basic(),
    )));
    let items = page2["_embedded"]["shop:refunds"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["status"], "cancelled");
    assert!(page2["_links"]["next"].is_null());
    assert!(page2["_links"]["prev"].is_object());

    let beyond = sandbox.handle(&request(
        Method::GET,
        "/refunds",
        order_query(&local, Some("3")),
        basic(),
    ));
    assert_eq!(beyond.status, 404);
    let unknown = body(&sandbox.handle(&request(
        Method::GET,
        "/refunds",
        order_query("https://x/orders/none", None),
        basic(),
    )));
    assert_eq!(unknown["_embedded"]["shop:refunds"], serde_json::json!([]));
    let no_order = sandbox.handle(&request(Method::GET, "/refunds", None, basic()));
    assert_eq!(no_order.status, 400);
}

#[test]
fn refunds_are_read_only() {
    let sandbox = PaylogicSandbox::seeded();
    for method in [Method::POST, Method::PUT, Method::DELETE] {
        let r = sandbox.handle(&request(method, "/refunds", None, basic()));
        assert_eq!(r.status, 405);
    }
    assert_eq!(
        sandbox
            .handle(&request(Method::GET, "/orders", None, basic()))
            .status,
        404
    );
}
