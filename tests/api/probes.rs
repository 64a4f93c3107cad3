//! Health probes: never rate limited, and `/readyz` says 503 while the ledger cannot be
//! reached.

use crate::support::{assert_problem, TestGateway};

const CONFIG: &str =
    "[server]\nlisten = \"127.0.0.1:0\"\nclient_rate_limit = { per_second = 1, burst = 2 }\n\
    [providers.tm]\nkind = \"ticketmatic\"\nsandbox = true\naccount = \"demo\"\n";

#[tokio::test]
async fn probes_are_not_rate_limited() {
    let gw = TestGateway::start(CONFIG).await;
    for _ in 0..200 {
        assert_eq!(gw.get("/healthz").await.status, 200);
    }
    for _ in 0..50 {
        assert_eq!(gw.get("/readyz").await.status, 200);
    }
    // The limit itself still holds for the API.
    let mut limited = 0;
    for _ in 0..10 {
        if gw.get("/v1/providers").await.status == 429 {
            limited += 1;
        }
    }
    assert!(limited > 0, "the API is still limited");
}

#[tokio::test]
async fn readiness_follows_the_ledger() {
    let gw = TestGateway::start(CONFIG).await;
    let ready = gw.get("/readyz").await;
    assert_eq!(
        (ready.status, &ready.body["status"]),
        (200, &serde_json::json!("ok"))
    );
    gw.storage().close().await;
    let not_ready = gw.get("/readyz").await;
    assert_problem(&not_ready, 503, "not_ready");
    assert_eq!(
        gw.get("/healthz").await.status,
        200,
        "alive, though not ready"
    );
}
