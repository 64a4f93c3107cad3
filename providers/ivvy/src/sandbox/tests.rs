//! The sandbox driven directly with signed (and badly signed) requests.

use refund_provider::chrono::{DateTime, Duration, Utc};
use refund_provider::http::{HeaderMap, HeaderValue, Method};
use serde_json::{json, Value};

use super::*;

pub fn signed_request(
    namespace: &str,
    action: &str,
    body: &Value,
    at: DateTime<Utc>,
    secret: &str,
) -> SandboxRequest {
    let bytes = serde_json::to_vec(body).unwrap();
    let path = format!("/api/1.0/{namespace}");
    let query = format!("action={action}");
    let creds = auth::Credentials::new(SANDBOX_API_KEY.into(), secret.to_string().into());
    let signed = creds.sign(&format!("{path}?{query}"), &bytes, at);
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static(auth::CONTENT_TYPE));
    headers.insert("content-md5", signed.content_md5.parse().unwrap());
    headers.insert("ivvy-date", signed.ivvy_date.parse().unwrap());
    headers.insert("x-api-authorization", signed.authorization.parse().unwrap());
    SandboxRequest {
        method: Method::POST,
        path,
        query: Some(query),
        headers,
        body: bytes.into(),
    }
}

fn sandbox() -> IvvySandbox {
    IvvySandbox::new(Currency::from_code("AUD").unwrap())
}

fn call(sb: &IvvySandbox, namespace: &str, action: &str, body: Value) -> (u16, Value) {
    let request = signed_request(namespace, action, &body, Utc::now(), SANDBOX_API_SECRET);
    let response = sb.handle(&request);
    (
        response.status,
        serde_json::from_slice(&response.body).unwrap(),
    )
}

fn refund(sb: &IvvySandbox, amount: Value) -> (u16, Value) {
    call(
        sb,
        "venue",
        "addRefundToBooking",
        json!({"venueId": 2, "bookingId": 2,
               "refund": {"refundDate": "2026-11-22 10:00:00 UTC", "amount": amount, "notes": "n"}}),
    )
}

#[test]
fn spreads_a_refund_and_shows_it_on_the_invoices() {
    let sb = sandbox();
    let (status, body) = refund(&sb, json!(200));
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"Success": true, "refundDetails": [
            {"invoiceId": 1736, "refundId": 180}, {"invoiceId": 1737, "refundId": 181}]})
    );
    let (_, invoice) = call(&sb, "invoice", "getInvoice", json!({"id": 1737}));
    assert_eq!(invoice["refunds"][0]["amountRefunded"], json!(50));
    assert_eq!(invoice["refunds"][0]["id"], json!(181));
    assert_eq!(invoice["bookingId"], json!(2));
    let (_, invoice) = call(&sb, "invoice", "getInvoice", json!({"id": 1736}));
    assert_eq!(invoice["currentStatus"], json!(5));
}

#[test]
fn applies_the_refund_rules_in_order() {
    let sb = sandbox();
    assert_eq!(refund(&sb, json!(0)).1["specificCode"], json!(24147));
    assert_eq!(refund(&sb, json!(1.001)).1["specificCode"], json!(24149));
    assert_eq!(refund(&sb, json!(271)).1["specificCode"], json!(24146));
    assert_eq!(refund(&sb, json!(200)).0, 200);
    // 70 still payable, 50 still paid: 60 is applied in part only.
    let (status, body) = refund(&sb, json!(60));
    assert_eq!((status, body["specificCode"].clone()), (400, json!(24148)));
    let (_, invoice) = call(&sb, "invoice", "getInvoice", json!({"id": 1737}));
    assert_eq!(invoice["refunds"].as_array().unwrap().len(), 2);
    assert_eq!(refund(&sb, json!(10)).1["specificCode"], json!(24145));
    let (status, body) = call(
        &sb,
        "venue",
        "addRefundToBooking",
        json!({"venueId": 2, "bookingId": 2, "refund": {"amount": 5}}),
    );
    assert_eq!((status, body["specificCode"].clone()), (400, json!(24149)));
    let (status, _) = call(
        &sb,
        "venue",
        "addRefundToBooking",
        json!({"venueId": 2, "bookingId": 42,
               "refund": {"refundDate": "2026-11-22 10:00:00 UTC", "amount": 5}}),
    );
    assert_eq!(status, 404);
}

#[test]
fn checks_signatures_and_the_window() {
    let sb = sandbox();
    let body = json!({"id": 1736});
    let wrong = signed_request("invoice", "getInvoice", &body, Utc::now(), "not-the-secret");
    let r = sb.handle(&wrong);
    assert_eq!(r.status, 401);
    let stale = signed_request(
        "invoice",
        "getInvoice",
        &body,
        Utc::now() - Duration::minutes(6),
        SANDBOX_API_SECRET,
    );
    let r = sb.handle(&stale);
    let answer: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        (r.status, answer["specificCode"].clone()),
        (401, json!(23005))
    );
    let mut tampered = signed_request(
        "invoice",
        "getInvoice",
        &body,
        Utc::now(),
        SANDBOX_API_SECRET,
    );
    tampered.body = br#"{"id": 1737}"#.to_vec().into();
    assert_eq!(sb.handle(&tampered).status, 401);
    let mut plain_json = signed_request(
        "invoice",
        "getInvoice",
        &body,
        Utc::now(),
        SANDBOX_API_SECRET,
    );
    plain_json
        .headers
        .insert("content-type", HeaderValue::from_static("application/json"));
    assert_eq!(sb.handle(&plain_json).status, 401);
    let mut get = signed_request(
        "invoice",
        "getInvoice",
        &body,
        Utc::now(),
        SANDBOX_API_SECRET,
    );
    get.method = Method::GET;
    assert_eq!(sb.handle(&get).status, 405);
}

#[test]
fn lists_and_finds_invoices() {
    let sb = sandbox();
    let (_, page) = call(
        &sb,
        "invoice",
        "getInvoiceList",
        json!({"perPage": 2, "start": 0, "filter": {"venueId": 2, "refType": 4}}),
    );
    assert_eq!(page["meta"]["totalResults"], json!(3));
    assert_eq!(page["results"].as_array().unwrap().len(), 2);
    let (_, page) = call(
        &sb,
        "invoice",
        "getInvoiceList",
        json!({"perPage": 100, "start": 0, "filter": {"venueId": 3, "refType": 4}}),
    );
    assert_eq!(page["results"], json!([]));
    let (status, body) = call(&sb, "invoice", "getInvoice", json!({"id": 9}));
    assert_eq!((status, body["specificCode"].clone()), (404, json!(24137)));
    let (status, _) = call(&sb, "invoice", "nope", json!({}));
    assert_eq!(status, 404);
}
