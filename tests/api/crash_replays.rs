//! Honest answers after `kill -9`: a key whose request died with its gateway is released
//! as soon as the restarted gateway knows that process ended (not after the key's lease),
//! and a refund that was never applied never replays as a 201.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::process::{write_config, CheckedClient, GatewayProcess};
use crate::support::{secret_file, temp_database, ApiResponse, ReplayVendor};

const TICKET: &str = "5f8d0f8b9d2b3b0017b6d8a0";

fn config(vendor: &ReplayVendor, database: &str, extra: &str) -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nrequest_timeout = \"30s\"\n\
         [storage]\nurl = \"{database}\"\n[reconcile]\ninterval = \"200ms\"\n\
         [providers.fv]\nkind = \"fourvenues\"\nbase_url = \"{}\"\napi_key = {{ file = \"{}\" }}\n\
         timeout = \"20s\"\n{extra}\n",
        vendor.base_url(),
        secret_file("fv-crash-key")
    )
}

async fn create(gateway: &CheckedClient, key: &str) -> ApiResponse {
    gateway
        .post(
            "/v1/refunds",
            &json!({"provider": "fv", "target": {"tickets": [TICKET]}, "amount": {"value": "10", "currency": "EUR"}}),
            &[("idempotency-key", key)],
        )
        .await
}

/// Polls until `done` holds, for at most `limit`.
async fn eventually(limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_key_held_by_a_killed_gateway_is_released_at_restart() {
    // The vendor takes 3 s to answer the refund: the gateway is killed meanwhile.
    let vendor = ReplayVendor::start_reusable(&[
        "fixtures/fourvenues/get-ticket-unrefunded.json",
        "fixtures/fourvenues/refund-timeout.json",
    ])
    .await;
    let database = temp_database();
    let path = write_config(
        "crash-key",
        &config(&vendor, &database, "settle_window = \"1h\""),
    );
    let first = GatewayProcess::spawn(&path);
    let client = first.client().await;
    let pending = tokio::spawn(async move { create(&client, "crash-key-1").await });
    eventually(Duration::from_secs(5), || {
        vendor.received().iter().any(|r| r.method == "PUT")
    })
    .await;
    first.kill();
    let _ = pending.await;

    let second = GatewayProcess::spawn(&path);
    let client = second.client().await;
    let started = Instant::now();
    let replay = create(&client, "crash-key-1").await;
    let (status, body) = (replay.status, replay.body);
    assert_eq!(status, 202, "the refund may have been applied: {body}");
    assert_eq!(body["status"], "unknown", "{body}");
    assert_eq!(body["status_reason"]["code"], "interrupted", "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "released at once, not after the 60 s lease"
    );
    let puts = vendor
        .received()
        .iter()
        .filter(|r| r.method == "PUT")
        .count();
    assert_eq!(puts, 1, "never sent again");
}

#[tokio::test]
async fn a_refund_that_never_left_is_not_answered_201() {
    // One request a minute: the second create waits in the gateway's line, never sent.
    let vendor = ReplayVendor::start_reusable(&[
        "fixtures/fourvenues/get-ticket-unrefunded.json",
        "fixtures/fourvenues/refund-partial.json",
    ])
    .await;
    let database = temp_database();
    let path = write_config(
        "crash-unsent",
        &config(
            &vendor,
            &database,
            "settle_window = \"0s\"\nrate_limit = { per_second = 0.02, burst = 2, max_wait = \"25s\" }",
        ),
    );
    let first = GatewayProcess::spawn(&path);
    let client = first.client().await;
    let applied = create(&client, "crash-unsent-1").await;
    assert_eq!(applied.status, 201);
    let waiting = tokio::spawn(async move { create(&client, "crash-unsent-2").await });
    // Killed once its intent is durable (and it waits in the line, never sent).
    let mut ledger = {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        sqlx::AnyConnection::connect(&database).await.unwrap()
    };
    let started = Instant::now();
    loop {
        let intents: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM refunds WHERE idempotency_key = 'crash-unsent-2'",
        )
        .fetch_one(&mut ledger)
        .await
        .unwrap();
        if intents == 1 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the second create's intent never reached the ledger"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(ledger);
    let sent_before = vendor.received().len();
    first.kill();
    let _ = waiting.await;

    // The restarted gateway marks the dead process's intent unknown, the reconciler finds
    // no such refund at the vendor: not applied.
    let second = GatewayProcess::spawn(&path);
    let client = second.client().await;
    let started = Instant::now();
    loop {
        let page: Value = client.get("/v1/refunds?status=failed").await.body;
        if page["data"].as_array().is_some_and(|d| !d.is_empty()) {
            assert_eq!(
                page["data"][0]["status_reason"]["code"], "not_applied",
                "{page}"
            );
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{page}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let replay = create(&client, "crash-unsent-2").await;
    let (status, body) = (replay.status, replay.body);
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("refund_not_applied")),
        "{body}"
    );
    assert_eq!(body["outcome"], "not_applied", "{body}");
    assert!(
        !body["detail"].as_str().unwrap().contains("was sent"),
        "{body}"
    );
    let puts_after = vendor.received()[sent_before..]
        .iter()
        .filter(|r| r.method == "PUT")
        .count();
    assert_eq!(puts_after, 0, "nothing was sent for it, before or after");
}
