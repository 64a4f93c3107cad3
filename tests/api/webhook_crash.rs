//! Webhook deliveries across gateway processes: deliveries pending (some in flight) when a
//! gateway is killed with SIGKILL are delivered after its restart, each event at least
//! once and in order per refund; and two gateways sharing one PostgreSQL ledger deliver
//! each event exactly once.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::process::{write_config, CheckedClient, GatewayProcess};
use crate::support::{postgres_database, secret_file, temp_database, unique};
use crate::webhook_receiver::{assert_signed_and_in_order, Receiver, SECRET};

fn config(database: &str, hook: &str) -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\n[storage]\nurl = \"{database}\"\n\n\
         [events]\nwebhook_poll = \"100ms\"\nwebhook_timeout = \"5s\"\nwebhook_retry_first = \"200ms\"\nwebhook_retry_max = \"1s\"\n\n\
         [providers.tm]\nkind = \"ticketmatic\"\nsandbox = true\naccount = \"demo\"\n\n\
         [[webhooks]]\nname = \"hook\"\nurl = \"{hook}\"\nsecret = {{ file = \"{}\" }}\n",
        secret_file(SECRET)
    )
}

async fn create(gateway: &CheckedClient) -> Value {
    let r = gateway
        .post(
            "/v1/refunds",
            &json!({"provider": "tm", "target": {"order": "1269434"}, "amount": {"value": "1.00", "currency": "EUR"}}),
            &[("idempotency-key", &unique("crash-hook"))],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

async fn get(gateway: &CheckedClient, path: &str) -> Value {
    gateway.get(path).await.body
}

/// Every event id of the ledger (one page is enough here).
async fn event_ids(gateway: &CheckedClient) -> Vec<String> {
    get(gateway, "/v1/events?limit=100").await["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

fn times_received(received: &[crate::webhook_receiver::Received]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for r in received {
        *counts.entry(r.id.clone()).or_insert(0) += 1;
    }
    counts
}

#[tokio::test]
async fn deliveries_pending_at_a_sigkill_are_delivered_after_restart() {
    let receiver = Receiver::start().await;
    // Slow at first: deliveries are in flight when the gateway dies. 3 s per delivery (two
    // per refund, one after the other) leaves the last refund's deliveries pending for ~6 s
    // after its create, and stays under the gateway's 5 s webhook_timeout.
    receiver.answer(200, Duration::from_millis(3000));
    let path = write_config("webhook-crash", &config(&temp_database(), &receiver.url()));
    let first = GatewayProcess::spawn(&path);
    let first_http = first.client().await;
    for _ in 0..4 {
        create(&first_http).await;
    }
    let events = event_ids(&first_http).await;
    assert_eq!(events.len(), 8);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pending = get(
        &first_http,
        "/v1/webhook-deliveries?state=pending&limit=100",
    )
    .await;
    assert!(
        !pending["data"].as_array().unwrap().is_empty(),
        "some deliveries were still pending at the kill: {pending}"
    );
    first.kill();
    let before_restart = receiver.received().len();
    assert!(
        before_restart < 8,
        "the crash came before everything was delivered"
    );

    receiver.answer(200, Duration::ZERO);
    let second = GatewayProcess::spawn(&path);
    let got = receiver
        .until(Duration::from_secs(20), |r| {
            let counts = times_received(r);
            events.iter().all(|id| counts.contains_key(id))
        })
        .await;
    assert_signed_and_in_order(&got);
    let counts = times_received(&got);
    assert_eq!(counts.len(), 8, "nothing else was sent");
    let repeated = counts.values().filter(|n| **n > 1).count();
    // Only a delivery in flight at the kill may come twice (at most once per refund: one
    // delivery per refund is in flight at a time).
    assert!(repeated <= 4, "{counts:?}");
    let delivered = get(
        &second.client().await,
        "/v1/webhook-deliveries?state=delivered&limit=100",
    )
    .await;
    assert_eq!(
        delivered["data"].as_array().unwrap().len(),
        8,
        "{delivered}"
    );
}

#[tokio::test]
async fn two_gateways_on_one_postgresql_deliver_each_event_once() {
    let admin = crate::support::postgres_admin();
    let database = postgres_database(&admin).await;
    let receiver = Receiver::start().await;
    // A little slow, so both gateways have deliveries to race for.
    receiver.answer(200, Duration::from_millis(50));
    let path = write_config("webhook-pair", &config(&database, &receiver.url()));
    let a = GatewayProcess::spawn(&path);
    let b = GatewayProcess::spawn(&path);
    let (a_http, b_http) = (a.client().await, b.client().await);
    for i in 0..10 {
        create(if i % 2 == 0 { &a_http } else { &b_http }).await;
    }
    let events = event_ids(&a_http).await;
    assert_eq!(events.len(), 20);
    let got = receiver
        .until(Duration::from_secs(20), |r| {
            let counts = times_received(r);
            events.iter().all(|id| counts.contains_key(id))
        })
        .await;
    // Anything sent twice would have come by now.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let got = if receiver.received().len() > got.len() {
        receiver.received()
    } else {
        got
    };
    assert_signed_and_in_order(&got);
    let counts = times_received(&got);
    let duplicates: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicates.is_empty(), "each event once: {duplicates:?}");
    assert_eq!(counts.len(), 20);
}
