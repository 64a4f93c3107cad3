//! `GET /metrics` on the real binary (its own process: counters start at zero): after a
//! walk-through of requests, the Prometheus text names each series with the expected
//! counts, and no label carries an id or a target.

use std::collections::BTreeMap;

use serde_json::json;

use crate::support::process::{write_config, GatewayProcess};
use crate::support::{secret_file, temp_database, unique, TestGateway};

/// One sample: metric name, labels, value.
pub(crate) type Sample = (String, BTreeMap<String, String>, f64);

/// The Prometheus text format, as much of it as the exporter writes.
pub(crate) fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("`series value`");
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("value: {line}"));
            let (name, labels) = match series.split_once('{') {
                None => (series.to_string(), BTreeMap::new()),
                Some((name, rest)) => {
                    let body = rest.strip_suffix('}').expect("labels end with }");
                    let labels = body
                        .split("\",")
                        .filter(|p| !p.is_empty())
                        .map(|pair| {
                            let (k, v) = pair.split_once('=').expect("label=value");
                            (k.to_string(), v.trim_matches('"').to_string())
                        })
                        .collect();
                    (name.to_string(), labels)
                }
            };
            (name, labels, value)
        })
        .collect()
}

/// The value of the one series `name` with exactly `labels`.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let want: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    samples
        .iter()
        .find(|(n, l, _)| n == name && *l == want)
        .map(|(_, _, v)| *v)
}

#[tokio::test]
async fn metrics_count_a_walk_through() {
    let config = write_config(
        "metrics",
        &format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[storage]\nurl = \"{}\"\n\
             [providers.tm]\nkind = \"ticketmatic\"\nsandbox = true\naccount = \"demo\"\n",
            temp_database()
        ),
    );
    let gateway = GatewayProcess::spawn(&config);
    let http = gateway.client().await;

    assert_eq!(http.get("/v1/providers").await.status, 200);
    assert_eq!(http.get("/nowhere/rfg_x").await.status, 404);
    let key = unique("metrics-key");
    let body = json!({"provider": "tm", "target": {"order": "1269434"},
                      "amount": {"value": "1.00", "currency": "EUR"}});
    let mut id = String::new();
    for _ in 0..2 {
        let created = http
            .post("/v1/refunds", &body, &[("idempotency-key", &key)])
            .await;
        assert_eq!(created.status, 201);
        id = created.body["id"].as_str().unwrap().to_string();
    }
    let got = http.get(&format!("/v1/refunds/{id}")).await;
    assert_eq!(got.status, 200);
    let list = "/v1/refunds?provider=tm&order=1269434";
    for no_cache in [false, false, true] {
        let mut request = http.http().get(http.url(list));
        if no_cache {
            request = request.header("cache-control", "no-cache");
        }
        let listed = http.send(request).await;
        assert_eq!(listed.status, 200, "{}", listed.text);
    }

    let scraped = http.get("/metrics").await;
    assert_eq!(scraped.status, 200);
    assert!(scraped
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    let text = scraped.text;
    let samples = parse(&text);
    let requests = "refund_gateway_http_requests_total";
    let expect = [
        (
            requests,
            vec![
                ("route", "/v1/refunds"),
                ("method", "POST"),
                ("status", "201"),
            ],
            2.0,
        ),
        (
            requests,
            vec![
                ("route", "/v1/providers"),
                ("method", "GET"),
                ("status", "200"),
            ],
            1.0,
        ),
        (
            requests,
            vec![("route", "unmatched"), ("method", "GET"), ("status", "404")],
            1.0,
        ),
        (
            requests,
            vec![
                ("route", "/v1/refunds/{id}"),
                ("method", "GET"),
                ("status", "200"),
            ],
            1.0,
        ),
        (
            requests,
            vec![
                ("route", "/v1/refunds"),
                ("method", "GET"),
                ("status", "200"),
            ],
            3.0,
        ),
        (
            "refund_gateway_http_request_duration_seconds_count",
            vec![("route", "/v1/refunds"), ("method", "POST")],
            2.0,
        ),
        ("refund_gateway_idempotent_replays_total", vec![], 1.0),
        // The get's lookup, and the first list.
        (
            "refund_gateway_lookup_cache_total",
            vec![("instance", "tm"), ("result", "miss")],
            2.0,
        ),
        (
            "refund_gateway_lookup_cache_total",
            vec![("instance", "tm"), ("result", "hit")],
            1.0,
        ),
        (
            "refund_gateway_lookup_cache_total",
            vec![("instance", "tm"), ("result", "bypass")],
            1.0,
        ),
        (
            "refund_gateway_refunds_settled_total",
            vec![("instance", "tm"), ("status", "succeeded")],
            1.0,
        ),
        ("refund_gateway_circuit_open", vec![("instance", "tm")], 0.0),
    ];
    for (name, labels, count) in expect {
        assert_eq!(
            value(&samples, name, &labels),
            Some(count),
            "{name}{labels:?} in\n{text}"
        );
    }
    let vendor_calls = value(
        &samples,
        "refund_gateway_vendor_calls_total",
        &[("instance", "tm"), ("result", "2xx")],
    )
    .unwrap_or(0.0);
    let vendor_timed = value(
        &samples,
        "refund_gateway_vendor_call_duration_seconds_count",
        &[("instance", "tm")],
    );
    assert!(
        vendor_calls >= 3.0,
        "a create and two lookups at least:\n{text}"
    );
    assert_eq!(
        vendor_timed,
        Some(vendor_calls),
        "every vendor call is timed"
    );
    for (name, labels, _) in &samples {
        for v in labels.values() {
            assert!(
                !v.contains("rfg_") && !v.contains("1269434") && !v.contains('?'),
                "unbounded label value {v} on {name}"
            );
        }
    }
    gateway.terminate();
}

#[tokio::test]
async fn a_separate_listener_serves_metrics_and_the_api_port_does_not() {
    let gw = TestGateway::start(
        "[server]\nlisten = \"127.0.0.1:0\"\n[metrics]\nlisten = \"127.0.0.1:0\"\n\
         [providers.tm]\nkind = \"ticketmatic\"\nsandbox = true\naccount = \"demo\"\n",
    )
    .await;
    assert_eq!(gw.get("/v1/providers").await.status, 200);
    let on_api_port = gw.get("/metrics").await;
    assert_eq!(on_api_port.status, 404, "{}", on_api_port.text);
    let url = gw.metrics_url().expect("a metrics listener");
    assert_ne!(url, gw.url("/metrics"));
    let scraped = reqwest::get(&url).await.unwrap();
    assert_eq!(scraped.status(), 200);
    let text = scraped.text().await.unwrap();
    assert!(
        parse(&text).iter().any(|(name, labels, value)| name
            == "refund_gateway_http_requests_total"
            && labels.get("route").map(String::as_str) == Some("/v1/providers")
            && *value >= 1.0),
        "{text}"
    );
    let elsewhere = reqwest::get(url.replace("/metrics", "/v1/providers"))
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 404, "only /metrics on the metrics port");
}

#[test]
fn metrics_and_log_config_are_strict() {
    let error = refund_gateway::config::Config::from_toml_str("[metrics]\nport = 9100\n")
        .expect_err("unknown key");
    assert!(error.to_string().contains("port"), "{error}");
    let error = refund_gateway::config::Config::from_toml_str("[log]\nformat = \"xml\"\n")
        .expect_err("unknown format");
    assert!(error.to_string().contains("xml"), "{error}");
}

/// A Ticketmatic instance `name` whose vendor cannot be reached, with extra instance keys.
fn unreachable_instance(name: &str, extra: &str) -> String {
    format!(
        "[providers.{name}]\nkind = \"ticketmatic\"\nbase_url = \"http://127.0.0.1:1\"\naccount = \"demo\"\n\
         access_key = {{ file = \"{}\" }}\nsecret_key = {{ file = \"{}\" }}\n{extra}\n",
        secret_file("access"),
        secret_file("secret")
    )
}

/// The circuit and the outbound limit, counted (instances named for this test only: the
/// recorder is shared by every gateway of the test process).
#[tokio::test]
async fn failing_vendors_open_the_circuit_and_the_limit_refuses() {
    let gw = TestGateway::start(&format!(
        "{}{}",
        unreachable_instance(
            "metrics-down",
            "circuit = { failures = 2, cool_down = \"60s\" }"
        ),
        unreachable_instance(
            "metrics-paced",
            "rate_limit = { per_second = 0.1, burst = 1, max_wait = \"10ms\" }"
        )
    ))
    .await;
    let live = [("cache-control", "no-cache")];
    for instance in ["metrics-down", "metrics-paced"] {
        for _ in 0..3 {
            let r = gw
                .get_with(
                    &format!("/v1/refunds?provider={instance}&order=1269434"),
                    &live,
                )
                .await;
            assert!(r.status >= 500, "{}", r.text);
        }
    }
    let scraped = gw.get("/metrics").await;
    assert_eq!(scraped.status, 200);
    let text = scraped.text;
    let samples = parse(&text);
    let expect = [
        (
            "refund_gateway_vendor_calls_total",
            vec![("instance", "metrics-down"), ("result", "connect_error")],
            2.0,
        ),
        (
            "refund_gateway_circuit_open",
            vec![("instance", "metrics-down")],
            1.0,
        ),
        (
            "refund_gateway_circuit_open",
            vec![("instance", "metrics-paced")],
            0.0,
        ),
        (
            "refund_gateway_vendor_calls_total",
            vec![("instance", "metrics-paced"), ("result", "connect_error")],
            1.0,
        ),
        (
            "refund_gateway_outbound_limit_rejections_total",
            vec![("instance", "metrics-paced")],
            2.0,
        ),
        (
            "refund_gateway_lookup_cache_total",
            vec![("instance", "metrics-down"), ("result", "bypass")],
            3.0,
        ),
    ];
    for (name, labels, count) in expect {
        assert_eq!(
            value(&samples, name, &labels),
            Some(count),
            "{name}{labels:?} in\n{text}"
        );
    }
}
