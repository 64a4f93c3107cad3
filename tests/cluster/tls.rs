//! Redis over TLS (`rediss://` with `ca_file`): a real `redis-server` serving TLS only, with
//! a CA and certificate made for the test. Budgets and invalidations are shared over it,
//! `check-config` and `/readyz` report it, and a certificate that does not verify is an
//! error: the gateway never talks to Redis in plaintext instead.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use refund_gateway::config::Config;
use refund_gateway::coordination::Coordination;
use refund_gateway::traffic::outbound_limit::OutboundLimit;
use serde_json::json;

use crate::support::process::{write_config, VendorSandbox};
use crate::support::redis_server::{RedisServer, TestCertificates};
use crate::support::{secret_file, unique, TestGateway};

/// `[coordination]` on the TLS server, trusting `ca`.
fn section(redis: &RedisServer, ca: &str) -> String {
    format!(
        "[coordination]\nredis = {{ url = \"{}\", ca_file = \"{ca}\" }}\nexpected_gateways = 2\n\
         key_prefix = \"{}\"\n",
        redis.url(),
        unique("tls")
    )
}

fn fourvenues(vendor: &VendorSandbox) -> String {
    format!(
        "[providers.fv]\nkind = \"fourvenues\"\nbase_url = \"{}\"\napi_key = {{ file = \"{}\" }}\n\
         timeout = \"2s\"\n",
        vendor.base_url(),
        secret_file("fourvenues-sandbox-key")
    )
}

fn check_config(text: &str) -> (bool, String) {
    let path = write_config("tls", text);
    let out = Command::new(env!("CARGO_BIN_EXE_refund-gateway"))
        .args(["check-config", "--config"])
        .arg(path)
        .output()
        .expect("check-config runs");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

const LIST: &str = "/v1/refunds?provider=fv&ticket=bulk-tls-1";

async fn lookup(gw: &TestGateway) -> (usize, String) {
    crate::lookup(gw, LIST).await
}

#[tokio::test]
async fn over_tls_the_pace_and_cache_invalidations_are_shared() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let certs = TestCertificates::generate();
    let redis = RedisServer::start_tls(&certs);
    assert!(redis.url().starts_with("rediss://"));
    let tls = section(&redis, &certs.ca());

    let (ok, out) = check_config(&tls);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!(
            "coordination: Redis at {} (TLS, trusting {}) answers",
            redis.url(),
            certs.ca()
        )),
        "{out}"
    );

    // One vendor pace in Redis for two limiters (two gateways' worth): one call per
    // second, so the second limiter's call right after the first's must wait, and is
    // refused once that wait outlasts its max_wait.
    let config = Config::from_toml_str(&tls).expect("config");
    let coordination =
        Arc::new(Coordination::connect(config.coordination.as_ref().unwrap()).unwrap());
    coordination.ping().await.expect("Redis answers over TLS");
    let limit = || {
        let c = Config::from_toml_str(
            "[providers.sb]\nkind = \"stubbur\"\nsandbox = true\n\
             rate_limit = { per_second = 1, burst = 1, max_wait = \"300ms\" }\n",
        )
        .unwrap();
        let limit = OutboundLimit::new(c.providers[0].common.rate_limit.clone());
        limit.share(coordination.clone(), "sb");
        limit
    };
    let (one, other) = (limit(), limit());
    assert!(one.acquire().await.is_ok());
    assert!(
        other.acquire().await.is_err(),
        "the second limiter went within the second the first one spent"
    );
    assert!(coordination.available(), "every acquire reached Redis");

    // A create on A invalidates B's cached lookups over TLS pub/sub.
    let vendor = VendorSandbox::start("fourvenues", "").await;
    let gateway = format!("{tls}\n{}", fourvenues(&vendor));
    let (a, b) = (
        TestGateway::start(&gateway).await,
        TestGateway::start(&gateway).await,
    );
    for gw in [&a, &b] {
        let ready = gw.get("/readyz").await;
        assert_eq!(
            (ready.status, &ready.body["coordination"]),
            (200, &json!("shared")),
            "{}",
            ready.text
        );
    }
    let mut status = String::new();
    for _ in 0..100 {
        lookup(&b).await;
        status = lookup(&b).await.1;
        if status == "refund-gateway; hit" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, "refund-gateway; hit", "B subscribed and caching");
    let created = a
        .post(
            "/v1/refunds",
            json!({"provider": "fv", "target": {"tickets": ["bulk-tls-1"]}, "amount": {"value": "10", "currency": "EUR"}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(
        lookup(&b).await,
        (1, "refund-gateway; fwd=miss; stored".into()),
        "gateway B still serves the list from before A's create"
    );
}

#[tokio::test]
async fn a_redis_certificate_that_does_not_verify_is_an_error_never_plaintext() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let certs = TestCertificates::generate();
    let redis = RedisServer::start_tls(&certs);
    let wrong = section(&redis, &certs.other_ca());

    let (ok, out) = check_config(&wrong);
    assert!(!ok, "{out}");
    assert!(out.contains("coordination.redis.url"), "{out}");
    assert!(
        out.to_lowercase().contains("certificate"),
        "the error says the certificate is the problem: {out}"
    );

    // A gateway started anyway keeps to its own share: nothing is shared, nothing is
    // sent to Redis without TLS (the server has no plaintext port to answer it).
    let gw = TestGateway::start(&format!(
        "{wrong}\n[providers.sb]\nkind = \"stubbur\"\nsandbox = true\n"
    ))
    .await;
    let ready = gw.get("/readyz").await;
    assert_eq!(
        (ready.status, &ready.body["coordination"]),
        (200, &json!("local_share")),
        "{}",
        ready.text
    );
    let config = Config::from_toml_str(&wrong).expect("config");
    let coordination = Coordination::connect(config.coordination.as_ref().unwrap()).unwrap();
    // (On a busy machine a probe may time out first; none may succeed.)
    let mut refused = String::new();
    for _ in 0..10 {
        refused = coordination.ping().await.expect_err("no TLS session");
        if !refused.contains("did not answer") {
            break;
        }
    }
    assert!(refused.contains("certificate"), "{refused}");

    // A plaintext URL to the TLS port gets no answer either.
    let plain = wrong.replace("rediss://", "redis://");
    let plain = plain.replace(&format!(", ca_file = \"{}\"", certs.other_ca()), "");
    assert!(!check_config(&plain).0);

    // A CA file with a plaintext URL is a mistake in the config, named as such.
    let (ok, out) = check_config(&section(&redis, &certs.ca()).replace("rediss://", "redis://"));
    assert!(!ok && out.contains("coordination.redis.ca_file"), "{out}");
}
