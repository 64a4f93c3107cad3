//! Every metric family after a walk-through of the real binary (its own process: counts
//! start at zero): settles counted at every settle (creates and batch items alike), batch
//! items by state, the outbound pace, limiter waits and rejections, client-limit 429s,
//! idempotency conflicts, unknown outcomes open, reconciler settlements, and ledger query
//! latency; then the Grafana dashboard in `ops/grafana` queries exactly what is exported
//! and covers every family.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::process::{write_config, GatewayProcess};
use crate::support::{repo_path, unique};

/// (name, labels as `k="v"` pairs sorted, value) of every sample.
fn samples(text: &str) -> Vec<(String, String, f64)> {
    crate::metrics::parse(text)
        .into_iter()
        .map(|(name, labels, value)| {
            let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
            (name, pairs.join(","), value)
        })
        .collect()
}

fn value(all: &[(String, String, f64)], name: &str, labels: &str) -> f64 {
    all.iter()
        .find(|(n, l, _)| n == name && l == labels)
        .map(|(_, _, v)| *v)
        .unwrap_or_else(|| {
            let near: Vec<_> = all.iter().filter(|(n, _, _)| n == name).collect();
            panic!("no series {name}{{{labels}}}: {near:?}")
        })
}

fn refund(amount: &str) -> Value {
    json!({"provider": "tm", "target": {"order": "1269434"},
           "amount": {"value": amount, "currency": "EUR"}})
}

/// A Fourvenues refund of one ticket (a batch needs a target per item).
fn ticket(ticket: &str) -> Value {
    json!({"provider": "fv", "target": {"tickets": [ticket]},
           "amount": {"value": "10", "currency": "EUR"}, "reason": "event cancelled"})
}

/// On each ledger backend (SQLite, and PostgreSQL when the test server is configured): the
/// ledger operations are timed the same way on both.
#[tokio::test]
async fn every_family_after_a_walk_through_and_the_dashboard_uses_them() {
    for database in crate::support::ledger_databases().await {
        walk_through(&database).await;
    }
}

async fn walk_through(database: &str) {
    let sandbox = "kind = \"ticketmatic\"\nsandbox = true\naccount = \"demo\"\n";
    let config = write_config(
        "metric-families",
        &format!(
            "[server]\nlisten = \"127.0.0.1:0\"\nclient_rate_limit = {{ per_second = 1, burst = 40 }}\n\
             [storage]\nurl = \"{}\"\n[reconcile]\ninterval = \"100ms\"\n\
             [providers.fv]\nkind = \"fourvenues\"\nsandbox = true\n\
             [providers.tm]\n{sandbox}\
             [providers.slow]\n{sandbox}rate_limit = {{ per_second = 0.1, burst = 1, max_wait = \"10ms\" }}\n",
            database
        ),
    );
    let gateway = GatewayProcess::spawn(&config);
    let http = gateway.client().await;

    // A create, and its key reused with another body: a conflict.
    let key = unique("families");
    let post = |body: Value, key: &str| {
        let http = http.clone();
        let key = key.to_string();
        async move {
            http.post("/v1/refunds", &body, &[("idempotency-key", &key)])
                .await
                .status
        }
    };
    assert_eq!(post(refund("1.00"), &key).await, 201);
    assert_eq!(post(refund("2.00"), &key).await, 422);

    // A batch of two, worked to the end.
    let batch = http
        .post(
            "/v1/refund-batches",
            &json!({"items": [ticket("families-1"), ticket("families-2")]}),
            &[("idempotency-key", &unique("families-batch"))],
        )
        .await
        .body;
    let id = batch["id"]
        .as_str()
        .unwrap_or_else(|| panic!("batch accepted: {batch}"))
        .to_string();
    let started = Instant::now();
    loop {
        let report = http.get(&format!("/v1/refund-batches/{id}")).await.body;
        if report["status"] == "done" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{report}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // Two live lookups one after the other on `slow` (one call per 10 s, 10 ms of
    // patience): the second is refused by its outbound limit. Not at once: two live
    // lookups of one target that arrive together share one vendor call (the cache's
    // live turns), so both would be answered.
    let lookup = || {
        http.send(
            http.http()
                .get(http.url("/v1/refunds?provider=slow&order=1269434"))
                .header("cache-control", "no-cache"),
        )
    };
    let first = lookup().await.status;
    let second = lookup().await.status;
    assert_eq!(first, 200);
    assert!(second >= 429, "{second}");

    // Past the client's burst: 429s. At most 40 + 1/s of the 60 are allowed, so some are
    // refused unless the 60 take over 20 s.
    let mut limited = 0;
    for _ in 0..60 {
        if http.get("/v1/providers").await.status == 429 {
            limited += 1;
        }
    }
    assert!(limited > 0);
    // The reconciler's passes (every 100 ms), and a token of the client's budget back for
    // the scrape (one a second).
    tokio::time::sleep(Duration::from_millis(1200)).await;

    let scraped = http.get("/metrics").await;
    assert_eq!(scraped.status, 200);
    let text = scraped.text;
    let all = samples(&text);
    let v = |name: &str, labels: &str| value(&all, name, labels);
    let settled = "refund_gateway_refunds_settled_total";
    assert_eq!(v(settled, r#"instance="tm",status="succeeded""#), 1.0);
    // The batch's items, settled by the worker (whatever the sandbox answered them).
    let sum = |name: &str, labels: &str| -> f64 {
        all.iter()
            .filter(|(n, l, _)| n == name && l.contains(labels))
            .map(|(_, _, v)| v)
            .sum()
    };
    assert_eq!(sum(settled, r#"instance="fv""#), 2.0, "both items");
    assert_eq!(sum("refund_gateway_batch_items_total", "state="), 2.0);
    assert_eq!(
        v("refund_gateway_batch_items_in_flight", r#"instance="fv""#),
        0.0
    );
    assert_eq!(
        v(
            "refund_gateway_idempotency_conflicts_total",
            r#"kind="reused""#
        ),
        1.0
    );
    assert_eq!(
        v(
            "refund_gateway_idempotency_conflicts_total",
            r#"kind="in_flight""#
        ),
        0.0
    );
    assert_eq!(
        v(
            "refund_gateway_outbound_pace_per_second",
            r#"instance="slow""#
        ),
        0.1
    );
    assert!(
        v(
            "refund_gateway_outbound_limit_rejections_total",
            r#"instance="slow""#
        ) >= 1.0
    );
    assert!(
        v(
            "refund_gateway_outbound_limit_wait_seconds_count",
            r#"instance="fv""#
        ) >= 2.0
    );
    assert_eq!(
        v("refund_gateway_client_limit_rejections_total", ""),
        f64::from(limited)
    );
    for instance in ["fv", "slow", "tm"] {
        let labels = format!("instance=\"{instance}\"");
        assert_eq!(v("refund_gateway_unknown_outcomes_open", &labels), 0.0);
    }
    assert_eq!(
        v(
            "refund_gateway_reconcile_settlements_total",
            r#"result="matched""#
        ),
        0.0
    );
    // Every ledger operation is timed under its own label, from the fixed set.
    let timed: BTreeSet<&str> = all
        .iter()
        .filter(|(n, _, _)| n == "refund_gateway_ledger_query_duration_seconds_count")
        .filter_map(|(_, labels, _)| labels.strip_prefix("op=\"")?.strip_suffix('"'))
        .collect();
    let known: Vec<&str> = refund_gateway::storage::observe::LedgerOp::iter()
        .map(|op| op.as_str())
        .collect();
    assert!(
        timed.iter().all(|op| known.contains(op)),
        "{timed:?} outside {known:?}"
    );
    for op in [
        "settle",
        "heartbeat",
        "unknown_open",
        "register_gateway",
        "claim_key",
        "insert_intent",
        "finish_key",
        "insert_batch",
        "get_batch",
        "claim_item",
        "due_unknowns",
    ] {
        assert!(timed.contains(op), "{op} not among {timed:?}");
        let labels = format!("op=\"{op}\"");
        assert!(
            v(
                "refund_gateway_ledger_query_duration_seconds_count",
                &labels
            ) >= 1.0,
            "{op} not among {timed:?}"
        );
    }
    assert!(
        v(
            "refund_gateway_ledger_query_duration_seconds_count",
            r#"op="settle""#
        ) >= 3.0
    );

    // The dashboard queries only exported names, and every exported family is on it.
    let families: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect();
    let exported: BTreeSet<&str> = all.iter().map(|(n, _, _)| n.as_str()).collect();
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_path("ops/grafana/refund-gateway.json")).unwrap(),
    )
    .expect("the dashboard is JSON");
    let name = regex::Regex::new(r"refund_gateway_[a-z_]+").unwrap();
    let mut queried = BTreeSet::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("a PromQL expr");
            for m in name.find_iter(expr) {
                assert!(
                    exported.contains(m.as_str()),
                    "the dashboard queries {}, not exported",
                    m.as_str()
                );
                queried.insert(m.as_str().to_string());
            }
        }
    }
    for family in &families {
        assert!(
            queried.iter().any(|q| q.starts_with(family.as_str())),
            "{family} is exported but on no dashboard panel"
        );
    }
    assert!(families.len() >= 18, "{families:?}");
}
