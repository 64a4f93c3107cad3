//! Webhooks to a real receiver on loopback, which checks every signature with its own
//! implementation: events arrive signed and in order per refund, a receiver that was down
//! gets everything when back, retries end as `failed` and can be redelivered, a 410
//! disables the endpoint, a slow receiver delays neither refunds nor other receivers, and
//! `check-config` refuses URLs that are not http(s) or point at the gateway itself.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{secret_file, temp_database, unique, ApiResponse, TestGateway};
use crate::webhook_receiver::{assert_signed_and_in_order, Receiver, SECRET};

/// A gateway with the tm sandbox and one endpoint per `(name, url, extra)`.
async fn gateway(events: &str, hooks: &[(&str, String, &str)]) -> TestGateway {
    let secret = secret_file(SECRET);
    let mut text = format!(
        "[events]\nwebhook_poll = \"100ms\"\n{events}\n\n[providers.tm]\nkind = \"ticketmatic\"\nsandbox = true\naccount = \"demo\"\n"
    );
    for (name, url, extra) in hooks {
        text.push_str(&format!(
            "\n[[webhooks]]\nname = \"{name}\"\nurl = \"{url}\"\nsecret = {{ file = \"{secret}\" }}\n{extra}\n"
        ));
    }
    text.push_str(&format!("\n[storage]\nurl = \"{}\"\n", temp_database()));
    TestGateway::start(&text).await
}

async fn create(gw: &TestGateway) -> Value {
    let r = gw
        .post_with(
            "/v1/refunds",
            json!({"provider": "tm", "target": {"order": "1269434"}, "amount": {"value": "1.00", "currency": "EUR"}}),
            &[("idempotency-key", &unique("hook"))],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

async fn deliveries(gw: &TestGateway, query: &str) -> Vec<Value> {
    let r: ApiResponse = gw
        .get(&format!("/v1/webhook-deliveries?limit=100&{query}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["data"].as_array().unwrap().clone()
}

async fn until_deliveries(
    gw: &TestGateway,
    query: &str,
    count: usize,
    limit: Duration,
) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let found = deliveries(gw, query).await;
        if found.len() >= count {
            return found;
        }
        assert!(start.elapsed() < limit, "{query}: {found:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn events_arrive_signed_and_in_order_only_where_subscribed() {
    let all = Receiver::start().await;
    let picky = Receiver::start().await;
    let gw = gateway(
        "",
        &[
            ("all", all.url(), ""),
            ("picky", picky.url(), "events = [\"refund.succeeded\"]"),
            ("other-client", picky.url(), "client = \"someone-else\""),
        ],
    )
    .await;
    let first = create(&gw).await;
    let second = create(&gw).await;
    let got = all.until(Duration::from_secs(10), |r| r.len() >= 4).await;
    assert_signed_and_in_order(&got);
    for refund in [&first, &second] {
        let types: Vec<&str> = got
            .iter()
            .filter(|r| r.body["refund_id"] == refund["id"])
            .map(|r| r.body["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["refund.created", "refund.succeeded"]);
    }
    let succeeded = got
        .iter()
        .find(|r| r.body["type"] == "refund.succeeded")
        .unwrap();
    assert_eq!(succeeded.body["data"]["status"], "succeeded");
    let picked = picky.until(Duration::from_secs(10), |r| r.len() >= 2).await;
    assert_signed_and_in_order(&picked);
    assert!(
        picked.iter().all(|r| r.body["type"] == "refund.succeeded"),
        "{picked:?}"
    );
    let delivered = until_deliveries(&gw, "state=delivered", 6, Duration::from_secs(10)).await;
    assert!(delivered.iter().all(|d| d["endpoint"] != "other-client"));
    assert!(
        delivered.iter().all(|d| d["attempts"] == 1),
        "{delivered:#?}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        picky.received().len(),
        2,
        "another client's events go to no one else"
    );
    assert_eq!(
        all.received().len(),
        4,
        "each event once in the normal case"
    );
}

#[tokio::test]
async fn a_receiver_down_for_a_while_gets_everything_when_back() {
    let mut receiver = Receiver::start().await;
    let gw = gateway(
        "webhook_retry_first = \"200ms\"\nwebhook_retry_max = \"1s\"",
        &[("hook", receiver.url(), "")],
    )
    .await;
    receiver.go_down();
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(create(&gw).await["id"].clone());
    }
    // Down for a while (5 s; `WEBHOOK_OUTAGE_SECS=120` for the 2 minutes): every
    // first event is tried, again and again; none is given up.
    let outage = std::env::var("WEBHOOK_OUTAGE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    tokio::time::sleep(Duration::from_secs(outage)).await;
    let pending = deliveries(&gw, "state=pending").await;
    assert_eq!(pending.len(), 6, "{pending:#?}");
    assert!(
        pending.iter().any(|d| d["attempts"].as_i64().unwrap() >= 2
            && d["last_error"] == "the receiver could not be reached"),
        "{pending:#?}"
    );
    assert!(
        pending
            .iter()
            .filter(|d| d["event_type"] == "refund.succeeded")
            .all(|d| d["attempts"] == 0),
        "a refund's later event waits for its earlier one: {pending:#?}"
    );
    receiver.come_back().await;
    let got = receiver
        .until(Duration::from_secs(15), |r| r.len() >= 6)
        .await;
    assert_signed_and_in_order(&got);
    for id in &ids {
        assert_eq!(got.iter().filter(|r| r.body["refund_id"] == *id).count(), 2);
    }
}

#[tokio::test]
async fn retries_end_as_failed_and_an_operator_redelivers() {
    let receiver = Receiver::start().await;
    receiver.answer(500, Duration::ZERO);
    let gw = gateway(
        "webhook_retry_first = \"100ms\"\nwebhook_retry_max = \"200ms\"\nwebhook_retry_for = \"1s\"",
        &[("hook", receiver.url(), "events = [\"refund.created\"]")],
    )
    .await;
    let refund = create(&gw).await;
    let failed = until_deliveries(&gw, "state=failed", 1, Duration::from_secs(10)).await;
    assert_eq!(failed[0]["last_status"], 500, "{failed:#?}");
    assert!(failed[0]["attempts"].as_i64().unwrap() >= 2, "{failed:#?}");
    assert!(receiver.received().is_empty());
    receiver.answer(200, Duration::ZERO);
    let id = failed[0]["id"].as_str().unwrap();
    let again = gw
        .post(&format!("/v1/webhook-deliveries/{id}/redeliver"), json!({}))
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["state"], "pending");
    let got = receiver
        .until(Duration::from_secs(10), |r| !r.is_empty())
        .await;
    assert_eq!(got[0].body["refund_id"], refund["id"]);
    assert!(got[0].verified);
    let missing = gw
        .post(
            "/v1/webhook-deliveries/whd_01m8s8cp2s6de9qh509trsvat3/redeliver",
            json!({}),
        )
        .await;
    assert_eq!(missing.status, 404, "{}", missing.text);
}

#[tokio::test]
async fn a_410_disables_the_endpoint_until_redelivered() {
    let receiver = Receiver::start().await;
    receiver.answer(410, Duration::ZERO);
    let gw = gateway(
        "",
        &[("hook", receiver.url(), "events = [\"refund.created\"]")],
    )
    .await;
    create(&gw).await;
    let failed = until_deliveries(&gw, "state=failed", 1, Duration::from_secs(10)).await;
    assert_eq!(failed[0]["last_status"], 410);
    assert_eq!(failed[0]["attempts"], 1, "never retried");
    receiver.answer(200, Duration::ZERO);
    create(&gw).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        receiver.received().is_empty(),
        "nothing is sent to a disabled endpoint"
    );
    assert_eq!(deliveries(&gw, "state=pending").await.len(), 1);
    let id = failed[0]["id"].as_str().unwrap();
    let again = gw
        .post(&format!("/v1/webhook-deliveries/{id}/redeliver"), json!({}))
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
    let got = receiver
        .until(Duration::from_secs(10), |r| r.len() >= 2)
        .await;
    assert_signed_and_in_order(&got);
}

#[tokio::test]
async fn a_slow_receiver_delays_neither_refunds_nor_other_receivers() {
    // The slow receiver: counts each request as it arrives, answers 30 s later.
    let arrived = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = arrived.clone();
    let handler: refund_gateway::loopback::Handler = std::sync::Arc::new(move |_req| {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(async move {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Some(refund_provider::sandbox::json_response(200, &json!({})))
        })
    });
    let slow =
        refund_gateway::loopback::LoopbackServer::start("127.0.0.1:0".parse().unwrap(), handler)
            .await
            .unwrap();
    let fast = Receiver::start().await;
    // The slow receiver holds every request past the gateway's webhook_timeout (8 s), so
    // until then none of its attempts has ended. No wall-clock bound below: "does not wait"
    // is shown by order. The creates returned and the fast receiver got everything while
    // the slow one still held an unanswered request and no attempt of it was recorded;
    // a create (or the fast receiver) waiting on the slow receiver would come only after an
    // attempt of it ended, at its timeout.
    let gw = gateway(
        "webhook_timeout = \"8s\"\nwebhook_retry_first = \"10s\"",
        &[
            ("slow", format!("{}/hook", slow.base_url()), ""),
            ("fast", fast.url(), ""),
        ],
    )
    .await;
    for _ in 0..3 {
        create(&gw).await;
    }
    let got = fast.until(Duration::from_secs(10), |r| r.len() >= 6).await;
    assert_signed_and_in_order(&got);
    let start = Instant::now();
    while arrived.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "nothing sent to the slow receiver"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let all = deliveries(&gw, "").await;
    let slow_attempts: Vec<_> = all
        .iter()
        .filter(|d| d["endpoint"] == "slow" && d["attempts"] != 0)
        .collect();
    assert!(
        slow_attempts.is_empty(),
        "refunds and the fast receiver were done before any attempt at the slow one ended: {slow_attempts:#?}"
    );
    assert_eq!(
        all.iter().filter(|d| d["endpoint"] == "slow").count(),
        6,
        "{all:#?}"
    );
    // At its timeout, the slow receiver's attempt ends as a retry, kept pending.
    let start = Instant::now();
    loop {
        let pending = deliveries(&gw, "state=pending").await;
        if pending
            .iter()
            .any(|d| d["last_error"] == "the receiver did not answer in time")
        {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{pending:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn webhook_urls_that_are_not_http_or_the_gateway_itself_are_refused() {
    let secret = secret_file(SECRET);
    let check = |listen: &str, url: &str| {
        let text = format!(
            "[server]\nlisten = \"{listen}\"\n\n[[webhooks]]\nname = \"h\"\nurl = \"{url}\"\nsecret = {{ file = \"{secret}\" }}\n"
        );
        async move {
            let config = refund_gateway::config::Config::from_toml_str(&text).unwrap();
            refund_gateway::app::check(&config)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    };
    let refused = check("127.0.0.1:8080", "ftp://example.com/hook")
        .await
        .unwrap_err();
    assert!(
        refused.contains("webhooks[0].url") && refused.contains("not an http(s) URL"),
        "{refused}"
    );
    for own in ["http://127.0.0.1:8080/hook", "http://localhost:8080/x"] {
        let refused = check("127.0.0.1:8080", own).await.unwrap_err();
        assert!(refused.contains("own listen address"), "{own}: {refused}");
    }
    let refused = check("0.0.0.0:9000", "http://127.0.0.1:9000/hook")
        .await
        .unwrap_err();
    assert!(refused.contains("own listen address"), "{refused}");
    check("127.0.0.1:8080", "https://hooks.example.com/refunds")
        .await
        .unwrap();
    check("127.0.0.1:8080", "http://127.0.0.1:8081/hook")
        .await
        .unwrap();
    let bad_secret = secret_file("not-a-webhook-secret");
    let text = format!(
        "[[webhooks]]\nname = \"h\"\nurl = \"https://x.example/h\"\nsecret = {{ file = \"{bad_secret}\" }}\n"
    );
    let config = refund_gateway::config::Config::from_toml_str(&text).unwrap();
    let refused = refund_gateway::app::check(&config)
        .await
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("webhooks[0].secret") && refused.contains("whsec_"),
        "{refused}"
    );
    assert!(
        !refused.contains("not-a-webhook-secret"),
        "the secret is never repeated"
    );
}

#[test]
fn check_config_refuses_a_webhook_to_the_gateway_itself() {
    let path = crate::support::process::write_config(
        "webhook-self",
        &format!(
            "[server]\nlisten = \"127.0.0.1:8080\"\n\n[[webhooks]]\nname = \"self\"\nurl = \"http://localhost:8080/hook\"\nsecret = {{ file = \"{}\" }}\n",
            secret_file(SECRET)
        ),
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_refund-gateway"))
        .arg("check-config")
        .arg("--config")
        .arg(&path)
        .output()
        .expect("binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("webhooks[0].url") && stderr.contains("own listen address"),
        "{stderr}"
    );
}
