//! A batch says `done` only when nothing can still happen to any item: an item whose
//! outcome is unknown keeps it `open` until a lookup settles it (and a retry, if it was not
//! applied, finishes); one only an operator can settle makes it `done_with_open_items`.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{secret_file, ReplayVendor, TestGateway};

const TICKET: &str = "5f8d0f8b9d2b3b0017b6d8a0";

/// Every report of the batch until `until` holds, in order of observation.
async fn reports_until(gw: &TestGateway, id: &str, until: impl Fn(&Value) -> bool) -> Vec<Value> {
    let started = Instant::now();
    let mut seen = Vec::new();
    loop {
        let report = gw.get(&format!("/v1/refund-batches/{id}")).await.body;
        seen.push(report.clone());
        if until(&report) {
            return seen;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{seen:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_unknown_outcome_keeps_the_batch_open_until_it_is_settled() {
    let vendor = ReplayVendor::vendor(
        "fourvenues",
        &[
            // The first try: the vendor answers an HTML 502, so the outcome is unknown...
            "get-ticket-unrefunded",
            "error-502-html-refund",
            // ...the reconciler finds no such refund: not applied, so it is tried again...
            "get-ticket-unrefunded",
            // ...and the second try succeeds.
            "get-ticket-unrefunded",
            "refund-partial",
        ],
    )
    .await;
    let gw = TestGateway::start(&format!(
        "[reconcile]\ninterval = \"200ms\"\n\
         [providers.fv]\nkind = \"fourvenues\"\nbase_url = \"{}\"\napi_key = {{ file = \"{}\" }}\nsettle_window = \"0s\"\n",
        vendor.base_url(),
        secret_file("fv-batch-status-key")
    ))
    .await;
    let created = gw
        .post(
            "/v1/refund-batches",
            json!({"items": [{"provider": "fv", "target": {"tickets": [TICKET]}, "amount": {"value": "10", "currency": "EUR"}}]}),
        )
        .await;
    assert_eq!(created.status, 202, "{}", created.text);
    let id = created.body["id"].as_str().unwrap();
    let seen = reports_until(&gw, id, |r| {
        r["counts"]["succeeded"] == 1 && r["status"] == "done"
    })
    .await;
    for report in &seen {
        let done = report["status"] == "done";
        assert!(
            !done || report["counts"]["succeeded"] == 1,
            "`done` before the refund was settled: {report}"
        );
    }
    assert!(
        seen.iter()
            .any(|r| r["counts"]["unknown"] == 1 && r["status"] == "open"),
        "the unknown outcome was seen, with the batch open: {seen:#?}"
    );
    vendor.assert_clean();
}

#[tokio::test]
async fn an_outcome_only_an_operator_can_settle_is_reported_as_such() {
    let vendor = ReplayVendor::vendor("stubbur", &["garbage-html-502"]).await;
    let gw = TestGateway::start(&format!(
        "[providers.sb]\nkind = \"stubbur\"\nbase_url = \"{}\"\nauth = {{ mode = \"bearer\", token = {{ file = \"{}\" }} }}\n",
        vendor.base_url(),
        secret_file("stubbur-batch-status-token")
    ))
    .await;
    let created = gw
        .post(
            "/v1/refund-batches",
            json!({"items": [{"provider": "sb", "target": {"tickets": ["tk-1001-0201"]}}]}),
        )
        .await;
    assert_eq!(created.status, 202, "{}", created.text);
    let id = created.body["id"].as_str().unwrap();
    let seen = reports_until(&gw, id, |r| r["status"] != "open").await;
    let last = seen.last().unwrap();
    assert_eq!(last["status"], "done_with_open_items", "{last}");
    assert_eq!(last["counts"]["needs_operator"], 1, "{last}");
    let items = gw.get(&format!("/v1/refund-batches/{id}/items")).await;
    assert_eq!(
        items.body["data"][0]["status"], "needs_operator",
        "{}",
        items.text
    );
    vendor.assert_clean();
}

#[tokio::test]
async fn one_poisoned_item_fails_alone_and_the_queue_moves_on() {
    use refund_gateway::storage::batches::NewItem;
    for database in crate::support::ledger_databases().await {
        let gw = TestGateway::start(&crate::support::with_storage(
            "[providers.fv]\nkind = \"fourvenues\"\nsandbox = true\n",
            &database,
        ))
        .await;
        // An item the API would refuse (a NUL in its reason), put straight into the queue:
        // PostgreSQL cannot store its refund row.
        let poisoned = json!({"provider": "fv", "target": {"tickets": [TICKET]}, "amount": {"value": "1", "currency": "EUR"}, "reason": "bad\u{0}reason"});
        gw.storage()
            .insert_batch(
                "rb_poisoned",
                "default",
                None,
                &[NewItem {
                    provider: "fv".into(),
                    body: poisoned.to_string(),
                }],
            )
            .await
            .unwrap();
        let good = gw
            .post(
                "/v1/refund-batches",
                json!({"items": [{"provider": "fv", "target": {"tickets": ["5f8d0f8b9d2b3b0017b6d8b1"]}, "amount": {"value": "1", "currency": "EUR"}}]}),
            )
            .await;
        assert_eq!(good.status, 202, "{}", good.text);
        let good_id = good.body["id"].as_str().unwrap();
        let done = reports_until(&gw, good_id, |r| r["status"] != "open").await;
        assert_eq!(
            done.last().unwrap()["counts"]["succeeded"],
            1,
            "{database}: {done:#?}"
        );
        let poisoned = reports_until(&gw, "rb_poisoned", |r| r["status"] != "open").await;
        let last = poisoned.last().unwrap();
        let items = gw.get("/v1/refund-batches/rb_poisoned/items").await;
        if database.starts_with("postgres") {
            assert_eq!(last["counts"]["failed"], 1, "{last}");
            let failure = items.body["data"][0]["failure"]
                .as_str()
                .unwrap_or_default();
            assert!(failure.contains("cannot store"), "{}", items.text);
        } else {
            // Not the same behaviour, and rightly: SQLite stores a NUL in text, so there the
            // item is no poison at all and is refunded like any other.
            assert_eq!(last["counts"]["succeeded"], 1, "{database}: {last}");
            assert_eq!(
                items.body["data"][0]["status"], "succeeded",
                "{database}: {}",
                items.text
            );
        }
    }
}
