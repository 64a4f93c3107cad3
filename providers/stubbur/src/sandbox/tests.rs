//! The sandbox driven directly through `handle`: auth, error shapes, and refunds that
//! change its state.

use super::*;
use refund_provider::http::HeaderMap;

fn call(
    sandbox: &StubburSandbox,
    method: Method,
    path: &str,
    headers: &[(&'static str, &str)],
    body: serde_json::Value,
) -> (u16, serde_json::Value, HeaderMap) {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    let response = sandbox.handle(&SandboxRequest {
        method,
        path: path.to_string(),
        query: None,
        headers: map,
        body: body.to_string().into_bytes().into(),
    });
    let json = serde_json::from_slice(&response.body).unwrap();
    (response.status, json, response.headers)
}

const BEARER: (&str, &str) = ("authorization", "Bearer stubbur-sandbox-token");

fn refund(sandbox: &StubburSandbox, body: serde_json::Value) -> (u16, serde_json::Value) {
    let (status, json, _) = call(sandbox, Method::POST, "/refund/process", &[BEARER], body);
    (status, json)
}

#[test]
fn refuses_missing_or_wrong_auth_with_service_stack_401() {
    let s = StubburSandbox::seeded();
    let body = json!({"ticketTokenIds": ["tk-1001-0201"]});
    for headers in [
        vec![],
        vec![("authorization", "Bearer nope")],
        vec![("cookie", "ss-id=forged")],
    ] {
        let (status, json, _) = call(&s, Method::POST, "/refund/process", &headers, body.clone());
        assert_eq!(status, 401);
        assert_eq!(json["responseStatus"]["errorCode"], "Unauthorized");
    }
}

#[test]
fn routes_methods_and_arguments_answer_service_stack_errors() {
    let s = StubburSandbox::seeded();
    let (status, json, _) = call(&s, Method::GET, "/refund/process", &[BEARER], json!(null));
    assert_eq!(
        (status, json["responseStatus"]["errorCode"].as_str()),
        (405, Some("MethodNotAllowed"))
    );
    let (status, _, _) = call(&s, Method::POST, "/refunds", &[BEARER], json!({}));
    assert_eq!(status, 404);
    let (status, json) = refund(&s, json!({}));
    assert_eq!(status, 400);
    assert_eq!(
        json["responseStatus"]["errors"][0]["fieldName"],
        "TicketTokenIds"
    );
    let (status, _) = refund(&s, json!({"refundAllForEvent": true}));
    assert_eq!(status, 400);
    let (status, json) = refund(&s, json!({"eventId": 4040, "refundAllForEvent": true}));
    assert_eq!(
        (status, json["responseStatus"]["errorCode"].as_str()),
        (404, Some("NotFound"))
    );
    let (status, json) = refund(&s, json!({"paymentReferences": ["SB-9999-99"]}));
    assert_eq!(
        (
            status,
            json["success"].as_bool(),
            json["statusCode"].as_i64()
        ),
        (200, Some(false), Some(404))
    );
}

#[test]
fn refunds_apply_and_a_second_refund_is_skipped() {
    let s = StubburSandbox::seeded();
    let (_, first) = refund(&s, json!({"ticketTokenIds": ["tk-1001-0101"]}));
    let o = &first["outcomes"][0];
    assert_eq!(
        (o["status"].as_str(), o["partial"].as_bool()),
        (Some("Refunded"), Some(true))
    );
    assert_eq!(o["amountRefunded"], json!(4500));
    assert_eq!(o["freedSeatIds"], json!([101]));
    let (_, again) = refund(&s, json!({"ticketTokenIds": ["tk-1001-0101"]}));
    assert_eq!(again["outcomes"][0]["status"], "Skipped");
    assert_eq!(again["refundedCount"], 0);

    let (_, event) = refund(&s, json!({"eventId": 1001, "refundAllForEvent": true}));
    let statuses: Vec<&str> = event["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["Refunded", "Refunded", "Skipped", "Failed"]);
    assert_eq!(
        (
            event["refundedCount"].as_u64(),
            event["skippedCount"].as_u64(),
            event["failedCount"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(event["totalRefunded"], json!(11400));
    assert_eq!(event["success"], false);
    assert_eq!(
        event["outcomes"][0]["partial"], true,
        "the rest of a partly refunded order"
    );

    let (_, last) = refund(&s, json!({"eventId": 1001, "refundAllForEvent": true}));
    assert_eq!(
        (
            last["refundedCount"].as_u64(),
            last["skippedCount"].as_u64(),
            last["failedCount"].as_u64()
        ),
        (Some(0), Some(3), Some(1))
    );
}

#[test]
fn credentials_login_issues_a_session_that_expires() {
    let s = StubburSandbox::seeded();
    let (status, _, _) = call(
        &s,
        Method::POST,
        "/auth/credentials",
        &[],
        json!({"userName": SANDBOX_USERNAME, "password": "wrong"}),
    );
    assert_eq!(status, 401);
    let (status, json, headers) = call(
        &s,
        Method::POST,
        "/auth/credentials",
        &[],
        json!({"userName": SANDBOX_USERNAME, "password": SANDBOX_PASSWORD}),
    );
    assert_eq!(status, 200);
    let cookie = crate::auth::session_cookie(&headers).unwrap();
    let cookie = refund_provider::secrecy::ExposeSecret::expose_secret(&cookie).to_string();
    assert!(cookie.starts_with(&format!("ss-id={}", json["sessionId"].as_str().unwrap())));
    let body = json!({"paymentReferences": ["SB-1001-02"]});
    let (status, _, _) = call(
        &s,
        Method::POST,
        "/refund/process",
        &[("cookie", &cookie)],
        body.clone(),
    );
    assert_eq!(status, 200);
    s.expire_sessions();
    let (status, _, _) = call(
        &s,
        Method::POST,
        "/refund/process",
        &[("cookie", &cookie)],
        body,
    );
    assert_eq!(status, 401);
}
