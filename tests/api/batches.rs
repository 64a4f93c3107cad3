//! Bulk refunds: a batch worked in the background, paced per instance; refused whole when
//! any item is bad; cancelable; resumed after SIGKILL with every target refunded exactly
//! once; and shared by two gateway processes on one PostgreSQL without double work.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::process::{write_config, CheckedClient, GatewayProcess, VendorSandbox};
use crate::support::{secret_file, with_storage, TestGateway};

const SANDBOX_KEY: &str = "fourvenues-sandbox-key";

fn instance(name: &str, vendor: &VendorSandbox, rate: u32) -> String {
    format!(
        "[providers.{name}]\nkind = \"fourvenues\"\nbase_url = \"{}\"\napi_key = {{ file = \"{}\" }}\ntimeout = \"2s\"\n\
         settle_window = \"1s\"\nrate_limit = {{ per_second = {rate}, burst = 1, max_wait = \"2s\" }}\n",
        vendor.base_url(),
        secret_file(SANDBOX_KEY)
    )
}

fn item(provider: &str, ticket: &str) -> Value {
    json!({"provider": provider, "target": {"tickets": [ticket]}, "amount": {"value": "10", "currency": "EUR"}, "reason": "event cancelled"})
}

/// PUTs per ticket, as the vendor saw them.
fn refunds_per_ticket(vendors: &[&VendorSandbox]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for vendor in vendors {
        for entry in vendor.log() {
            if entry.method == "PUT" && entry.status == 200 {
                let ticket = entry
                    .path
                    .trim_start_matches("/tickets/")
                    .trim_end_matches("/refund")
                    .to_string();
                *counts.entry(ticket).or_insert(0) += 1;
            }
        }
    }
    counts
}

/// Submits a batch to a gateway process and returns its id.
async fn submit_batch(gateway: &CheckedClient, key: &str, items: &[Value]) -> String {
    let created = gateway
        .post(
            "/v1/refund-batches",
            &json!({"items": items}),
            &[("idempotency-key", key)],
        )
        .await;
    created.body["id"]
        .as_str()
        .unwrap_or_else(|| panic!("batch accepted: {}", created.text))
        .to_string()
}

async fn get_json(gateway: &CheckedClient, path: &str) -> Value {
    gateway.get(path).await.body
}

/// Polls a batch until nothing is left to do or settle.
async fn until_settled(gateway: &CheckedClient, id: &str, limit: Duration) -> Value {
    let started = Instant::now();
    loop {
        let report = get_json(gateway, &format!("/v1/refund-batches/{id}")).await;
        let counts = &report["counts"];
        let busy = ["queued", "in_flight", "pending", "unknown"]
            .iter()
            .any(|k| counts[*k].as_u64().unwrap_or(0) > 0);
        if report["status"] != "open" && !busy {
            return report;
        }
        assert!(
            started.elapsed() < limit,
            "batch did not settle in {limit:?}: {report}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_batch_is_worked_paced_and_reported() {
    for database in crate::support::ledger_databases().await {
        worked_paced_and_reported(&database).await;
    }
}

async fn worked_paced_and_reported(database: &str) {
    let vendor = VendorSandbox::start("fourvenues", "").await;
    let gw = TestGateway::start(&with_storage(&instance("fv", &vendor, 40), database)).await;
    let items: Vec<Value> = (0..30).map(|i| item("fv", &format!("bulk-{i}"))).collect();
    let key = [("idempotency-key", "batch-1")];
    let created = gw
        .post_with("/v1/refund-batches", json!({"items": items}), &key)
        .await;
    assert_eq!(created.status, 202, "{}", created.text);
    assert_eq!(created.body["item_count"], 30);
    let id = created.body["id"].as_str().unwrap().to_string();
    let replay = gw
        .post_with("/v1/refund-batches", json!({"items": items}), &key)
        .await;
    assert_eq!(
        (replay.status, replay.header("idempotent-replayed")),
        (202, Some("true"))
    );
    assert_eq!(replay.body["id"], id.as_str());

    let report = until_settled(
        &CheckedClient::of(&gw.url("")).await,
        &id,
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(report["status"], "done", "{report}");
    assert_eq!(report["counts"]["succeeded"], 30, "{report}");
    assert_eq!(report["refunded"]["EUR"], "300.00", "{report}");
    assert!(refunds_per_ticket(&[&vendor]).values().all(|n| *n == 1));

    let page = gw
        .get(&format!("/v1/refund-batches/{id}/items?limit=10"))
        .await;
    assert_eq!(page.body["data"].as_array().map(Vec::len), Some(10));
    assert_eq!(page.body["has_more"], true);
    assert_eq!(page.body["data"][0]["status"], "succeeded");
    let refund_id = page.body["data"][0]["refund_id"].as_str().unwrap();
    let refund = gw.get(&format!("/v1/refunds/{refund_id}")).await;
    assert_eq!(refund.body["batch_id"], id.as_str(), "{}", refund.text);
    let next = gw
        .get(&format!(
            "/v1/refund-batches/{id}/items?limit=10&starting_after=9"
        ))
        .await;
    assert_eq!(next.body["data"][0]["seq"], 10);
    let listed = gw.get(&format!("/v1/refunds?batch={id}&limit=100")).await;
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(30));

    // Vendor side: never faster than the configured 40 requests per second (+1 burst).
    // Sorted by stamp (the log is in the order entries were logged, and `duration_since`
    // saturates), each window starts at a request and counts those within 1 s after it.
    let mut times: Vec<Instant> = vendor.log().iter().map(|l| l.at).collect();
    times.sort();
    for (i, start) in times.iter().enumerate() {
        let within = times[i..]
            .iter()
            .take_while(|t| t.duration_since(*start) < Duration::from_secs(1))
            .count();
        assert!(within <= 41, "{within} vendor requests within one second");
    }
}

#[tokio::test]
async fn a_bad_batch_is_refused_whole_naming_each_item() {
    let vendor = VendorSandbox::start("fourvenues", "").await;
    let config = format!(
        "[batches]\nmax_items = 5\n\n{}",
        instance("fv", &vendor, 10)
    );
    let gw = TestGateway::start(&config).await;
    let mut bad_amount = item("fv", "bulk-2");
    bad_amount["amount"]["value"] = json!(10.5);
    let items = json!([item("fv", "bulk-1"), item("nope", "bulk-1"), bad_amount, item("fv", "bulk-1"), {"provider": "fv"}]);
    let r = gw.post("/v1/refund-batches", json!({"items": items})).await;
    assert_eq!(
        (r.status, r.code()),
        (422, "validation_failed"),
        "{}",
        r.text
    );
    let errors: Vec<(String, String)> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["pointer"].as_str().unwrap().to_string(),
                e["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        ("/items/1/provider", "unknown_provider"),
        ("/items/2/amount/value", "validation_failed"),
        ("/items/3/target", "duplicate_target"),
        ("/items/4/target", "validation_failed"),
    ];
    assert_eq!(
        errors,
        expected.map(|(p, c)| (p.to_string(), c.to_string())),
        "{}",
        r.text
    );
    let many: Vec<Value> = (0..6).map(|i| item("fv", &format!("bulk-{i}"))).collect();
    let r = gw.post("/v1/refund-batches", json!({"items": many})).await;
    assert_eq!(
        (r.status, r.body["pointer"].as_str()),
        (422, Some("/items")),
        "{}",
        r.text
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        vendor.log().is_empty(),
        "nothing of a refused batch reaches a vendor"
    );
    assert_eq!(
        gw.get("/v1/refunds").await.body["data"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
}

#[tokio::test]
async fn a_canceled_batch_starts_no_new_item() {
    let vendor = VendorSandbox::start("fourvenues", "").await;
    let gw = TestGateway::start(&instance("fv", &vendor, 4)).await;
    let items: Vec<Value> = (0..40).map(|i| item("fv", &format!("bulk-{i}"))).collect();
    let created = gw.post("/v1/refund-batches", json!({"items": items})).await;
    let id = created.body["id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let canceled = gw
        .post(&format!("/v1/refund-batches/{id}/cancel"), json!({}))
        .await;
    assert_eq!(canceled.status, 200, "{}", canceled.text);
    let puts_at_cancel = refunds_per_ticket(&[&vendor]).len();
    assert_eq!(canceled.body["status"], "canceled");
    let report = until_settled(
        &CheckedClient::of(&gw.url("")).await,
        &id,
        Duration::from_secs(10),
    )
    .await;
    let done = report["counts"]["succeeded"].as_u64().unwrap_or(0);
    let canceled_items = report["counts"]["canceled"].as_u64().unwrap_or(0);
    assert!(done >= 1 && canceled_items >= 30, "{report}");
    assert_eq!(done + canceled_items, 40, "{report}");
    // Items in flight at the cancel finish (their PUT may reach the vendor after its 200):
    // at most `[batches] concurrency` (4) of them; no other item starts.
    let puts_settled = refunds_per_ticket(&[&vendor]).len();
    assert!(
        puts_settled >= puts_at_cancel && puts_settled <= puts_at_cancel + 4,
        "no item started after the cancel: {puts_at_cancel} PUTs at the cancel, {puts_settled} once settled"
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        refunds_per_ticket(&[&vendor]).len(),
        puts_settled,
        "nothing more once settled"
    );
    assert_eq!(
        puts_settled as u64, done,
        "the ledger agrees with the vendor"
    );
}

#[tokio::test]
async fn a_killed_gateway_resumes_its_batch_and_refunds_every_target_exactly_once() {
    for database in crate::support::ledger_databases().await {
        killed_and_resumed(&database).await;
    }
}

async fn killed_and_resumed(database: &str) {
    let (a, b) = (
        VendorSandbox::start("fourvenues", "").await,
        VendorSandbox::start("fourvenues", "").await,
    );
    let config = write_config(
        "crash",
        &format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[storage]\nurl = \"{}\"\n[reconcile]\ninterval = \"300ms\"\n\
             [batches]\nlease_margin = \"1s\"\n\n{}\n{}",
            database,
            instance("fv-a", &a, 100),
            instance("fv-b", &b, 100)
        ),
    );
    let items: Vec<Value> = (0..1000)
        .map(|i| {
            item(
                if i % 2 == 0 { "fv-a" } else { "fv-b" },
                &format!("bulk-{i}"),
            )
        })
        .collect();
    let first = GatewayProcess::spawn(&config);
    let id = submit_batch(&first.client().await, "crash-batch", &items).await;
    // Kill it about halfway through.
    let started = Instant::now();
    loop {
        let done = refunds_per_ticket(&[&a, &b]).len();
        if done >= 500 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "only {done} refunds after a minute"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill();
    let at_kill = refunds_per_ticket(&[&a, &b]).len();
    assert!(at_kill < 1000, "killed too late to prove anything");

    let process = GatewayProcess::spawn(&config);
    let second = process.client().await;
    let report = until_settled(&second, &id, Duration::from_secs(90)).await;
    let vendor_side = refunds_per_ticket(&[&a, &b]);
    if vendor_side.len() != 1000 {
        let failed = get_json(
            &second,
            &format!("/v1/refunds?batch={id}&status=failed&limit=5"),
        )
        .await;
        panic!(
            "{} targets refunded (killed at {at_kill}); report {report}; failed: {failed}",
            vendor_side.len()
        );
    }
    assert!(
        vendor_side.values().all(|n| *n == 1),
        "no target refunded twice"
    );
    assert_eq!(
        report["counts"]["succeeded"], 1000,
        "the ledger agrees with the vendors: {report}"
    );
    assert_eq!(report["refunded"]["EUR"], "10000.00");
}

#[tokio::test]
async fn two_gateways_on_one_postgres_never_work_an_item_twice() {
    let database = crate::support::postgres_database(&crate::support::postgres_admin()).await;
    let vendor = VendorSandbox::start("fourvenues", "").await;
    let config = write_config(
        "shared",
        &with_storage(
            &format!(
                "[server]\nlisten = \"127.0.0.1:0\"\n\n{}",
                instance("fv", &vendor, 200)
            ),
            &database,
        ),
    );
    let (one, two) = (
        GatewayProcess::spawn(&config),
        GatewayProcess::spawn(&config),
    );
    let items: Vec<Value> = (0..300).map(|i| item("fv", &format!("bulk-{i}"))).collect();
    let id = submit_batch(&one.client().await, "shared-batch", &items).await;
    let report = until_settled(&two.client().await, &id, Duration::from_secs(60)).await;
    assert_eq!(report["counts"]["succeeded"], 300, "{report}");
    let vendor_side = refunds_per_ticket(&[&vendor]);
    assert_eq!(vendor_side.len(), 300);
    assert!(
        vendor_side.values().all(|n| *n == 1),
        "an item was worked twice"
    );
}

#[tokio::test]
async fn a_vendor_native_event_wide_refund_is_one_item() {
    let gw = TestGateway::start("[providers.sb]\nkind = \"stubbur\"\nsandbox = true\n").await;
    let items = json!([{"provider": "sb", "target": {"event": "1001", "all_for_event": true}, "reason": "event cancelled"}]);
    let created = gw.post("/v1/refund-batches", json!({"items": items})).await;
    assert_eq!(created.status, 202, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_string();
    let report = until_settled(
        &CheckedClient::of(&gw.url("")).await,
        &id,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(report["counts"]["partially_succeeded"], 1, "{report}");
    let page = gw.get(&format!("/v1/refund-batches/{id}/items")).await;
    let refund = gw
        .get(&format!(
            "/v1/refunds/{}",
            page.body["data"][0]["refund_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(refund.body["counts"]["failed"], 1, "{}", refund.text);
    assert!(refund.body["lines"].as_array().unwrap().len() >= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_stop_finishes_items_in_flight_and_leaves_the_rest_queued() {
    // Runs on its own threads: waiting for the gateway to stop must not stall the sandbox.
    let vendor = VendorSandbox::start("fourvenues", "").await;
    let database = crate::support::temp_database();
    let config = write_config(
        "graceful",
        &with_storage(
            &format!(
                "[server]\nlisten = \"127.0.0.1:0\"\n\n{}",
                instance("fv", &vendor, 10)
            ),
            &database,
        ),
    );
    let first = GatewayProcess::spawn(&config);
    let items: Vec<Value> = (0..40).map(|i| item("fv", &format!("bulk-{i}"))).collect();
    let id = submit_batch(&first.client().await, "graceful-batch", &items).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    first.terminate();
    let at_stop = refunds_per_ticket(&[&vendor]).len();
    assert!(at_stop > 0 && at_stop < 40, "{at_stop}");
    // Straight from the database: no item is left claimed, no refund left in flight.
    {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut db = sqlx::AnyConnection::connect(&database).await.unwrap();
        let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql);
        let claimed = count("SELECT COUNT(*) FROM batch_items WHERE state = 'claimed'")
            .fetch_one(&mut db)
            .await
            .unwrap();
        let in_flight = count("SELECT COUNT(*) FROM refunds WHERE in_flight_until IS NOT NULL")
            .fetch_one(&mut db)
            .await
            .unwrap();
        assert_eq!(
            (claimed, in_flight),
            (0, 0),
            "a graceful stop finishes what it started"
        );
    }

    let process = GatewayProcess::spawn(&config);
    let second = process.client().await;
    let unknown = get_json(&second, "/v1/refunds?status=unknown").await;
    assert_eq!(
        unknown["data"].as_array().map(Vec::len),
        Some(0),
        "a graceful stop leaves nothing unknown: {unknown}"
    );
    let report = until_settled(&second, &id, Duration::from_secs(20)).await;
    let failed = get_json(&second, "/v1/refunds?status=failed").await;
    assert_eq!(report["counts"]["succeeded"], 40, "{report} {failed}");
    let vendor_side = refunds_per_ticket(&[&vendor]);
    assert_eq!(vendor_side.len(), 40);
    assert!(vendor_side.values().all(|n| *n == 1));
}
