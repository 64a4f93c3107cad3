//! The durable ledger, on SQLite and (when a server is given) PostgreSQL: idempotent
//! creates, unknown outcomes settled by lookup with no second create, operator resolution,
//! reads and listing from the ledger, and a lost database.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::support::{
    assert_unknown_outcome, ledger_databases, secret_file, with_storage, ReplayVendor, TestGateway,
};

const TICKET: &str = "5f8d0f8b9d2b3b0017b6d8a0";

fn fourvenues(vendor: &ReplayVendor, extra: &str) -> String {
    format!(
        "[providers.fv]\nkind = \"fourvenues\"\nbase_url = \"{}\"\napi_key = {{ file = \"{}\" }}\n{extra}\n",
        vendor.base_url(),
        secret_file("fv-key")
    )
}

fn refund_body(amount: &str) -> Value {
    json!({"provider": "fv", "target": {"tickets": [TICKET]}, "amount": {"value": amount, "currency": "EUR"}, "reason": "event cancelled"})
}

fn vendor_refunds(vendor: &ReplayVendor) -> usize {
    vendor
        .received()
        .iter()
        .filter(|r| r.method == "PUT")
        .count()
}

#[tokio::test]
async fn one_key_one_refund_even_under_concurrency_and_restarts() {
    for database in ledger_databases().await {
        let vendor = ReplayVendor::start(&[
            "fixtures/fourvenues/get-ticket-unrefunded.json",
            "fixtures/fourvenues/refund-partial.json",
        ])
        .await;
        let config = with_storage(&fourvenues(&vendor, ""), &database);
        let gw = Arc::new(TestGateway::start(&config).await);
        let key = [("idempotency-key", "cancel-ticket-a-1")];
        let answers: Vec<_> = (0..50)
            .map(|_| {
                let gw = gw.clone();
                tokio::spawn(
                    async move { gw.post_with("/v1/refunds", refund_body("10"), &key).await },
                )
            })
            .collect();
        let mut created = None;
        let mut in_flight = 0;
        for a in answers {
            let r = a.await.unwrap();
            match r.status {
                201 => match &created {
                    None => created = Some(r.body.clone()),
                    Some(first) => assert_eq!(&r.body, first, "every 201 is the same refund"),
                },
                409 => {
                    assert_eq!(r.code(), "idempotency_key_in_flight", "{}", r.text);
                    assert!(r.header("retry-after").is_some());
                    in_flight += 1;
                }
                other => panic!("{database}: unexpected {other}: {}", r.text),
            }
        }
        let created = created.expect("one create succeeded");
        assert_eq!(
            vendor_refunds(&vendor),
            1,
            "{database}: 50 concurrent creates, one vendor refund ({in_flight} were in flight)"
        );
        vendor.assert_clean();

        let replay = gw.post_with("/v1/refunds", refund_body("10"), &key).await;
        assert_eq!(
            (replay.status, replay.header("idempotent-replayed")),
            (201, Some("true"))
        );
        assert_eq!(replay.body, created);
        let other = gw.post_with("/v1/refunds", refund_body("11"), &key).await;
        assert_eq!(
            (other.status, other.code()),
            (422, "idempotency_key_reused"),
            "{}",
            other.text
        );

        // A restart on the same database still replays the stored answer.
        Arc::into_inner(gw)
            .expect("no other handle")
            .shutdown()
            .await;
        let gw = TestGateway::start(&config).await;
        let again = gw.post_with("/v1/refunds", refund_body("10"), &key).await;
        assert_eq!(
            (again.status, again.header("idempotent-replayed")),
            (201, Some("true")),
            "{}",
            again.text
        );
        assert_eq!(again.body, created);
        assert_eq!(vendor_refunds(&vendor), 1);
    }
}

#[tokio::test]
async fn idempotency_keys_are_required_and_checked() {
    let vendor = ReplayVendor::start(&[]).await;
    let gw = TestGateway::start(&fourvenues(&vendor, "")).await;
    let r = gw.post_with("/v1/refunds", refund_body("10"), &[]).await;
    assert_eq!(
        (r.status, r.code()),
        (400, "idempotency_key_missing"),
        "{}",
        r.text
    );
    let long = "k".repeat(300);
    for bad in ["has space", long.as_str()] {
        let r = gw
            .post_with(
                "/v1/refunds",
                refund_body("10"),
                &[("idempotency-key", bad)],
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (400, "idempotency_key_invalid"),
            "{}",
            r.text
        );
    }
    assert!(vendor.received().is_empty());
}

#[tokio::test]
async fn unknown_outcomes_are_settled_by_lookup_never_by_resending() {
    for database in ledger_databases().await {
        let vendor = ReplayVendor::start(&[
            // A refund whose answer is lost (reset) although the vendor applied it...
            "fixtures/fourvenues/get-ticket-unrefunded.json",
            "fixtures/fourvenues/reset-refund.json",
            "fixtures/fourvenues/get-ticket-refunded-just-now.json",
            // ...and one that timed out before the vendor applied it.
            "fixtures/fourvenues/get-ticket-unrefunded.json",
            "fixtures/fourvenues/refund-timeout.json",
            "fixtures/fourvenues/get-ticket-unrefunded.json",
        ])
        .await;
        let config = with_storage(
            &fourvenues(&vendor, "timeout = \"500ms\"\nsettle_window = \"0s\""),
            &database,
        );
        let gw = TestGateway::start(&config).await;

        let applied = gw.post("/v1/refunds", refund_body("10")).await;
        assert_unknown_outcome(&applied, "provider_unavailable", None);
        let applied_id = applied.body["id"].as_str().unwrap().to_string();
        let settled = gw
            .post(&format!("/v1/refunds/{applied_id}/reconcile"), json!({}))
            .await;
        assert_eq!(settled.status, 200, "{}", settled.text);
        assert_eq!(settled.body["status"], "succeeded", "{}", settled.text);
        assert_eq!(settled.body["status_reason"]["code"], "reconciled");
        assert_eq!(
            settled.body["vendor_reference"],
            format!("ticket/{TICKET}/refund/0")
        );
        // The caller's fields stand; the vendor's time goes beside them.
        assert_eq!(settled.body["reason"], "event cancelled");
        assert_eq!(
            settled.body["created_at"], applied.body["created_at"],
            "{}",
            settled.text
        );
        assert!(
            settled.body["vendor_created_at"].is_string(),
            "{}",
            settled.text
        );

        let lost = gw.post("/v1/refunds", refund_body("10")).await;
        assert_unknown_outcome(&lost, "provider_timeout", None);
        let lost_id = lost.body["id"].as_str().unwrap().to_string();
        let settled = gw
            .post(&format!("/v1/refunds/{lost_id}/reconcile"), json!({}))
            .await;
        assert_eq!(settled.body["status"], "failed", "{}", settled.text);
        assert_eq!(settled.body["status_reason"]["code"], "not_applied");

        // Final statuses never change again, and each create reached the vendor once.
        let again = gw
            .post(&format!("/v1/refunds/{lost_id}/reconcile"), json!({}))
            .await;
        assert_eq!(
            (again.status, again.code()),
            (409, "refund_final"),
            "{}",
            again.text
        );
        assert_eq!(vendor_refunds(&vendor), 2, "{database}");
        vendor.assert_clean();
        assert_eq!(
            gw.get(&format!("/v1/refunds/{applied_id}")).await.body["status"],
            "succeeded"
        );
    }
}

#[tokio::test]
async fn an_unreadable_vendor_waits_for_an_operator() {
    let vendor = ReplayVendor::start(&["fixtures/stubbur/garbage-reset.json"]).await;
    let config = format!(
        "[providers.sb]\nkind = \"stubbur\"\nbase_url = \"{}\"\nauth = {{ mode = \"bearer\", token = {{ file = \"{}\" }} }}\n",
        vendor.base_url(),
        secret_file("sb-token")
    );
    let gw = TestGateway::start(&config).await;
    let r = gw
        .post(
            "/v1/refunds",
            json!({"provider": "sb", "target": {"tickets": ["tk-1001-0201"]}}),
        )
        .await;
    assert_unknown_outcome(&r, "provider_unavailable", None);
    let id = r.body["id"].as_str().unwrap().to_string();
    let still = gw
        .post(&format!("/v1/refunds/{id}/reconcile"), json!({}))
        .await;
    assert_eq!(still.body["status"], "unknown", "{}", still.text);
    assert!(
        still.body["status_reason"]["message"]
            .as_str()
            .unwrap()
            .contains("/resolve"),
        "{}",
        still.text
    );

    let bad = gw
        .post(
            &format!("/v1/refunds/{id}/resolve"),
            json!({"status": "pending", "note": "x"}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.body["pointer"].as_str()),
        (422, Some("/status")),
        "{}",
        bad.text
    );
    let resolved = gw
        .post(
            &format!("/v1/refunds/{id}/resolve"),
            json!({"status": "succeeded", "note": "Stubbur support confirmed ref BRG-1"}),
        )
        .await;
    assert_eq!(resolved.status, 200, "{}", resolved.text);
    assert_eq!(resolved.body["status"], "succeeded");
    assert_eq!(resolved.body["status_reason"]["code"], "resolved");
    assert!(resolved.body["notes"][0]
        .as_str()
        .unwrap()
        .contains("BRG-1"));
    let twice = gw
        .post(
            &format!("/v1/refunds/{id}/resolve"),
            json!({"status": "failed", "note": "no"}),
        )
        .await;
    assert_eq!((twice.status, twice.code()), (409, "refund_final"));
    assert_eq!(vendor.received().len(), 1, "nothing was sent again");
}

#[tokio::test]
async fn the_ledger_lists_newest_first_with_cursors_and_filters() {
    for database in ledger_databases().await {
        let config = with_storage(
            "[providers.tm]\nkind = \"ticketmatic\"\nsandbox = true\naccount = \"demo\"\n",
            &database,
        );
        let gw = TestGateway::start(&config).await;
        let mut ids = Vec::new();
        for _ in 0..3 {
            let r = gw
                .post("/v1/refunds", json!({"provider": "tm", "target": {"order": "1269434"}, "amount": {"value": "1.00", "currency": "EUR"}}))
                .await;
            assert_eq!(r.status, 201, "{}", r.text);
            ids.push(r.body["id"].as_str().unwrap().to_string());
        }
        let over = gw
            .post("/v1/refunds", json!({"provider": "tm", "target": {"order": "1269434"}, "amount": {"value": "500.00", "currency": "EUR"}}))
            .await;
        assert_eq!(over.status, 422);
        let page = gw.get("/v1/refunds?limit=2&status=succeeded").await;
        assert_eq!(page.status, 200, "{}", page.text);
        let first: Vec<&str> = page.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(first, vec![ids[2].as_str(), ids[1].as_str()], "{database}");
        assert_eq!(page.body["has_more"], true);
        let rest = gw
            .get(&format!(
                "/v1/refunds?limit=2&status=succeeded&starting_after={}",
                ids[1]
            ))
            .await;
        let rest_ids: Vec<&str> = rest.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            (rest_ids, rest.body["has_more"].as_bool()),
            (vec![ids[0].as_str()], Some(false))
        );
        let failed = gw.get("/v1/refunds?status=failed&provider=tm").await;
        assert_eq!(
            failed.body["data"].as_array().map(Vec::len),
            Some(1),
            "{}",
            failed.text
        );
        assert_eq!(
            failed.body["data"][0]["status_reason"]["code"],
            "amount_exceeds_refundable"
        );
        let none = gw.get("/v1/refunds?created_gte=2999-01-01T00:00:00Z").await;
        assert_eq!(none.body["data"].as_array().map(Vec::len), Some(0));
    }
}

#[tokio::test]
async fn a_lost_database_refuses_creates_but_not_lookups() {
    let vendor = ReplayVendor::start(&["fixtures/fourvenues/get-ticket-refunded.json"]).await;
    let gw = TestGateway::start(&fourvenues(&vendor, "")).await;
    gw.storage().close().await;
    let r = gw.post("/v1/refunds", refund_body("10")).await;
    assert_eq!(
        (r.status, r.code()),
        (503, "storage_unavailable"),
        "{}",
        r.text
    );
    assert!(
        vendor.received().is_empty(),
        "never a vendor call without its intent row"
    );
    let listed = gw
        .get(&format!("/v1/refunds?provider=fv&ticket={TICKET}"))
        .await;
    assert_eq!(
        listed.status, 200,
        "lookups that need no ledger go on: {}",
        listed.text
    );
    vendor.assert_clean();
}

#[test]
fn an_unreachable_database_stops_start_up_with_a_clear_message() {
    let dir = std::env::temp_dir().join(format!("rg-nodb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("gateway.toml");
    std::fs::write(
        &config,
        "[server]\nlisten = \"127.0.0.1:0\"\n[storage]\nurl = \"postgres://refunds:hunter2@127.0.0.1:1/ledger\"\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_refund-gateway"))
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("cannot open the ledger at postgres://refunds:***@127.0.0.1:1/ledger"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[tokio::test]
async fn idempotency_keys_are_purged_after_their_retention() {
    use std::time::{Duration, Instant};
    // A retention long enough for the first two requests on a loaded machine (two
    // sandbox creates take milliseconds; 3 s leaves room for a machine slowed manyfold).
    let retention = Duration::from_secs(3);
    let config = "[idempotency]\nretention = \"3s\"\n[reconcile]\ninterval = \"50ms\"\n\
                  [providers.tm]\nkind = \"ticketmatic\"\nsandbox = true\naccount = \"demo\"\n";
    let gw = TestGateway::start(config).await;
    let key = [("idempotency-key", "short-lived")];
    let body = |v: &str| json!({"provider": "tm", "target": {"order": "1269434"}, "amount": {"value": v, "currency": "EUR"}});
    let first_at = Instant::now();
    assert_eq!(
        gw.post_with("/v1/refunds", body("1.00"), &key).await.status,
        201
    );
    let second = gw.post_with("/v1/refunds", body("2.00"), &key).await;
    assert_eq!(second.status, 422, "kept within the retention");
    // Past the retention, the purge (every 50 ms) drops the key: polled, since a loaded
    // machine may run the purge late. A 422 meanwhile changes nothing.
    let purged_at = first_at + retention + Duration::from_millis(200);
    tokio::time::sleep(purged_at.saturating_duration_since(Instant::now())).await;
    loop {
        let after = gw.post_with("/v1/refunds", body("2.00"), &key).await;
        if after.status == 201 {
            break;
        }
        assert_eq!(after.status, 422, "{}", after.text);
        assert!(
            first_at.elapsed() < retention + Duration::from_secs(10),
            "not purged after the retention: {}",
            after.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
