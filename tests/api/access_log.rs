//! The access log, from the real binary with `[log] format = "json"`: every stderr line is
//! one JSON object, every request has one access line with its method, route template,
//! status, duration, client, request id and replay flag, and no configured secret (nor a
//! query string) is ever written.

use serde_json::{json, Value};

use crate::support::process::{write_config, GatewayProcess};
use crate::support::{secret_file, temp_database, unique};

const KEY: &str = "acme-secret-key-0123456789";
const QUERY_SECRET: &str = "query-secret-value-42";

#[tokio::test]
async fn json_access_lines_name_each_request_and_no_secret() {
    let config = write_config(
        "access-log",
        &format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[storage]\nurl = \"{}\"\n[log]\nformat = \"json\"\n\
             [[clients]]\nname = \"acme\"\nkey = {{ file = \"{}\" }}\n\
             [providers.tm]\nkind = \"ticketmatic\"\nsandbox = true\naccount = \"demo\"\n",
            temp_database(),
            secret_file(KEY)
        ),
    );
    let gateway = GatewayProcess::spawn_logged(&config, "info");
    let http = gateway.client().await;
    let auth = format!("Bearer {KEY}");

    let providers = http
        .send(
            http.http()
                .get(http.url("/v1/providers"))
                .header("authorization", &auth)
                .header("x-request-id", "access-1"),
        )
        .await;
    assert_eq!(providers.status, 200);
    let unauthenticated = http.get("/v1/providers").await;
    assert_eq!(unauthenticated.status, 401);
    let key = unique("access-key");
    let body = json!({"provider": "tm", "target": {"order": "1269434"},
                      "amount": {"value": "1.00", "currency": "EUR"}});
    for rid in ["create-1", "create-2"] {
        let created = http
            .post(
                "/v1/refunds",
                &body,
                &[
                    ("authorization", &auth),
                    ("idempotency-key", &key),
                    ("x-request-id", rid),
                ],
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.text);
    }
    let listed = http
        .send(
            http.http()
                .get(http.url(&format!("/v1/refunds?provider=tm&order={QUERY_SECRET}")))
                .header("authorization", &auth)
                .header("x-request-id", "list-1"),
        )
        .await;
    assert!(listed.status < 500);
    let lines = gateway.terminate_logged();

    let parsed: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for line in &lines {
        assert!(!line.contains(KEY), "the client key was logged: {line}");
        assert!(
            !line.contains(QUERY_SECRET),
            "a query string was logged: {line}"
        );
    }
    let access: Vec<&Value> = parsed
        .iter()
        .filter(|v| v["target"] == "refund_gateway::access")
        // The checked client's fetch of the document it checks answers against.
        .filter(|v| v["route"] != "/openapi.json")
        .collect();
    assert_eq!(access.len(), 5, "one access line per request: {lines:#?}");
    let by_id = |rid: &str| -> &Value {
        access
            .iter()
            .find(|v| v["request_id"] == rid)
            .unwrap_or_else(|| panic!("no access line for {rid}: {lines:#?}"))
    };
    let line = by_id("access-1");
    assert_eq!(
        (
            &line["method"],
            &line["route"],
            &line["status"],
            &line["client"],
            &line["replayed"]
        ),
        (
            &json!("GET"),
            &json!("/v1/providers"),
            &json!(200),
            &json!("acme"),
            &json!(false)
        ),
        "{line}"
    );
    assert!(
        line["duration_ms"].as_f64().is_some_and(|ms| ms >= 0.0),
        "{line}"
    );
    assert!(
        line["level"] == "INFO" && line["timestamp"].is_string(),
        "{line}"
    );
    let (first, second) = (by_id("create-1"), by_id("create-2"));
    assert_eq!(
        (&first["route"], &first["status"], &first["replayed"]),
        (&json!("/v1/refunds"), &json!(201), &json!(false))
    );
    assert_eq!(
        (&second["status"], &second["replayed"], &second["method"]),
        (&json!(201), &json!(true), &json!("POST"))
    );
    assert_eq!(by_id("list-1")["route"], "/v1/refunds");
    let refused = access
        .iter()
        .find(|v| v["status"] == 401)
        .expect("the 401 is logged");
    assert_eq!(
        (&refused["client"], &refused["route"]),
        (&json!("-"), &json!("/v1/providers"))
    );
    assert!(refused["request_id"]
        .as_str()
        .is_some_and(|id| id.len() == 26));
}
