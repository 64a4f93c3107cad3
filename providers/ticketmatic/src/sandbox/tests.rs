//! The sandbox driven directly through `handle_at`: auth as the vendor checks it, reads,
//! refunds applied to state, and over-refunds refused.

use refund_provider::chrono::TimeZone;
use refund_provider::http::HeaderMap;

use super::*;
use crate::auth::TS_FORMAT;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 30, 0).unwrap()
}

fn request(
    method: Method,
    path: &str,
    body: Option<Value>,
    auth: Option<String>,
) -> SandboxRequest {
    let mut headers = HeaderMap::new();
    if let Some(auth) = auth {
        headers.insert("authorization", auth.parse().unwrap());
    }
    SandboxRequest {
        method,
        path: path.to_string(),
        query: None,
        headers,
        body: body.map(|b| b.to_string().into()).unwrap_or_default(),
    }
}

fn auth_with(key: &str, secret: &str, account: &str, at: DateTime<Utc>) -> String {
    let ts = at.format(TS_FORMAT).to_string();
    format!(
        "TM-HMAC-SHA256 key={key} ts={ts} sign={}",
        signature(secret, key, account, &ts)
    )
}

fn signed(method: Method, path: &str, body: Option<Value>) -> SandboxRequest {
    let auth = auth_with(SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, "demo", now());
    request(method, path, body, Some(auth))
}

fn json(response: &VendorResponse) -> Value {
    serde_json::from_slice(&response.body).unwrap()
}

#[test]
fn serves_seeded_orders() {
    let sandbox = TicketmaticSandbox::seeded("demo");
    let r = sandbox.handle_at(&signed(Method::GET, "/demo/orders/1269434", None), now());
    assert_eq!(r.status, 200);
    assert_eq!(json(&r)["payments"][0]["id"], 125);
    let r = sandbox.handle_at(&signed(Method::GET, "/demo/orders/1269436/", None), now());
    assert_eq!(json(&r)["payments"].as_array().unwrap().len(), 3);
    let r = sandbox.handle_at(&signed(Method::GET, "/demo/orders/42", None), now());
    assert_eq!((r.status, json(&r)["code"].clone()), (404, json!(404)));
}

#[test]
fn checks_the_signature_like_the_vendor() {
    let sandbox = TicketmaticSandbox::seeded("demo");
    let path = "/demo/orders/1269434";
    let unsigned = request(Method::GET, path, None, None);
    assert_eq!(sandbox.handle_at(&unsigned, now()).status, 401);
    let wrong_secret = auth_with(SANDBOX_ACCESS_KEY, "not-the-secret", "demo", now());
    let r = sandbox.handle_at(&request(Method::GET, path, None, Some(wrong_secret)), now());
    assert_eq!(
        (r.status, json(&r)["message"].clone()),
        (401, json!("Invalid signature"))
    );
    let stale = auth_with(
        SANDBOX_ACCESS_KEY,
        SANDBOX_SECRET_KEY,
        "demo",
        now() - refund_provider::chrono::Duration::minutes(31),
    );
    assert_eq!(
        sandbox
            .handle_at(&request(Method::GET, path, None, Some(stale)), now())
            .status,
        401
    );
    let other_account = auth_with(SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, "other", now());
    let r = sandbox.handle_at(
        &request(
            Method::GET,
            "/other/orders/1269434",
            None,
            Some(other_account),
        ),
        now(),
    );
    assert_eq!(r.status, 403);
    // Signed for another account than the path's: the signature does not match.
    let r = sandbox.handle_at(
        &request(
            Method::GET,
            path,
            None,
            Some(auth_with(
                SANDBOX_ACCESS_KEY,
                SANDBOX_SECRET_KEY,
                "other",
                now(),
            )),
        ),
        now(),
    );
    assert_eq!(r.status, 401);
}

#[test]
fn applies_refunds_and_refuses_beyond_refundable() {
    let sandbox = TicketmaticSandbox::seeded("demo");
    let refunds = "/demo/orders/1269434/refunds";
    let r = sandbox.handle_at(
        &signed(
            Method::POST,
            refunds,
            Some(json!({"amount": 20.0, "paymentid": 125})),
        ),
        now(),
    );
    assert_eq!(r.status, 200);
    let order = json(&r);
    let refund = &order["payments"][1];
    assert_eq!(refund["refundpaymentid"], 125);
    assert_eq!(refund["amount"], json!(-20));
    assert_eq!(refund["paidts"], "2024-05-01 12:30:00");
    assert_eq!(order["amountpaid"], json!(30));
    assert_eq!(order["paymentstatus"], 0);
    // The refund is part of the order from now on.
    let read = json(&sandbox.handle_at(&signed(Method::GET, "/demo/orders/1269434", None), now()));
    assert_eq!(read["payments"], order["payments"]);
    // 30.00 left: 30.01 is refused with the vendor's error body, 30.00 is taken.
    let r = sandbox.handle_at(
        &signed(
            Method::POST,
            refunds,
            Some(json!({"amount": 30.01, "paymentid": 125})),
        ),
        now(),
    );
    assert_eq!(r.status, 400);
    assert_eq!(json(&r)["code"], 400);
    assert!(json(&r)["message"]
        .as_str()
        .unwrap()
        .contains("exceeds the refundable amount (30)"));
    let r = sandbox.handle_at(
        &signed(
            Method::POST,
            refunds,
            Some(json!({"amount": 30, "paymentid": 125})),
        ),
        now(),
    );
    assert_eq!(r.status, 200);
    let r = sandbox.handle_at(
        &signed(
            Method::POST,
            refunds,
            Some(json!({"amount": 1, "paymentid": 125})),
        ),
        now(),
    );
    assert_eq!(r.status, 400);
}

#[test]
fn refuses_malformed_refunds() {
    let sandbox = TicketmaticSandbox::seeded("demo");
    let refunds = "/demo/orders/1269436/refunds";
    for body in [
        json!({"amount": 5}),
        json!({"amount": "x", "paymentid": 131}),
        json!({"amount": 5, "paymentid": 999}),
        json!({"amount": 5, "paymentid": 133}),
        json!({"amount": 0, "paymentid": 131}),
        json!({"amount": 15.01, "paymentid": 131}),
    ] {
        let r = sandbox.handle_at(&signed(Method::POST, refunds, Some(body.clone())), now());
        assert_eq!(r.status, 400, "{body}");
    }
    let r = sandbox.handle_at(
        &signed(
            Method::POST,
            "/demo/orders/77/refunds",
            Some(json!({"amount": 1, "paymentid": 1})),
        ),
        now(),
    );
    assert_eq!(r.status, 404);
    let r = sandbox.handle_at(&signed(Method::DELETE, "/demo/orders/1269436", None), now());
    assert_eq!(r.status, 405);
}
