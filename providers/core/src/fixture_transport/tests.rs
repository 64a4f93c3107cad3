use super::*;
use serde_json::json;
use std::future::Future;
use std::task::{Context, Poll, Waker};

/// Runs a future that never waits (nothing here does I/O): this crate has no runtime.
fn now<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the fixture transport never waits"),
    }
}

fn exchange(request: Value, response: Value) -> Exchange {
    serde_json::from_value(json!({
        "description": "test", "source": "test", "request": request, "response": response
    }))
    .unwrap()
}

fn refund_call() -> Exchange {
    exchange(
        json!({"method": "POST", "path": "/acct/refunds", "query": {"action": "add refund"},
               "headers": {"authorization": {"matches": "^X .+$"}, "accept": "application/json"},
               "body": {"amount": 10.0, "date": "{{any}}"}}),
        json!({"status": 200, "body": {"ok": true, "at": "{{now:%Y}}"}}),
    )
}

fn request(query: &str, body: &str, accept: &str) -> VendorRequest {
    VendorRequest::new(
        Method::POST,
        format!("http://vendor.test/base/acct/refunds?{query}"),
    )
    .header("authorization", "X secret")
    .header("accept", accept)
    .json_body(&serde_json::from_str(body).unwrap())
}

#[test]
fn answers_a_matching_request_once() {
    let t = FixtureTransport::new(
        "http://vendor.test/base/",
        vec![("refund".into(), refund_call())],
    );
    let r = now(t.send(request(
        "action=add+refund",
        r#"{"amount": 10, "date": "2026-01-01"}"#,
        "application/json",
    )))
    .unwrap();
    assert_eq!(r.status, 200);
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["at"], chrono::Utc::now().format("%Y").to_string());
    assert_eq!(r.headers["content-type"], "application/json");
    t.assert_all_used();
    assert_eq!(t.paths(), ["/acct/refunds"]);
    assert_eq!(t.sent()[0].query["action"], "add refund");
    assert_eq!(t.sent_with(&Method::POST), 1);
}

#[test]
fn a_different_request_fails_naming_the_difference() {
    let t = FixtureTransport::new(
        "http://vendor.test/base",
        vec![("refund".into(), refund_call())],
    );
    let sent = request(
        "action=add+refund&x=1",
        r#"{"amount": 12, "date": 1}"#,
        "text/html",
    );
    let failure =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| now(t.send(sent)))).unwrap_err();
    let message = failure.downcast_ref::<String>().unwrap();
    assert!(message.contains("against refund"), "{message}");
    assert!(message.contains("query x: not expected"), "{message}");
    assert!(message.contains("header accept"), "{message}");
    assert!(
        message.contains("/amount: expected 10.0, got 12"),
        "{message}"
    );
    assert!(!message.contains("X secret"), "{message}");
}

#[test]
fn faults_delays_and_text_bodies() {
    let get = |response: Value| exchange(json!({"method": "GET", "path": "/r/1"}), response);
    let t = FixtureTransport::new(
        "http://v",
        vec![
            (
                "reset".into(),
                get(json!({"status": 200, "fault": "reset"})),
            ),
            (
                "slow".into(),
                get(json!({"status": 200, "delay_ms": 3000, "body": {}})),
            ),
            (
                "quick".into(),
                get(json!({"status": 200, "delay_ms": 10, "body": {}})),
            ),
            (
                "html".into(),
                get(
                    json!({"status": 502, "headers": {"content-type": "text/html"},
                           "body_text": "<html>502</html>"}),
                ),
            ),
        ],
    )
    .with_timeout(Duration::from_millis(500));
    let send = || now(t.send(VendorRequest::new(Method::GET, "http://v/r/1")));
    assert!(matches!(send(), Err(TransportError::Broken(_))));
    assert!(matches!(
        send(),
        Err(TransportError::Timeout { sent: true, .. })
    ));
    assert_eq!(send().unwrap().status, 200);
    let html = send().unwrap();
    assert_eq!(
        (html.status, &html.body[..]),
        (502, &b"<html>502</html>"[..])
    );
    assert_eq!(html.headers["content-type"], "text/html");
    t.assert_all_used();
}

#[test]
fn loads_fixture_files_by_name() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/ticketmatic");
    let t = FixtureTransport::load("http://x", dir, &["get-order", "error-401"]);
    assert_eq!(t.unused(), ["get-order", "error-401"]);
}

#[test]
fn query_decoding() {
    let q = decode_query("order=https%3A%2F%2Fa.example%2Fo%2F1&page=2&x=a+b&bad=%zz&end=%4");
    assert_eq!(q["order"], "https://a.example/o/1");
    assert_eq!(q["page"], "2");
    assert_eq!(q["x"], "a b");
    assert_eq!(q["bad"], "%zz");
    assert_eq!(q["end"], "%4");
}
