//! What else gateways share through Redis: lookup-cache invalidations (and bypassing the
//! cache while not subscribed), client limits, vendor pauses; and how Redis' reachability
//! shows in `/readyz`, `check-config`, and `on_unavailable = "refuse"`.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use refund_gateway::config::Config;
use refund_gateway::coordination::Coordination;
use refund_gateway::traffic::outbound_limit::OutboundLimit;
use serde_json::json;

use crate::support::process::{write_config, GatewayProcess, VendorSandbox};
use crate::support::redis_server::{self, RedisServer};
use crate::support::{assert_problem, secret_file, TestGateway};

fn fourvenues(vendor: &VendorSandbox, extra: &str) -> String {
    format!(
        "[providers.fv]\nkind = \"fourvenues\"\nbase_url = \"{}\"\napi_key = {{ file = \"{}\" }}\n\
         timeout = \"2s\"\n{extra}\n",
        vendor.base_url(),
        secret_file("fourvenues-sandbox-key")
    )
}

const LIST: &str = "/v1/refunds?provider=fv&ticket=bulk-seen-1";

async fn lookup(gw: &TestGateway) -> (usize, String) {
    crate::lookup(gw, LIST).await
}

#[tokio::test]
async fn a_create_on_one_gateway_is_seen_by_lookups_on_another() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let mut redis = RedisServer::start();
    let vendor = VendorSandbox::start("fourvenues", "").await;
    let coordination = redis_server::coordination(&redis.url(), 2, "");
    let config = format!("{coordination}\n{}", fourvenues(&vendor, ""));
    let (a, b) = (
        TestGateway::start(&config).await,
        TestGateway::start(&config).await,
    );
    // Both subscribed (the cache is used: a second lookup is a hit).
    for _ in 0..100 {
        if lookup(&b).await.1.ends_with("stored") && lookup(&b).await.1 == "refund-gateway; hit" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(lookup(&b).await, (0, "refund-gateway; hit".into()));

    let created = a
        .post(
            "/v1/refunds",
            json!({"provider": "fv", "target": {"tickets": ["bulk-seen-1"]}, "amount": {"value": "10", "currency": "EUR"}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let (count, status) = lookup(&b).await;
    assert_eq!(
        count, 1,
        "gateway B still serves the list from before A's create"
    );
    assert_eq!(status, "refund-gateway; fwd=miss; stored");
    assert_eq!(lookup(&b).await, (1, "refund-gateway; hit".into()));

    // A lost subscription drops the cache: once B has noticed (and subscribed again), its
    // next lookup asks the vendor. Until it notices, it may serve the entry (the loss is
    // not known yet); it never keeps serving it.
    redis_server::command(&redis.url(), &["CLIENT", "KILL", "TYPE", "pubsub"]);
    let mut seen = lookup(&b).await;
    let started = tokio::time::Instant::now();
    while seen.1 != "refund-gateway; fwd=miss; stored" {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "B still answers {seen:?} long after its subscription was lost"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        seen = lookup(&b).await;
    }
    assert_eq!(seen.0, 1);

    // Without Redis, nothing is cached: every lookup goes to the vendor.
    redis.stop();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = vendor.log().len();
    for _ in 0..3 {
        assert_eq!(
            lookup(&b).await,
            (1, "refund-gateway; fwd=request; stored".into())
        );
    }
    assert_eq!(
        vendor.log().len(),
        before + 3,
        "each lookup reached the vendor"
    );

    // Back: subscribed again, the cache is used again.
    redis.restart(&[]);
    let mut status = String::new();
    for _ in 0..100 {
        status = lookup(&b).await.1;
        if status == "refund-gateway; hit" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, "refund-gateway; hit");
}

#[tokio::test]
async fn client_limits_are_one_budget_across_gateways() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let coordination = redis_server::coordination(&redis_server::shared_url(), 2, "");
    let config = format!(
        "{coordination}\n[server.client_rate_limit]\nper_second = 0.2\nburst = 3\n\n[providers.sb]\nkind = \"stubbur\"\nsandbox = true\n"
    );
    let (a, b) = (
        TestGateway::start(&config).await,
        TestGateway::start(&config).await,
    );
    for gw in [&a, &b, &a] {
        let r = gw.get("/v1/providers").await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let over = b.get("/v1/providers").await;
    assert_problem(&over, 429, "rate_limited");
    assert!(over.header("retry-after").is_some());
    assert_problem(&a.get("/v1/providers").await, 429, "rate_limited");
}

#[tokio::test]
async fn a_vendor_pause_seen_by_one_gateway_holds_for_every_gateway() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let text = redis_server::coordination(&redis_server::shared_url(), 2, "");
    let config = Config::from_toml_str(&text).expect("config");
    let coordination =
        Arc::new(Coordination::connect(config.coordination.as_ref().unwrap()).unwrap());
    let limit = |max_wait: &str| {
        let c = Config::from_toml_str(&format!(
            "[providers.sb]\nkind = \"stubbur\"\nsandbox = true\nrate_limit = {{ per_second = 100, max_wait = \"{max_wait}\" }}\n"
        ))
        .unwrap();
        let limit = OutboundLimit::new(c.providers[0].common.rate_limit.clone());
        limit.share(coordination.clone(), "sb");
        limit
    };
    let (one, other) = (limit("300ms"), limit("300ms"));
    assert!(other.acquire().await.is_ok());
    one.observe(429, Some(Duration::from_secs(30)));
    // The pause reaches Redis from a task of its own: the other gateway is refused once
    // it is there (well before the 30 s pause ends).
    let started = tokio::time::Instant::now();
    while other.acquire().await.is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the other gateway calls a vendor that asked everyone to wait"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn readiness_and_check_config_report_redis() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let mut redis = RedisServer::start_with_password("s3cret-redis-pass");
    let url_file = secret_file(&format!(
        "redis://:s3cret-redis-pass@127.0.0.1:{}",
        redis.port
    ));
    let section = |mode: &str| {
        format!(
            "[coordination]\nredis = {{ url = {{ file = \"{url_file}\" }} }}\non_unavailable = \"{mode}\"\n\
             key_prefix = \"{}\"\n[providers.sb]\nkind = \"stubbur\"\nsandbox = true\n",
            crate::support::unique("ready")
        )
    };
    let shared = TestGateway::start(&section("local_share")).await;
    let refusing = TestGateway::start(&section("refuse")).await;
    let ready = shared.get("/readyz").await;
    assert_eq!(
        (ready.status, &ready.body["coordination"]),
        (200, &json!("shared")),
        "{}",
        ready.text
    );
    let path = write_config("coordinated", &section("local_share"));
    let check = |path: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_refund-gateway"))
            .args(["check-config", "--config"])
            .arg(path)
            .output()
            .expect("check-config runs")
    };
    let ok = check(&path);
    let out =
        String::from_utf8_lossy(&ok.stdout).to_string() + &String::from_utf8_lossy(&ok.stderr);
    assert!(ok.status.success(), "{out}");
    assert!(out.contains("coordination: Redis at the URL in"), "{out}");

    redis.stop();
    let ready = shared.get("/readyz").await;
    assert_eq!(
        (ready.status, &ready.body["coordination"]),
        (200, &json!("local_share")),
        "{}",
        ready.text
    );
    assert_problem(&refusing.get("/readyz").await, 503, "not_ready");
    let down = check(&path);
    let out =
        String::from_utf8_lossy(&down.stdout).to_string() + &String::from_utf8_lossy(&down.stderr);
    assert!(!down.status.success(), "{out}");
    assert!(out.contains("coordination.redis.url"), "{out}");
    assert!(
        !out.contains("s3cret"),
        "the password is never printed: {out}"
    );

    // A password written in config is refused: it is a secret.
    let inline = write_config(
        "inline",
        "[coordination]\nredis = { url = \"redis://:pw@127.0.0.1:1\" }\n",
    );
    let refused = check(&inline);
    let out = String::from_utf8_lossy(&refused.stderr).to_string();
    assert!(
        !refused.status.success() && out.contains("coordination.redis.url"),
        "{out}"
    );
}

#[tokio::test]
async fn refuse_mode_answers_503_rate_limited_without_redis() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let mut redis = RedisServer::start();
    let vendor = VendorSandbox::start("fourvenues", "").await;
    let config = format!(
        "{}\n{}",
        redis_server::coordination(&redis.url(), 2, "on_unavailable = \"refuse\""),
        fourvenues(
            &vendor,
            "rate_limit = { per_second = 50, max_wait = \"400ms\" }"
        )
    );
    let gw = TestGateway::start(&config).await;
    let body = json!({"provider": "fv", "target": {"tickets": ["bulk-refused-1"]}, "amount": {"value": "10", "currency": "EUR"}});
    assert_eq!(gw.post("/v1/refunds", body.clone()).await.status, 201);
    redis.stop();
    let mut refused = body.clone();
    refused["target"]["tickets"] = json!(["bulk-refused-2"]);
    let r = gw.post("/v1/refunds", refused).await;
    assert_problem(&r, 503, "provider_rate_limited");
    assert!(r.header("retry-after").is_some(), "{:?}", r.headers);
    assert_eq!(vendor.log().iter().filter(|l| l.method == "PUT").count(), 1);
}

#[tokio::test]
async fn a_slow_redis_costs_a_short_timeout_and_one_warning_per_change() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let mut redis = RedisServer::start();
    redis.stop();
    redis.restart(&["--enable-debug-command", "yes"]);
    let vendor = VendorSandbox::start("fourvenues", "").await;
    let config = write_config(
        "slow-redis",
        &format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[storage]\nurl = \"{}\"\n{}\n{}",
            crate::support::temp_database(),
            redis_server::coordination(&redis.url(), 2, "acquire_timeout = \"50ms\""),
            fourvenues(
                &vendor,
                "rate_limit = { per_second = 50, max_wait = \"2s\" }"
            )
        ),
    );
    let gw = GatewayProcess::spawn_logged(&config, "warn");
    let http = gw.client().await;
    let create = |ticket: String| {
        let http = http.clone();
        async move {
            http.post(
                "/v1/refunds",
                &json!({"provider": "fv", "target": {"tickets": [ticket]}, "amount": {"value": "10", "currency": "EUR"}}),
                &[("idempotency-key", &ticket)],
            )
            .await
        }
    };
    assert_eq!(create("bulk-slow-0".into()).await.status, 201);
    // Redis stops answering commands for 5 s (`CLIENT PAUSE ... ALL`: in effect once it
    // says OK, so no guessing when it began); creates go on, on this gateway's share, each
    // well within the pause (2 s: a create is two vendor calls and ledger writes, slow on
    // a machine at a load of 12, but never a wait for Redis to wake).
    let paused_at = tokio::time::Instant::now();
    redis_server::command(&redis.url(), &["CLIENT", "PAUSE", "5000", "ALL"]);
    for i in 1..=4 {
        let started = std::time::Instant::now();
        let r = create(format!("bulk-slow-{i}")).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "a create waited {:?} for a slow Redis",
            started.elapsed()
        );
    }
    // Redis answers again: the next calls are shared again.
    tokio::time::sleep_until(paused_at + Duration::from_millis(6500)).await;
    assert_eq!(create("bulk-slow-9".into()).await.status, 201);
    let metrics = http.get("/metrics").await.text;
    assert!(
        metrics.contains("refund_gateway_coordination_fallbacks_total{limit=\"outbound\"}"),
        "{metrics}"
    );
    let lines = gw.terminate_logged();
    let count = |needle: &str| lines.iter().filter(|l| l.contains(needle)).count();
    assert_eq!(count("Redis unavailable"), 1, "{lines:#?}");
    assert_eq!(count("Redis reachable again"), 1, "{lines:#?}");
    assert_eq!(vendor.log().iter().filter(|l| l.method == "PUT").count(), 6);
}
