//! The ledger fails after the vendor was called: the client is told `unknown` (202), never
//! a success the ledger does not hold, and what the vendor said is kept in memory and
//! written once the ledger takes writes again.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::{Connection, Executor};

use crate::support::{repo_path, secret_file, temp_database, ReplayVendor, TestGateway};

const TICKET: &str = "5f8d0f8b9d2b3b0017b6d8a0";

/// The recorded partial refund, answered after 3 s: the test takes the ledger's lock
/// meanwhile (3 s leaves room for a loaded machine between seeing the PUT and locking).
fn slow_refund() -> String {
    let mut exchange: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_path("fixtures/fourvenues/refund-partial.json")).unwrap(),
    )
    .unwrap();
    exchange["response"]["delay_ms"] = json!(3000);
    let path = std::env::temp_dir()
        .join(crate::support::unique("slow-refund"))
        .with_extension("json");
    std::fs::write(&path, exchange.to_string()).unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn a_ledger_write_that_fails_after_the_vendor_call_answers_unknown_and_is_written_later() {
    let slow = slow_refund();
    let vendor =
        ReplayVendor::start_reusable(&["fixtures/fourvenues/get-ticket-unrefunded.json", &slow])
            .await;
    let database = temp_database();
    let gw = std::sync::Arc::new(
        TestGateway::start(&format!(
            "[storage]\nurl = \"{database}\"\n[reconcile]\ninterval = \"200ms\"\n\
             [providers.fv]\nkind = \"fourvenues\"\nbase_url = \"{}\"\napi_key = {{ file = \"{}\" }}\n\
             settle_window = \"1h\"\n",
            vendor.base_url(),
            secret_file("fv-outage-key")
        ))
        .await,
    );
    let create = {
        let gw = gw.clone();
        tokio::spawn(async move {
            gw.post(
                "/v1/refunds",
                json!({"provider": "fv", "target": {"tickets": [TICKET]}, "amount": {"value": "10", "currency": "EUR"}}),
            )
            .await
        })
    };
    // Once the refund is at the vendor, another writer holds the ledger until the gateway
    // has answered (it gives up waiting for the ledger first: no timing assumed).
    let started = Instant::now();
    while !vendor.received().iter().any(|r| r.method == "PUT") {
        assert!(started.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut blocker = sqlx::AnyConnection::connect(&database).await.unwrap();
    blocker.execute("BEGIN EXCLUSIVE").await.unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(60), create)
        .await
        .expect("the gateway answers while the ledger is locked")
        .unwrap();
    blocker.execute("ROLLBACK").await.unwrap();

    assert_eq!(answer.status, 202, "{}", answer.text);
    assert_eq!(answer.body["status"], "unknown", "{}", answer.text);
    assert_eq!(answer.body["status_reason"]["code"], "ledger_unavailable");
    let id = answer.body["id"].as_str().unwrap().to_string();

    // What the vendor said reaches the ledger once it takes writes again.
    let started = Instant::now();
    loop {
        let got = gw.get(&format!("/v1/refunds/{id}")).await;
        if got.body["status"] == "succeeded" {
            assert_eq!(
                got.body["vendor_reference"],
                format!("ticket/{TICKET}/refund/0"),
                "{}",
                got.text
            );
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{}", got.text);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let puts = vendor
        .received()
        .iter()
        .filter(|r| r.method == "PUT")
        .count();
    assert_eq!(puts, 1, "never sent again");
}
