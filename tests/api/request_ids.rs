//! Request ids: a valid incoming `x-request-id` is kept, a missing or bad one is replaced by
//! a new one; either way it comes back in the answer's header and in every problem body,
//! a replayed stored answer included (with the id of the replaying request).

use serde_json::json;

use std::sync::Arc;
use std::time::Duration;

use refund_gateway::loopback::{Handler, LoopbackServer};

use crate::support::{repo_path, secret_file, TestGateway};

async fn default_gateway() -> TestGateway {
    let text = std::fs::read_to_string(repo_path("config/gateway.toml")).unwrap();
    let text = text.replace("listen = \"127.0.0.1:8080\"", "listen = \"127.0.0.1:0\"");
    let text = text.replace(
        "url = \"sqlite://data/refund-gateway.db\"",
        &format!("url = \"{}\"", crate::support::temp_database()),
    );
    assert!(text.contains("127.0.0.1:0"));
    TestGateway::start(&text).await
}

fn is_ulid(id: &str) -> bool {
    id.len() == 26 && id.parse::<ulid::Ulid>().is_ok()
}

#[tokio::test]
async fn a_given_id_round_trips_into_header_and_problem() {
    let gw = default_gateway().await;
    let id = "client-chosen/id:42";
    let ok = gw.get_with("/v1/providers", &[("x-request-id", id)]).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.header("x-request-id"), Some(id));

    let missing = gw
        .get_with("/v1/refunds/rfg_nope", &[("x-request-id", id)])
        .await;
    assert!(missing.status >= 400, "{}", missing.text);
    assert_eq!(missing.header("x-request-id"), Some(id));
    assert_eq!(missing.body["request_id"], id, "{}", missing.text);

    let no_route = gw.get_with("/nowhere", &[("x-request-id", id)]).await;
    assert_eq!(no_route.status, 404);
    assert_eq!(no_route.body["request_id"], id, "{}", no_route.text);
    // Added last: the problem's members keep their order.
    assert!(no_route.text.starts_with("{\"type\":"), "{}", no_route.text);
    assert!(
        no_route
            .text
            .ends_with(&format!(",\"request_id\":\"{}\"}}", id)),
        "{}",
        no_route.text
    );

    let quoted = "say\"hi\"\\";
    let escaped = gw.get_with("/nowhere", &[("x-request-id", quoted)]).await;
    assert_eq!(escaped.body["request_id"], quoted, "{}", escaped.text);
}

#[tokio::test]
async fn a_missing_id_is_generated_and_each_request_gets_its_own() {
    let gw = default_gateway().await;
    let first = gw.get("/healthz").await;
    let second = gw.get("/nowhere").await;
    let a = first.header("x-request-id").expect("an id is generated");
    let b = second.header("x-request-id").expect("an id is generated");
    assert!(is_ulid(a) && is_ulid(b), "{a} {b}");
    assert_ne!(a, b);
    assert_eq!(second.body["request_id"], b, "{}", second.text);
}

#[tokio::test]
async fn a_bad_id_is_replaced() {
    let gw = default_gateway().await;
    let too_long = "x".repeat(129);
    let longest = "y".repeat(128);
    for bad in ["", "has space", "tab\there", too_long.as_str()] {
        let r = gw.get_with("/nowhere", &[("x-request-id", bad)]).await;
        let id = r.header("x-request-id").expect("an id is generated");
        assert!(is_ulid(id), "{bad:?} was replaced by {id}");
        assert_eq!(r.body["request_id"], id, "{}", r.text);
    }
    let kept = gw
        .get_with("/healthz", &[("x-request-id", longest.as_str())])
        .await;
    assert_eq!(kept.header("x-request-id"), Some(longest.as_str()));
}

#[tokio::test]
async fn a_replayed_problem_carries_the_replaying_requests_id() {
    let gw = default_gateway().await;
    let over = json!({"provider": "ticketmatic-demo", "target": {"order": "1269434"},
                      "amount": {"value": "500.00", "currency": "EUR"}});
    let key = crate::support::unique("rid-key");
    let first = gw
        .post_with(
            "/v1/refunds",
            over.clone(),
            &[("idempotency-key", &key), ("x-request-id", "first")],
        )
        .await;
    assert_eq!(first.code(), "amount_exceeds_refundable", "{}", first.text);
    assert_eq!(first.body["request_id"], "first");
    let replay = gw
        .post_with(
            "/v1/refunds",
            over,
            &[("idempotency-key", &key), ("x-request-id", "second")],
        )
        .await;
    assert_eq!(
        (replay.status, replay.header("idempotent-replayed")),
        (first.status, Some("true")),
        "{}",
        replay.text
    );
    assert_eq!(replay.header("x-request-id"), Some("second"));
    assert_eq!(replay.body["request_id"], "second", "{}", replay.text);
    assert_eq!(
        replay.header("content-type"),
        Some("application/problem+json")
    );
}

/// The request timeout answers at the edge, outside the router: its problem carries the id.
#[tokio::test]
async fn a_timed_out_request_carries_its_id() {
    let handler: Handler = Arc::new(|_req| {
        Box::pin(async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            None
        })
    });
    let vendor = LoopbackServer::start("127.0.0.1:0".parse().unwrap(), handler)
        .await
        .unwrap();
    let gw = TestGateway::start(&format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nrequest_timeout = \"300ms\"\n\
         [providers.tm]\nkind = \"ticketmatic\"\nbase_url = \"{}\"\naccount = \"demo\"\n\
         access_key = {{ file = \"{}\" }}\nsecret_key = {{ file = \"{}\" }}\n",
        vendor.base_url(),
        secret_file("access"),
        secret_file("secret")
    ))
    .await;
    let r = gw
        .get_with(
            "/v1/refunds?provider=tm&order=1269434",
            &[("x-request-id", "slow-1")],
        )
        .await;
    assert_eq!((r.status, r.code()), (504, "gateway_timeout"), "{}", r.text);
    assert_eq!(r.header("x-request-id"), Some("slow-1"));
    assert_eq!(r.body["request_id"], "slow-1", "{}", r.text);
}
