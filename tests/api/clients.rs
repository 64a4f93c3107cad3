//! Client identities: with `[[clients]]`, `/v1` needs an API key; each client has its own
//! idempotency keys, its own ledger view and its own rate limit.

use serde_json::json;

use crate::support::{secret_file, TestGateway};

const ACME: &str = "acme-key-0123456789abcdef";
const BETA: &str = "beta-key-0123456789abcdef";

fn config() -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nclient_rate_limit = {{ per_second = 1, burst = 4 }}\n\
         [[clients]]\nname = \"acme\"\nkey = {{ file = \"{}\" }}\n[[clients]]\nname = \"beta\"\nkey = {{ file = \"{}\" }}\n\
         [providers.tm]\nkind = \"ticketmatic\"\nsandbox = true\naccount = \"demo\"\n",
        secret_file(ACME),
        secret_file(BETA)
    )
}

fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

fn refund(value: &str) -> serde_json::Value {
    json!({"provider": "tm", "target": {"order": "1269434"}, "amount": {"value": value, "currency": "EUR"}})
}

#[tokio::test]
async fn keys_are_required_and_scope_everything() {
    let gw = TestGateway::start(&config()).await;
    let none = gw.get("/v1/providers").await;
    assert_eq!(
        (none.status, none.code()),
        (401, "unauthorized"),
        "{}",
        none.text
    );
    assert_eq!(none.header("www-authenticate"), Some("Bearer"));
    let wrong = gw
        .get_with(
            "/v1/providers",
            &[("authorization", "Bearer not-a-key-of-anyone")],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(gw.get("/healthz").await.status, 200, "health stays open");
    assert_eq!(
        gw.get("/openapi.json").await.status,
        200,
        "the contract stays open"
    );

    let (acme, beta) = (bearer(ACME), bearer(BETA));
    let a = gw
        .post_with(
            "/v1/refunds",
            refund("1.00"),
            &[("authorization", &acme), ("idempotency-key", "same-key")],
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    // The same key from another client is another request.
    let b = gw
        .post_with(
            "/v1/refunds",
            refund("2.00"),
            &[("authorization", &beta), ("idempotency-key", "same-key")],
        )
        .await;
    assert_eq!(b.status, 201, "{}", b.text);
    assert_ne!(a.body["id"], b.body["id"]);

    let a_id = a.body["id"].as_str().unwrap();
    assert_eq!(
        gw.get_with(&format!("/v1/refunds/{a_id}"), &[("authorization", &acme)])
            .await
            .status,
        200
    );
    let other = gw
        .get_with(&format!("/v1/refunds/{a_id}"), &[("authorization", &beta)])
        .await;
    assert_eq!(
        (other.status, other.code()),
        (404, "not_found"),
        "a client sees only its own refunds"
    );
    let listed = gw
        .get_with("/v1/refunds", &[("authorization", &beta)])
        .await;
    let ids: Vec<&str> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![b.body["id"].as_str().unwrap()]);

    // Another client's refund is no cursor: beta's page after acme's newer refund is as
    // empty as after an id that does not exist (it would list beta's older refund).
    let a2 = gw
        .post_with(
            "/v1/refunds",
            refund("3.00"),
            &[("authorization", &acme), ("idempotency-key", "another-key")],
        )
        .await;
    assert_eq!(a2.status, 201, "{}", a2.text);
    let foreign = gw
        .get_with(
            &format!(
                "/v1/refunds?starting_after={}",
                a2.body["id"].as_str().unwrap()
            ),
            &[("authorization", &beta)],
        )
        .await;
    assert_eq!(foreign.status, 200, "{}", foreign.text);
    assert_eq!(foreign.body["data"], json!([]), "{}", foreign.text);
}

#[tokio::test]
async fn each_client_has_its_own_rate_limit() {
    let gw = TestGateway::start(&config()).await;
    let (acme, beta) = (bearer(ACME), bearer(BETA));
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(
            gw.get_with("/v1/providers", &[("authorization", &acme)])
                .await
                .status,
        );
    }
    assert_eq!(statuses, vec![200, 200, 200, 200, 429, 429]);
    assert_eq!(
        gw.get_with("/v1/providers", &[("authorization", &beta)])
            .await
            .status,
        200,
        "beta is not held back by acme"
    );
}

#[test]
fn weak_or_missing_client_keys_are_refused_at_start() {
    let dir = std::env::temp_dir().join(format!("rg-clients-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("gateway.toml");
    std::fs::write(
        &path,
        format!(
            "[[clients]]\nname = \"acme\"\nkey = {{ file = \"{}\" }}\n",
            secret_file("short")
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_refund-gateway"))
        .args(["check-config", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("clients[0].key: an API key must be at least 16 characters"),
        "{stderr}"
    );
}
