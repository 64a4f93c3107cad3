//! State per entity in the replay server (`Exchange::state`), with real processes: a refund
//! made on one order is then listed for that order, and not for another order, through a
//! gateway process in front of a `replay` process; `POST /__replay/reset` puts every entity
//! back in `started`, and a request whose fixture waits for another state is told so.

use std::path::Path;

use serde_json::{json, Value};

use crate::support::process::{write_config, GatewayProcess};
use crate::support::{repo_path, temp_database, unique};

fn fixture(name: &str) -> Value {
    let text =
        std::fs::read_to_string(repo_path(&format!("fixtures/ticketmatic/{name}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The shipped fixtures with entity states: order 1269434 is read as unrefunded until the
/// refund is added, then as refunded; order 1269436 has no state and never changes.
fn write_fixtures(dir: &Path) {
    let mut before = fixture("get-order");
    before["state"] = json!({"entity": "order 1269434", "requires": "started"});
    let mut refund = fixture("add-refund-full");
    refund["state"] = json!({"entity": "order 1269434", "becomes": "refunded"});
    let mut after = fixture("get-order");
    after["response"]["body"] = refund["response"]["body"].clone();
    after["state"] = json!({"entity": "order 1269434", "requires": "refunded"});
    let other = fixture("get-order-two-payments");
    for (name, value) in [
        ("1-before", before),
        ("2-refund", refund),
        ("3-after", after),
        ("4-other", other),
    ] {
        std::fs::write(dir.join(format!("{name}.json")), value.to_string()).unwrap();
    }
}

async fn refund_count(gateway: &str, order: &str) -> usize {
    let r = reqwest::Client::new()
        .get(format!("{gateway}/v1/refunds?provider=tm&order={order}"))
        .header("cache-control", "no-cache")
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{body:#}");
    body["data"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn a_refund_is_listed_for_its_order_and_not_for_another() {
    let dir = std::env::temp_dir().join(unique("replay-state"));
    std::fs::create_dir_all(&dir).unwrap();
    write_fixtures(&dir);
    let replay = GatewayProcess::spawn_args(&[
        "replay".as_ref(),
        dir.as_os_str(),
        "--listen".as_ref(),
        "127.0.0.1:0".as_ref(),
    ]);
    let secret = dir.join("key");
    std::fs::write(&secret, "fake-key-0123456789").unwrap();
    let config = write_config(
        "replay-state",
        &format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[reconcile]\ninterval = \"1h\"\n[storage]\nurl = \"{}\"\n\
             [providers.tm]\nkind = \"ticketmatic\"\naccount = \"demo\"\ntimeout = \"30s\"\n\
             base_url = \"{}\"\naccess_key = {{ file = \"{}\" }}\nsecret_key = {{ file = \"{}\" }}\n",
            temp_database(),
            replay.base_url,
            secret.display(),
            secret.display()
        ),
    );
    let gateway = GatewayProcess::spawn(&config);
    let base = gateway.base_url.clone();
    let (this, other) = ("1269434", "1269436");

    assert_eq!(refund_count(&base, this).await, 0);
    let other_before = refund_count(&base, other).await;
    let created = reqwest::Client::new()
        .post(format!("{base}/v1/refunds"))
        .header("idempotency-key", unique("replay-state"))
        .json(&json!({"provider": "tm", "target": {"order": this},
                      "amount": {"value": "50.00", "currency": "EUR"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.status().as_u16(),
        201,
        "{}",
        created.text().await.unwrap()
    );
    assert_eq!(refund_count(&base, this).await, 1, "listed for its order");
    assert_eq!(
        refund_count(&base, other).await,
        other_before,
        "not for another"
    );

    let state: Value = reqwest::get(format!("{}/__replay/state", replay.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["entities"], json!({"order 1269434": "refunded"}));

    // The create's fixture requires no state, but its order read does: after a reset the
    // order reads as unrefunded again.
    let reset = reqwest::Client::new()
        .post(format!("{}/__replay/reset", replay.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status().as_u16(), 200);
    assert_eq!(refund_count(&base, this).await, 0);
    gateway.terminate();
    replay.kill();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A request whose only matching fixture waits for another state gets the 599 near-miss
/// answer naming the fixture, the entity and both states.
#[tokio::test]
async fn a_fixture_waiting_for_another_state_is_named() {
    let dir = std::env::temp_dir().join(unique("replay-waiting"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut after = fixture("get-order");
    after["state"] = json!({"entity": "order 1269434", "requires": "refunded"});
    std::fs::write(dir.join("after.json"), after.to_string()).unwrap();
    let replay = GatewayProcess::spawn_args(&[
        "replay".as_ref(),
        dir.as_os_str(),
        "--listen".as_ref(),
        "127.0.0.1:0".as_ref(),
    ]);
    let r = reqwest::Client::new()
        .get(format!("{}/demo/orders/1269434", replay.base_url))
        .header(
            "authorization",
            format!(
                "TM-HMAC-SHA256 key=k ts=2026-12-01T10:00:00 sign={}",
                "a".repeat(64)
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 599);
    let body: Value = r.json().await.unwrap();
    let waiting = body["waiting_for_state"].to_string();
    assert!(
        waiting.contains("after.json")
            && waiting.contains("`order 1269434` is `started`")
            && waiting.contains("requires `refunded`"),
        "{body:#}"
    );
    replay.kill();
    let _ = std::fs::remove_dir_all(&dir);
}

/// An entity taken from each request (`{{path.N}}`, `{{body:/pointer}}`): one refund
/// fixture (any order, `{{any}}`) moves the state of the order its request names, and the
/// reads of that order change while another order's do not.
#[tokio::test]
async fn the_entity_is_taken_from_the_request() {
    use refund_gateway::replay::{ReplayServer, Reuse};
    let exchange =
        |v: Value| -> refund_provider::fixture::Exchange { serde_json::from_value(v).unwrap() };
    let read = |order: &str, requires: &str, refunded: bool| {
        exchange(json!({
            "description": "read", "source": "test",
            "state": {"entity": "order {{path.1}}", "requires": requires},
            "request": {"method": "GET", "path": format!("/orders/{order}")},
            "response": {"status": 200, "body": {"refunded": refunded}}
        }))
    };
    let fixtures = vec![
        (
            "refund".to_string(),
            exchange(json!({
                "description": "refund of any order", "source": "test",
                "state": {"entity": "order {{body:/order}}", "becomes": "refunded"},
                "request": {"method": "POST", "path": "/refunds", "body": {"order": "{{any}}"}},
                "response": {"status": 200, "body": {"ok": true}}
            })),
        ),
        ("1-before".to_string(), read("1", "started", false)),
        ("1-after".to_string(), read("1", "refunded", true)),
        ("2-before".to_string(), read("2", "started", false)),
        ("2-after".to_string(), read("2", "refunded", true)),
    ];
    let server = ReplayServer::start("127.0.0.1:0".parse().unwrap(), fixtures, Reuse::Always)
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let refunded = |order: &'static str| {
        let client = client.clone();
        let url = format!("{}/orders/{order}", server.base_url());
        async move {
            let body: Value = client.get(url).send().await.unwrap().json().await.unwrap();
            body["refunded"].as_bool().unwrap()
        }
    };
    assert!(!refunded("1").await);
    assert!(!refunded("2").await);
    let r = client
        .post(format!("{}/refunds", server.base_url()))
        .json(&json!({"order": "1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(refunded("1").await, "order 1 was refunded");
    assert!(!refunded("2").await, "order 2 was not");
    let state: Value = client
        .get(format!("{}/__replay/state", server.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(state.to_string().contains("order 1"), "{state}");
    assert!(!state.to_string().contains("order 2"), "{state}");
}
