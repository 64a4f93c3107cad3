//! The replay vendor itself: a request that differs from the fixture is refused and the
//! test that made it fails with a diff naming the field.

use crate::support::ReplayVendor;

#[tokio::test]
async fn a_request_that_differs_from_the_fixture_fails_with_a_diff() {
    let vendor = ReplayVendor::start(&["tests/contract/data/diff-demo.json"]).await;
    let response = reqwest::Client::new()
        .post(format!("{}/demo/orders/1269434/refunds", vendor.base_url()))
        .header("content-type", "application/json")
        .body(r#"{"amount": 12.5, "paymentid": 125}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 599);
    let mismatches = vendor.mismatches();
    assert_eq!(mismatches.len(), 1);
    let report = &mismatches[0];
    assert!(report.contains("matched no fixture"), "{report}");
    assert!(report.contains("amount"), "{report}");
    assert!(
        report.contains("12.5") && report.contains("10.0"),
        "{report}"
    );
    let failure = std::panic::catch_unwind(|| vendor.assert_clean()).unwrap_err();
    let message = failure
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.contains("amount"),
        "assert_clean must fail with the diff: {message}"
    );
}

/// Near-miss diagnostics: the 599 answer ranks the closest fixtures by how many fields
/// differ, each with its field-by-field diff; the closest is not the first loaded.
#[tokio::test]
async fn a_near_miss_names_the_closest_fixture_and_the_differing_field() {
    let vendor = ReplayVendor::start(&[
        "tests/contract/data/near-miss-other.json",
        "tests/contract/data/diff-demo.json",
    ])
    .await;
    let response = reqwest::Client::new()
        .post(format!("{}/demo/orders/1269434/refunds", vendor.base_url()))
        .header("content-type", "application/json")
        .body(r#"{"amount": 12.5, "paymentid": 125}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 599);
    let body: serde_json::Value = response.json().await.expect("a JSON 599 body");
    let closest = body["closest"].as_array().expect("closest fixtures");
    assert_eq!(closest.len(), 2, "{body:#}");
    let first = &closest[0];
    assert!(
        first["fixture"]
            .as_str()
            .unwrap()
            .ends_with("diff-demo.json"),
        "{body:#}"
    );
    assert_eq!(first["differing_fields"], 1, "{body:#}");
    assert_eq!(first["fields"][0]["part"], "body", "{body:#}");
    assert_eq!(first["fields"][0]["field"], "/amount", "{body:#}");
    assert!(
        first["diff"][0].as_str().unwrap().contains("amount"),
        "the matcher's own diff comes along: {body:#}"
    );
    let second = &closest[1];
    assert!(second["fixture"]
        .as_str()
        .unwrap()
        .ends_with("near-miss-other.json"));
    let decoy_fields: Vec<&str> = second["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(decoy_fields, ["/amount", "/note", "/paymentid"], "{body:#}");
    // The remembered report (log line and `assert_clean`) ranks the same way.
    let report = &vendor.mismatches()[0];
    let demo = report.find("diff-demo.json").expect("named in the report");
    let decoy = report.find("near-miss-other.json").expect("named too");
    assert!(demo < decoy, "{report}");
}

mod admin {
    use serde_json::{json, Value};

    use crate::support::ReplayVendor;

    async fn get(url: String) -> Value {
        let response = reqwest::get(url).await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        response.json().await.unwrap()
    }

    async fn post(url: String, body: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    async fn login(base: &str, password: &str) -> u16 {
        reqwest::Client::new()
            .post(format!("{base}/auth/credentials"))
            .header("x-vendor-sig", "0badc0de")
            .header("authorization", "Bearer s3cr3t-bearer")
            .header("x-trace", "visible-trace")
            .body(json!({"userName": "bot@example.invalid", "password": password}).to_string())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    #[tokio::test]
    async fn lists_received_requests_with_secrets_masked() {
        let vendor = ReplayVendor::start(&["tests/contract/data/admin-login.json"]).await;
        let base = vendor.base_url();
        assert_eq!(login(&base, "hunter2-pass").await, 200);
        let listed = get(format!("{base}/__replay/requests")).await;
        let requests = listed["requests"].as_array().unwrap();
        assert_eq!(
            requests.len(),
            1,
            "admin requests are not listed: {listed:#}"
        );
        let r = &requests[0];
        assert_eq!(r["method"], "POST");
        assert_eq!(r["path"], "/auth/credentials");
        assert_eq!(r["headers"]["x-trace"], "visible-trace");
        assert_eq!(r["headers"]["x-vendor-sig"], "***", "matched a pattern");
        assert_eq!(r["headers"]["authorization"], "***");
        assert_eq!(r["body"]["userName"], "bot@example.invalid");
        assert_eq!(r["body"]["password"], "***");
        let text = listed.to_string();
        for secret in ["0badc0de", "s3cr3t-bearer", "hunter2-pass"] {
            assert!(!text.contains(secret), "{secret} shown: {text}");
        }
    }

    #[tokio::test]
    async fn reset_forgets_requests_and_rearms_once_only_fixtures() {
        let vendor = ReplayVendor::start(&["tests/contract/data/admin-login.json"]).await;
        let base = vendor.base_url();
        assert_eq!(login(&base, "a").await, 200);
        assert_eq!(login(&base, "b").await, 599, "answers once only");
        let response = post(format!("{base}/__replay/reset"), "").await;
        assert_eq!(response.status().as_u16(), 200);
        let listed = get(format!("{base}/__replay/requests")).await;
        assert_eq!(listed["requests"], json!([]), "{listed:#}");
        assert!(vendor.mismatches().is_empty(), "mismatches forgotten too");
        assert_eq!(login(&base, "c").await, 200, "re-armed");
        vendor.assert_clean();
    }

    #[tokio::test]
    async fn loads_a_fixture_at_run_time() {
        let vendor = ReplayVendor::start(&[]).await;
        let base = vendor.base_url();
        let url = format!("{base}/demo/orders/1269434/refunds");
        assert_eq!(post(url.clone(), "{}").await.status().as_u16(), 599);
        let fixture = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/contract/data/diff-demo.json"),
        )
        .unwrap();
        let loaded = post(
            format!("{base}/__replay/fixtures?name=runtime-demo"),
            &fixture,
        )
        .await;
        assert_eq!(loaded.status().as_u16(), 201);
        let loaded: Value = loaded.json().await.unwrap();
        assert_eq!(loaded["loaded"], json!(["runtime-demo"]));
        let answer = post(url.clone(), r#"{"amount": 10, "paymentid": 125}"#).await;
        assert_eq!(answer.status().as_u16(), 200);
        let answer: Value = answer.json().await.unwrap();
        assert_eq!(answer["orderid"], 1269434);
        // A near miss now names the loaded fixture.
        let miss: Value = post(url, r#"{"amount": 11, "paymentid": 125}"#)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(miss["closest"][0]["fixture"], "runtime-demo", "{miss:#}");
        // A malformed fixture is refused, naming the problem.
        let refused = post(format!("{base}/__replay/fixtures"), r#"{"request": 1}"#).await;
        assert_eq!(refused.status().as_u16(), 400);
        let refused: Value = refused.json().await.unwrap();
        assert!(
            refused["error"].as_str().unwrap().contains("malformed"),
            "{refused:#}"
        );
    }
}

/// Scenarios: once-only fixtures for the same request answer one after the other, in load
/// order; then the request misses; a reset starts the scenario again.
#[tokio::test]
async fn fixtures_for_the_same_request_answer_in_order_as_a_scenario() {
    let vendor = ReplayVendor::start(&[
        "tests/contract/data/scenario-list-empty.json",
        "tests/contract/data/scenario-list-one.json",
    ])
    .await;
    let url = format!("{}/demo/orders/1269434/refunds", vendor.base_url());
    let count = |url: String| async move {
        let response = reqwest::get(url).await.unwrap();
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap();
        (status, body["refunds"].as_array().map(Vec::len))
    };
    assert_eq!(count(url.clone()).await, (200, Some(0)));
    assert_eq!(count(url.clone()).await, (200, Some(1)));
    assert_eq!(count(url.clone()).await.0, 599, "the scenario is over");
    reqwest::Client::new()
        .post(format!("{}/__replay/reset", vendor.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        count(url.clone()).await,
        (200, Some(0)),
        "reset restarts it"
    );
}

/// `replay --headers strict`: a request carrying a header the fixture does not name is a
/// near miss naming that header; in the default loose mode, or for a fixture that says
/// `"header_match": "loose"`, it matches.
#[tokio::test]
async fn strict_header_matching_refuses_headers_the_fixture_does_not_name() {
    use crate::support::process::GatewayProcess;
    use crate::support::{repo_path, unique};

    let dir = std::env::temp_dir().join(unique("replay-headers"));
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(repo_path("tests/contract/data/diff-demo.json")).unwrap();
    let mut fixture: serde_json::Value = serde_json::from_str(&text).unwrap();
    std::fs::write(dir.join("named.json"), fixture.to_string()).unwrap();
    let send = |base: String| async move {
        let r = reqwest::Client::new()
            .post(format!("{base}/demo/orders/1269434/refunds"))
            .header("content-type", "application/json")
            .header("x-debug", "1")
            .body(r#"{"amount": 10.0, "paymentid": 125}"#)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    let serve = |mode: &str| {
        GatewayProcess::spawn_args(&[
            "replay".as_ref(),
            "--headers".as_ref(),
            mode.as_ref(),
            dir.as_os_str(),
            "--listen".as_ref(),
            "127.0.0.1:0".as_ref(),
        ])
    };

    let loose = serve("loose");
    let (status, body) = send(loose.base_url.clone()).await;
    assert_eq!(status, 200, "{body}");
    loose.kill();

    let strict = serve("strict");
    let (status, body) = send(strict.base_url.clone()).await;
    assert_eq!(status, 599, "{body}");
    assert!(
        body.contains("x-debug") && body.contains("strict header matching"),
        "{body}"
    );
    strict.kill();

    fixture["request"]["header_match"] = serde_json::json!("loose");
    std::fs::write(dir.join("named.json"), fixture.to_string()).unwrap();
    let strict = serve("strict");
    let (status, body) = send(strict.base_url.clone()).await;
    assert_eq!(status, 200, "the fixture's own mode wins: {body}");
    strict.kill();
    let _ = std::fs::remove_dir_all(&dir);
}
