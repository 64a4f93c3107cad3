//! Input the gateway refuses although JSON or HTTP would allow it: one decimal grammar for
//! amounts, no key twice, objects where objects belong, no control characters in text,
//! and clear answers for broken bodies and paths.

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{assert_problem, TestGateway};

const CONFIG: &str = "[server]\nlisten = \"127.0.0.1:0\"\n\
    [providers.tm]\nkind = \"ticketmatic\"\nsandbox = true\naccount = \"demo\"\n";

fn create(amount: &str) -> Value {
    json!({"provider": "tm", "target": {"order": "1269434"}, "amount": {"value": amount, "currency": "EUR"}})
}

#[tokio::test]
async fn amounts_have_one_grammar() {
    let gw = TestGateway::start(CONFIG).await;
    for bad in [" 10", "+10", "10.", "00010", "1e1", "10 "] {
        let r = gw.post("/v1/refunds", create(bad)).await;
        assert_problem(&r, 422, "validation_failed");
        assert_eq!(r.body["pointer"], "/amount/value", "{bad:?}: {}", r.text);
    }
    assert_eq!(gw.post("/v1/refunds", create("0.50")).await.status, 201);
}

#[tokio::test]
async fn duplicate_keys_arrays_for_objects_and_control_characters_are_refused() {
    let gw = TestGateway::start(CONFIG).await;
    let cases: &[(&str, &str)] = &[
        (
            r#"{"provider": "tm", "provider": "fv", "target": {"order": "1269434"}, "amount": {"value": "1.00", "currency": "EUR"}}"#,
            "/provider",
        ),
        (
            r#"{"provider": "tm", "target": {"order": "1", "order": "1269434"}, "amount": {"value": "1.00", "currency": "EUR"}}"#,
            "/target/order",
        ),
        (
            r#"{"provider": "tm", "target": ["1269434"], "amount": {"value": "1.00", "currency": "EUR"}}"#,
            "/target",
        ),
        (
            r#"{"provider": "tm", "target": {"order": "1269434"}, "amount": ["1.00", "EUR"]}"#,
            "/amount",
        ),
        (r#"["tm", {"order": "1269434"}]"#, ""),
        (
            "{\"provider\": \"tm\", \"target\": {\"order\": \"1269434\"}, \"amount\": {\"value\": \"1.00\", \"currency\": \"EUR\"}, \"reason\": \"a\\u0000b\"}",
            "/reason",
        ),
        (
            "{\"provider\": \"tm\", \"target\": {\"order\": \"12694\\u001b34\"}, \"amount\": {\"value\": \"1.00\", \"currency\": \"EUR\"}}",
            "/target/order",
        ),
        (
            "{\"provider\": \"tm\", \"target\": {\"order\": \"1269434\"}, \"amount\": {\"value\": \"1.00\", \"currency\": \"EUR\"}, \"metadata\": {\"case\": \"x\\ny\"}}",
            "/metadata/case",
        ),
    ];
    for (body, pointer) in cases {
        let r = gw
            .post_raw("/v1/refunds", "application/json", body.to_string())
            .await;
        assert_problem(&r, 422, "validation_failed");
        assert_eq!(r.body["pointer"], *pointer, "{body}: {}", r.text);
    }
    let r = gw.get("/v1/refunds?provider=tm&order=12%0034").await;
    assert_problem(&r, 400, "validation_failed");
    assert_eq!(r.body["parameter"], "order", "{}", r.text);
}

#[tokio::test]
async fn bad_ids_in_paths_get_problems() {
    let gw = TestGateway::start(CONFIG).await;
    let r = gw.get("/v1/refunds/rfg_01abc%00def").await;
    assert_problem(&r, 404, "not_found");
    let r = gw.get("/v1/refunds/%FF%FE").await;
    assert_problem(&r, 400, "validation_failed");
    assert_eq!(r.body["parameter"], "id", "{}", r.text);
    let r = gw.get("/v1/refund-batches/%C3%28").await;
    assert_problem(&r, 400, "validation_failed");
}

#[tokio::test]
async fn a_malformed_chunked_body_is_a_bad_request() {
    let gw = TestGateway::start(CONFIG).await;
    let address = gw.url("").trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(address.trim_end_matches('/'))
        .await
        .unwrap();
    stream
        .write_all(
            b"POST /v1/refunds HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n\
              Idempotency-Key: chunked-1\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{\"a\":1}\r\n0\r\n\r\n",
        )
        .await
        .unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut answer))
        .await
        .expect("an answer, not a hang")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("malformed_body"), "{answer}");
}

#[tokio::test]
async fn a_batch_counts_every_bad_item_and_lists_the_first_hundred() {
    let gw = TestGateway::start(CONFIG).await;
    let items: Vec<Value> = (0..5000)
        .map(|i| json!({"provider": "nope", "target": {"order": format!("{i}")}}))
        .collect();
    let r = gw
        .post("/v1/refund-batches", json!({ "items": items }))
        .await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(r.body["error_count"], 5000, "{}", &r.text[..300]);
    assert_eq!(r.body["errors"].as_array().unwrap().len(), 100);
    assert_eq!(r.body["errors"][99]["pointer"], "/items/99/provider");
    assert!(r.body["detail"].as_str().unwrap().contains("5000"));
}
