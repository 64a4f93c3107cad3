//! Listing batches and reading their progress over real HTTP, with two clients: the list
//! pages by cursor and filters by status, and neither client sees, exports or follows the
//! other's batches.

use std::time::Duration;

use serde_json::Value;

use crate::batch_uploads::{csv_rows, sandbox_config, upload};
use crate::support::{secret_file, unique, with_storage, TestGateway};

pub const ACME: &str = "acme-key-0123456789abcdef";
pub const BETA: &str = "beta-key-0123456789abcdef";

pub fn two_clients(rate: u32) -> String {
    format!(
        "[[clients]]\nname = \"acme\"\nkey = {{ file = \"{}\" }}\n\n[[clients]]\nname = \"beta\"\nkey = {{ file = \"{}\" }}\n\n{}",
        secret_file(ACME),
        secret_file(BETA),
        sandbox_config(rate)
    )
}

async fn get(gw: &TestGateway, path: &str, key: &str) -> (u16, Value) {
    let r = gw
        .send(gw.request(reqwest::Method::GET, path).bearer_auth(key))
        .await;
    (r.status, r.body)
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn batches_are_listed_by_cursor_and_status_per_client() {
    for database in crate::support::ledger_databases().await {
        listed_by_cursor_and_status(&database).await;
    }
}

async fn listed_by_cursor_and_status(database: &str) {
    let gw = TestGateway::start(&with_storage(&two_clients(2), database)).await;
    let mut acme = Vec::new();
    for n in 0..3 {
        let r = upload(
            &gw,
            "text/csv",
            csv_rows(&unique("list"), 3),
            &unique("l"),
            Some(ACME),
        )
        .await;
        assert_eq!(r.status, 202, "{}", r.text);
        acme.push(r.body["id"].as_str().unwrap().to_string());
        assert!(n < 3);
    }
    let beta = upload(
        &gw,
        "text/csv",
        csv_rows(&unique("beta"), 2),
        &unique("b"),
        Some(BETA),
    )
    .await;
    let beta_id = beta.body["id"].as_str().unwrap().to_string();
    let canceled = gw
        .send(
            gw.request(
                reqwest::Method::POST,
                &format!("/v1/refund-batches/{}/cancel", acme[0]),
            )
            .bearer_auth(ACME),
        )
        .await;
    assert_eq!(canceled.status, 200, "{}", canceled.text);

    let (status, first) = get(&gw, "/v1/refund-batches?limit=2", ACME).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        ids(&first),
        vec![acme[2].clone(), acme[1].clone()],
        "newest first: {first}"
    );
    assert_eq!(first["has_more"], true);
    let (_, second) = get(
        &gw,
        &format!("/v1/refund-batches?limit=2&starting_after={}", acme[1]),
        ACME,
    )
    .await;
    assert_eq!(ids(&second), vec![acme[0].clone()], "{second}");
    assert_eq!(second["has_more"], false);
    let (_, only) = get(&gw, "/v1/refund-batches?status=canceled", ACME).await;
    assert_eq!(ids(&only), vec![acme[0].clone()], "{only}");
    assert_eq!(only["data"][0]["item_count"], 3);
    let (status, bad) = get(&gw, "/v1/refund-batches?status=finished", ACME).await;
    assert_eq!(
        (status, bad["parameter"].as_str()),
        (400, Some("status")),
        "{bad}"
    );

    // Tenant scope: beta sees its own only, and none of acme's.
    let (_, theirs) = get(&gw, "/v1/refund-batches", BETA).await;
    assert_eq!(ids(&theirs), vec![beta_id], "{theirs}");
    for path in ["", "/items.csv", "/events"] {
        let (status, body) = get(&gw, &format!("/v1/refund-batches/{}{path}", acme[1]), BETA).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("not_found")),
            "{path}: {body}"
        );
    }
    let anonymous = gw.get("/v1/refund-batches").await;
    assert_eq!(anonymous.status, 401);
}

#[tokio::test]
async fn progress_events_stream_from_the_ledger_until_the_batch_is_done() {
    let gw = TestGateway::start(&sandbox_config(5)).await;
    let r = upload(
        &gw,
        "text/csv",
        csv_rows(&unique("sse"), 10),
        &unique("sse"),
        None,
    )
    .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let response = reqwest::get(gw.url(&format!("/v1/refund-batches/{id}/events")))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut response = response;
    let mut text = String::new();
    let mut events: Vec<Value> = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(chunk) = response.chunk().await.unwrap() {
            text.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = text.find("\n\n") {
                let block: String = text.drain(..end + 2).collect();
                if let Some(data) = block
                    .lines()
                    .find_map(|l| l.strip_prefix("data: ").or_else(|| l.strip_prefix("data:")))
                {
                    assert!(block.contains("event: progress"), "{block}");
                    events.push(serde_json::from_str(data).unwrap());
                }
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the stream ends once the batch is done: {events:?}"
    );
    let first = &events[0];
    assert_eq!(first["instances"][0]["provider"], "fv", "{first}");
    assert_eq!(first["instances"][0]["limit_per_second"], 5.0, "{first}");
    let last = events.last().unwrap();
    assert_eq!(
        (
            last["status"].as_str(),
            last["counts"]["succeeded"].as_u64()
        ),
        (Some("done"), Some(10)),
        "{last}"
    );
    assert_eq!(last["refunded"]["EUR"], "100.00", "{last}");
    let done: Vec<u64> = events
        .iter()
        .map(|e| e["counts"]["succeeded"].as_u64().unwrap_or(0))
        .collect();
    assert!(
        done.windows(2).all(|w| w[0] <= w[1]) && done.len() > 2,
        "counts rise event by event: {done:?}"
    );
}

#[tokio::test]
async fn an_upload_naming_an_instance_the_client_may_not_use_is_forbidden_whole() {
    let config = format!(
        "[[clients]]\nname = \"acme\"\nkey = {{ file = \"{}\" }}\nproviders = [\"other\"]\n\n[providers.other]\nkind = \"ticketmatic\"\nsandbox = true\naccount = \"demo\"\n\n{}",
        secret_file(ACME),
        sandbox_config(5)
    );
    let gw = TestGateway::start(&config).await;
    let r = upload(
        &gw,
        "text/csv",
        csv_rows(&unique("forbidden"), 3),
        &unique("f"),
        Some(ACME),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (403, "provider_forbidden"),
        "{}",
        r.text
    );
    assert_eq!(r.body["pointer"], "/items/0/provider", "{}", r.text);
    let (_, listed) = get(&gw, "/v1/refund-batches", ACME).await;
    assert_eq!(
        listed["data"],
        serde_json::json!([]),
        "nothing stored: {listed}"
    );
}
