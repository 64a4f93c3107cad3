//! `GET /v1/events` over real HTTP on both ledger backends: each status change is one event
//! carrying the canonical refund as it then stood, a crash's interrupted intents get an
//! event each, batch milestones are told, the feed pages by cursor and filters, bad
//! parameters are problems naming the parameter, and a client sees only its own events.

use std::time::{Duration, Instant};

use refund_gateway::storage::refunds::{Intent, Settle, Settlement};
use refund_provider::{RefundStatus, Target};
use serde_json::{json, Value};

use crate::support::{
    assert_problem, ledger_databases, secret_file, unique, with_storage, TestGateway,
};

const ACME: &str = "acme-events-key-0123456789";
const BETA: &str = "beta-events-key-0123456789";

fn config(database: &str) -> String {
    with_storage(
        &format!(
            r#"
[[clients]]
name = "acme"
key = {{ file = "{acme}" }}

[[clients]]
name = "beta"
key = {{ file = "{beta}" }}

[events]
batch_progress_items = 1

[providers.tm]
kind = "ticketmatic"
sandbox = true
account = "demo"

[providers.sb]
kind = "stubbur"
sandbox = true
"#,
            acme = secret_file(ACME),
            beta = secret_file(BETA),
        ),
        database,
    )
}

async fn get(gw: &TestGateway, key: &str, path: &str) -> crate::support::ApiResponse {
    gw.get_with(path, &[("authorization", &format!("Bearer {key}"))])
        .await
}

fn types(listing: &Value) -> Vec<String> {
    listing["data"]
        .as_array()
        .expect("a listing")
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

async fn create(gw: &TestGateway, key: &str) -> Value {
    let created = gw
        .post_with(
            "/v1/refunds",
            json!({"provider": "tm", "target": {"order": "1269434"}, "amount": {"value": "1.00", "currency": "EUR"}}),
            &[
                ("authorization", &format!("Bearer {key}")),
                ("idempotency-key", &unique("events")),
            ],
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    created.body
}

#[tokio::test]
async fn every_status_change_is_one_event_with_the_refund_as_it_stood() {
    for database in ledger_databases().await {
        let gw = TestGateway::start(&config(&database)).await;
        let refund = create(&gw, ACME).await;
        let id = refund["id"].as_str().unwrap();
        let feed = get(&gw, ACME, &format!("/v1/events?refund={id}")).await;
        assert_eq!(feed.status, 200, "{}", feed.text);
        assert_eq!(
            types(&feed.body),
            ["refund.created", "refund.succeeded"],
            "{database}: {}",
            feed.text
        );
        let events = feed.body["data"].as_array().unwrap();
        assert_eq!(events[0]["data"]["status"], "pending");
        assert_eq!(events[0]["client"], "acme");
        assert_eq!(events[1]["data"]["status"], "succeeded");
        assert_eq!(events[1]["data"]["id"], refund["id"]);
        assert_eq!(events[1]["data"]["amount"], refund["amount"]);
        assert_eq!(events[1]["refund_id"], refund["id"]);
        assert!(events[0]["id"].as_str().unwrap() < events[1]["id"].as_str().unwrap());

        // A settle that changes nothing writes nothing; a refused one (final) neither.
        let storage = gw.storage();
        let again = storage
            .settle(
                Settle::Refund(id),
                &Settlement::because(RefundStatus::Failed, "x", "late"),
            )
            .await
            .unwrap();
        assert_eq!(again, 0, "a final refund does not change");
        let feed = get(&gw, ACME, &format!("/v1/events?refund={id}")).await;
        assert_eq!(feed.body["data"].as_array().unwrap().len(), 2);

        // Intents a crash left without an outcome: each becomes unknown with its own event.
        let mut stranded = Vec::new();
        for _ in 0..2 {
            let intent_id = refund_gateway::service::new_refund_id();
            storage
                .insert_intent(&Intent {
                    id: intent_id.clone(),
                    client: "acme".into(),
                    provider: "tm".into(),
                    provider_kind: "ticketmatic".into(),
                    target: Target {
                        order: Some("1269434".into()),
                        ..Default::default()
                    },
                    amount: None,
                    reason: None,
                    metadata: Default::default(),
                    idempotency_key: None,
                    request_hash: None,
                    batch_id: None,
                    in_flight_until: 1,
                    owner: None,
                })
                .await
                .unwrap();
            stranded.push(intent_id);
        }
        let changed = storage
            .settle(
                Settle::Interrupted,
                &refund_gateway::service::create::interrupted(),
            )
            .await
            .unwrap();
        assert_eq!(changed, 2);
        for intent_id in &stranded {
            let feed = get(&gw, ACME, &format!("/v1/events?refund={intent_id}")).await;
            assert_eq!(
                types(&feed.body),
                ["refund.created", "refund.unknown"],
                "{}",
                feed.text
            );
            assert_eq!(feed.body["data"][1]["data"]["status"], "unknown");
        }

        // An operator's resolve is a status change too, with the note in the refund.
        let resolved = gw
            .post_with(
                &format!("/v1/refunds/{}/resolve", stranded[0]),
                json!({"status": "failed", "note": "not in the vendor's back office"}),
                &[("authorization", &format!("Bearer {ACME}"))],
            )
            .await;
        assert_eq!(resolved.status, 200, "{}", resolved.text);
        let feed = get(
            &gw,
            ACME,
            &format!("/v1/events?refund={}&type=refund.failed", stranded[0]),
        )
        .await;
        assert_eq!(types(&feed.body), ["refund.failed"], "{}", feed.text);
        assert_eq!(
            feed.body["data"][0]["data"]["status_reason"]["code"],
            "resolved"
        );
        assert!(
            feed.body["data"][0]["data"]["notes"]
                .to_string()
                .contains("not in the vendor's back office"),
            "{}",
            feed.text
        );

        // The type filter, and a cursor walking the whole feed one event at a time.
        let unknowns = get(
            &gw,
            ACME,
            "/v1/events?type=refund.unknown&type=refund.succeeded",
        )
        .await;
        assert_eq!(
            types(&unknowns.body),
            ["refund.succeeded", "refund.unknown", "refund.unknown"],
            "{}",
            unknowns.text
        );
        let mut walked = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = get(&gw, ACME, &format!("/v1/events?limit=1{cursor}")).await;
            assert_eq!(page.status, 200, "{}", page.text);
            let data = page.body["data"].as_array().unwrap();
            if data.is_empty() {
                assert_eq!(page.body["has_more"], false);
                break;
            }
            let last = data[0]["id"].as_str().unwrap().to_string();
            walked.push(last.clone());
            cursor = format!("&starting_after={last}");
        }
        assert_eq!(
            walked.len(),
            7,
            "created+succeeded, created+unknown twice, one resolve"
        );
        let mut sorted = walked.clone();
        sorted.sort();
        assert_eq!(walked, sorted, "oldest first");
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn bad_event_parameters_are_problems_naming_the_parameter() {
    let gw = TestGateway::start(&config(&crate::support::temp_database())).await;
    for (query, parameter) in [
        ("type=refund.exploded", "type"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("starting_after=rfg_123", "starting_after"),
        ("colour=red", "colour"),
        ("refund=a&refund=b", "refund"),
    ] {
        let r = get(&gw, ACME, &format!("/v1/events?{query}")).await;
        assert_problem(&r, 400, "validation_failed");
        assert_eq!(r.body["parameter"], parameter, "{query}: {}", r.text);
    }
    for (query, parameter) in [("state=lost", "state"), ("event=x", "event")] {
        let r = get(&gw, ACME, &format!("/v1/webhook-deliveries?{query}")).await;
        assert_problem(&r, 400, "validation_failed");
        assert_eq!(r.body["parameter"], parameter, "{query}: {}", r.text);
    }
    let r = gw.get("/v1/events").await;
    assert_eq!(r.status, 401, "{}", r.text);
}

#[tokio::test]
async fn a_client_sees_only_its_own_events() {
    let gw = TestGateway::start(&config(&crate::support::temp_database())).await;
    let ours = create(&gw, ACME).await;
    let theirs = create(&gw, BETA).await;
    let id = ours["id"].as_str().unwrap();
    let for_acme = get(&gw, ACME, "/v1/events").await;
    let for_beta = get(&gw, BETA, "/v1/events").await;
    let refunds = |r: &crate::support::ApiResponse| -> Vec<String> {
        r.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["refund_id"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(
        refunds(&for_acme).iter().all(|r| r == id),
        "{}",
        for_acme.text
    );
    assert_eq!(refunds(&for_acme).len(), 2);
    assert!(
        refunds(&for_beta)
            .iter()
            .all(|r| r == theirs["id"].as_str().unwrap()),
        "{}",
        for_beta.text
    );
    assert_eq!(
        refunds(&for_beta).len(),
        2,
        "beta sees its own refund's events: {}",
        for_beta.text
    );
    let peek = get(&gw, BETA, &format!("/v1/events?refund={id}")).await;
    assert_eq!(peek.status, 200);
    assert_eq!(
        peek.body["data"],
        json!([]),
        "beta filtering on acme's refund sees nothing"
    );
    let deliveries = get(&gw, BETA, "/v1/webhook-deliveries").await;
    assert_eq!(deliveries.status, 200, "{}", deliveries.text);
    assert_problem(
        &get(
            &gw,
            BETA,
            "/v1/webhook-deliveries/whd_01j00000000000000000000000/redeliver",
        )
        .await,
        405,
        "method_not_allowed",
    );
}

#[tokio::test]
async fn batch_milestones_are_events() {
    for database in ledger_databases().await {
        let gw = TestGateway::start(&config(&database)).await;
        let items: Vec<Value> = ["0201", "0202", "0203"]
            .iter()
            .map(|t| json!({"provider": "sb", "target": {"tickets": [format!("tk-1001-{t}")]}}))
            .collect();
        let created = gw
            .post_with(
                "/v1/refund-batches",
                json!({"items": items}),
                &[
                    ("authorization", &format!("Bearer {ACME}")),
                    ("idempotency-key", &unique("batch-events")),
                ],
            )
            .await;
        assert_eq!(created.status, 202, "{}", created.text);
        let batch = created.body["id"].as_str().unwrap().to_string();
        let started = Instant::now();
        let feed = loop {
            let feed = get(&gw, ACME, &format!("/v1/events?batch={batch}&type=batch.accepted&type=batch.progress&type=batch.completed")).await;
            if types(&feed.body).last().map(String::as_str) == Some("batch.completed") {
                break feed;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "{}", feed.text);
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let told = types(&feed.body);
        assert_eq!(
            told.first().map(String::as_str),
            Some("batch.accepted"),
            "{database}: {told:?}"
        );
        assert_eq!(
            told.iter().filter(|t| *t == "batch.completed").count(),
            1,
            "{told:?}"
        );
        let progress = told.iter().filter(|t| *t == "batch.progress").count();
        // Progress is told for items done before the last one; under load all three can
        // finish before any of them tells, so none is also right, but never more than two.
        assert!(
            progress <= 2,
            "progress every item but the last, told at most once each: {told:?}"
        );
        let last = &feed.body["data"].as_array().unwrap().last().unwrap()["data"];
        assert_eq!(last["status"], "done", "{last}");
        assert_eq!(last["items"]["done"], 3, "{last}");
        // The batch's refunds' events carry the batch too.
        let all = get(
            &gw,
            ACME,
            &format!("/v1/events?batch={batch}&type=refund.created"),
        )
        .await;
        assert_eq!(
            all.body["data"].as_array().unwrap().len(),
            3,
            "{}",
            all.text
        );
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn expired_events_are_purged_unless_still_being_delivered() {
    for database in ledger_databases().await {
        // An endpoint nobody answers: its deliveries stay pending (retried for an hour).
        let text = config(&database).replace(
            "[events]\n",
            &format!(
                "[[webhooks]]\nname = \"nowhere\"\nurl = \"http://127.0.0.1:9/hook\"\nevents = [\"refund.succeeded\"]\nsecret = {{ file = \"{}\" }}\n\n[events]\nwebhook_retry_for = \"1h\"\n",
                secret_file("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            ),
        );
        let gw = TestGateway::start(&text).await;
        let refund = create(&gw, ACME).await;
        let id = refund["id"].as_str().unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let gone = gw.storage().purge_events(0).await.unwrap();
        assert_eq!(
            gone, 1,
            "{database}: refund.created went, refund.succeeded is still owed"
        );
        let feed = get(&gw, ACME, &format!("/v1/events?refund={id}")).await;
        assert_eq!(types(&feed.body), ["refund.succeeded"], "{}", feed.text);
        let kept = gw.storage().purge_events(3_600_000).await.unwrap();
        assert_eq!(kept, 0, "nothing is older than an hour");
        gw.shutdown().await;
    }
}
