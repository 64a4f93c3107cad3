//! Traffic control, measured from the vendor's side: the outbound pace holds under 3x
//! load, a vendor 429 pauses only its instance, concurrent lookups share one vendor call,
//! a create makes the next lookup a miss, the circuit fails fast and recovers, and clients
//! over their limit get 429 with the IETF RateLimit headers.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use refund_gateway::loopback::{Handler, LoopbackServer};
use refund_provider::sandbox::json_response;
use serde_json::json;

use crate::support::{assert_problem, repo_path, secret_file, ReplayVendor, TestGateway};

const ORDER_LIST: &str = "/v1/refunds?provider=tm&order=1269434";

/// A Ticketmatic instance `name` at `base_url`, with extra instance keys.
fn tm_instance(name: &str, base_url: &str, extra: &str) -> String {
    format!(
        "[providers.{name}]\nkind = \"ticketmatic\"\nbase_url = \"{base_url}\"\naccount = \"demo\"\n\
         access_key = {{ file = \"{}\" }}\nsecret_key = {{ file = \"{}\" }}\n{extra}\n",
        secret_file("access"),
        secret_file("secret")
    )
}

#[tokio::test]
async fn outbound_pace_holds_at_three_times_the_rate() {
    let vendor = ReplayVendor::start_reusable(&["fixtures/ticketmatic/get-order.json"]).await;
    let per_second = 10.0;
    let config = tm_instance(
        "tm",
        &vendor.base_url(),
        "rate_limit = { per_second = 10, burst = 1, max_wait = \"500ms\", lookup_share = 1 }",
    );
    let gw = Arc::new(TestGateway::start(&config).await);

    // 3x the configured rate for 2 s: 60 live lookups, one every ~33 ms, each of its own
    // target (a payment of the order), so none shares another's vendor call.
    let mut tasks = Vec::new();
    for i in 0..60u64 {
        let gw = gw.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(i * 1000 / 30)).await;
            gw.get_with(
                &format!("{ORDER_LIST}&payment={}", 1000 + i),
                &[("cache-control", "no-cache")],
            )
            .await
        }));
    }
    let (mut answered, mut refused) = (0, 0);
    for t in tasks {
        let r = t.await.unwrap();
        match r.status {
            200 => answered += 1,
            503 => {
                assert_eq!(r.code(), "provider_rate_limited", "{}", r.text);
                assert!(
                    r.header("retry-after")
                        .is_some_and(|v| v.parse::<u64>().is_ok()),
                    "{:?}",
                    r.headers
                );
                refused += 1;
            }
            other => panic!(
                "every request gets its answer or a 503, not {other}: {}",
                r.text
            ),
        }
    }
    let mut times: Vec<Instant> = vendor.received().iter().map(|r| r.at).collect();
    assert_eq!(
        times.len(),
        answered,
        "every answered request reached the vendor once"
    );
    assert!(
        refused > 0 && answered > 0,
        "answered {answered}, refused {refused}"
    );
    // Vendor side: no 1-second window holds more than rate + burst requests. The log is in
    // the order requests were logged, not stamped (and `duration_since` saturates to 0 for
    // an earlier stamp): sorted, each window starts at a request and counts those after it.
    times.sort();
    for (i, start) in times.iter().enumerate() {
        let in_window = times[i..]
            .iter()
            .take_while(|t| t.duration_since(*start) < Duration::from_secs(1))
            .count();
        assert!(
            in_window as f64 <= per_second + 1.0,
            "{in_window} vendor requests within 1 s"
        );
    }
    assert!(vendor.mismatches().is_empty(), "{:?}", vendor.mismatches());
}

#[tokio::test]
async fn a_vendor_429_pauses_only_that_instance() {
    let limited = ReplayVendor::start(&[
        "fixtures/ticketmatic/error-429-retry-2.json",
        "fixtures/ticketmatic/get-order.json",
    ])
    .await;
    let healthy = ReplayVendor::start(&["fixtures/ticketmatic/get-order.json"]).await;
    let config = format!(
        "{}{}",
        tm_instance(
            "tm",
            &limited.base_url(),
            "rate_limit = { per_second = 100, burst = 10, max_wait = \"5s\" }"
        ),
        tm_instance("other", &healthy.base_url(), "")
    );
    let gw = Arc::new(TestGateway::start(&config).await);

    let first = gw.get(ORDER_LIST).await;
    assert_problem(&first, 503, "provider_rate_limited");
    assert_eq!(first.header("retry-after"), Some("2"));
    let providers = gw.get("/v1/providers").await;
    let tm = providers.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "tm")
        .unwrap()
        .clone();
    assert!(
        tm["traffic"]["rate_limit"]["paused_for_ms"]
            .as_u64()
            .unwrap_or(0)
            > 1000,
        "{tm}"
    );

    let paused_at = Instant::now();
    let gw2 = gw.clone();
    let waiting = tokio::spawn(async move {
        gw2.get_with(ORDER_LIST, &[("cache-control", "no-cache")])
            .await
    });
    let other = gw.get("/v1/refunds?provider=other&order=1269434").await;
    assert_eq!(other.status, 200, "{}", other.text);
    // `tm` is paused for 2 s (the vendor's Retry-After): an answer well within that, with
    // room for a loaded machine, was not held by `tm`'s pause.
    let took = paused_at.elapsed();
    assert!(
        took < Duration::from_millis(1500),
        "the other instance is not paused ({took:?})"
    );

    let second = waiting.await.unwrap();
    assert_eq!(second.status, 200, "{}", second.text);
    let received = limited.received();
    let gap = received[1].at.duration_since(received[0].at);
    assert!(
        gap >= Duration::from_millis(1900) && gap < Duration::from_millis(3000),
        "paused for {gap:?}"
    );
    limited.assert_clean();
    healthy.assert_clean();
}

/// A vendor asking for an absurd pause (a `Retry-After` as large as a u64 holds, past what
/// any clock can add) pauses its instance for `MAX_RETRY_AFTER` at most: the answer says
/// so, and the gateway keeps answering.
#[tokio::test]
async fn a_vendor_asking_for_an_endless_pause_gets_at_most_an_hour() {
    let mut fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_path("fixtures/ticketmatic/error-429-retry-2.json")).unwrap(),
    )
    .unwrap();
    fixture["response"]["headers"]["retry-after"] = json!(u64::MAX.to_string());
    let path = std::env::temp_dir().join(crate::support::unique("retry-after-max"));
    std::fs::write(&path, fixture.to_string()).unwrap();
    let limited = ReplayVendor::start(&[path.to_str().unwrap()]).await;
    let gw = TestGateway::start(&tm_instance("tm", &limited.base_url(), "")).await;

    let first = gw.get(ORDER_LIST).await;
    assert_problem(&first, 503, "provider_rate_limited");
    let hour = refund_provider::transport::MAX_RETRY_AFTER.as_secs();
    assert_eq!(first.header("retry-after"), Some(hour.to_string().as_str()));
    let providers = gw.get("/v1/providers").await;
    assert_eq!(providers.status, 200, "the gateway still answers");
    let paused = providers.body["data"][0]["traffic"]["rate_limit"]["paused_for_ms"]
        .as_u64()
        .unwrap_or(0);
    assert!(paused > 0 && paused <= hour * 1000, "{}", providers.text);
}

#[tokio::test]
async fn concurrent_lookups_share_one_vendor_call_and_a_create_invalidates() {
    let vendor = ReplayVendor::start(&[
        "fixtures/ticketmatic/get-order-slow.json",
        "fixtures/ticketmatic/get-order.json",
        "fixtures/ticketmatic/add-refund-partial.json",
        "fixtures/ticketmatic/get-order-partially-refunded.json",
    ])
    .await;
    let gw = Arc::new(TestGateway::start(&tm_instance("tm", &vendor.base_url(), "")).await);
    let lookups: Vec<_> = (0..100)
        .map(|_| {
            let gw = gw.clone();
            tokio::spawn(async move { gw.get(ORDER_LIST).await })
        })
        .collect();
    let mut misses = 0;
    for l in lookups {
        let r = l.await.unwrap();
        assert_eq!(r.status, 200, "{}", r.text);
        let status = r.header("cache-status").unwrap_or("").to_string();
        assert!(status.starts_with("refund-gateway; "), "{status}");
        misses += usize::from(status.contains("fwd=miss"));
    }
    assert_eq!(
        vendor.received().len(),
        1,
        "100 concurrent identical lookups, one vendor call"
    );
    assert_eq!(misses, 1);
    assert_eq!(
        gw.get(ORDER_LIST).await.header("cache-status"),
        Some("refund-gateway; hit")
    );

    let create = gw
        .post(
            "/v1/refunds",
            json!({"provider": "tm", "target": {"order": "1269434", "payments": ["125"]}, "amount": {"value": "20.00", "currency": "EUR"}}),
        )
        .await;
    assert_eq!(create.status, 201, "{}", create.text);
    let after = gw.get(ORDER_LIST).await;
    assert_eq!(
        after.header("cache-status"),
        Some("refund-gateway; fwd=miss; stored"),
        "a create makes the next lookup a miss"
    );
    assert_eq!(
        after.body["data"].as_array().map(Vec::len),
        Some(1),
        "{}",
        after.text
    );
    vendor.assert_clean();
}

#[tokio::test]
async fn no_cache_forces_a_live_lookup_and_final_refunds_keep_longer() {
    let vendor =
        ReplayVendor::start_reusable(&["fixtures/ticketmatic/get-order-partially-refunded.json"])
            .await;
    let gw = TestGateway::start(&tm_instance(
        "tm",
        &vendor.base_url(),
        "cache = { ttl = \"50ms\", final_ttl = \"1h\" }",
    ))
    .await;
    assert_eq!(
        gw.get(ORDER_LIST).await.header("cache-status"),
        Some("refund-gateway; fwd=miss; stored")
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Succeeded refunds are final: still cached after the short TTL.
    assert_eq!(
        gw.get(ORDER_LIST).await.header("cache-status"),
        Some("refund-gateway; hit")
    );
    let live = gw
        .get_with(ORDER_LIST, &[("cache-control", "no-cache")])
        .await;
    assert_eq!(
        live.header("cache-status"),
        Some("refund-gateway; fwd=request; stored")
    );
    assert_eq!(vendor.received().len(), 2);
}

/// A stand-in vendor that can be switched down and up, counting what reaches it.
struct SwitchableVendor {
    server: LoopbackServer,
    up: Arc<AtomicBool>,
    hits: Arc<AtomicUsize>,
}

async fn switchable_vendor() -> SwitchableVendor {
    let text = std::fs::read_to_string(repo_path("fixtures/ticketmatic/get-order.json")).unwrap();
    let order: serde_json::Value = serde_json::from_str(&text).unwrap();
    let order = order["response"]["body"].clone();
    let (up, hits) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let (up2, hits2) = (up.clone(), hits.clone());
    let handler: Handler = Arc::new(move |_req| {
        hits2.fetch_add(1, Ordering::SeqCst);
        let response = if up2.load(Ordering::SeqCst) {
            json_response(200, &order)
        } else {
            json_response(503, &json!({"code": 503, "message": "maintenance"}))
        };
        Box::pin(async move { Some(response) })
    });
    let server = LoopbackServer::start("127.0.0.1:0".parse().unwrap(), handler)
        .await
        .unwrap();
    SwitchableVendor { server, up, hits }
}

#[tokio::test]
async fn the_circuit_fails_fast_then_recovers_after_the_cool_down() {
    let vendor = switchable_vendor().await;
    let config = tm_instance(
        "tm",
        &vendor.server.base_url(),
        "circuit = { failures = 3, cool_down = \"5s\" }",
    );
    let gw = TestGateway::start(&config).await;
    let live = [("cache-control", "no-cache")];
    for _ in 0..3 {
        let r = gw.get_with(ORDER_LIST, &live).await;
        assert_eq!(
            (r.status, r.code()),
            (502, "provider_unavailable"),
            "{}",
            r.text
        );
    }
    assert_eq!(vendor.hits.load(Ordering::SeqCst), 3);
    let fast = gw.get_with(ORDER_LIST, &live).await;
    assert_eq!(
        (fast.status, fast.code()),
        (503, "provider_unavailable"),
        "{}",
        fast.text
    );
    assert!(fast.header("retry-after").is_some());
    assert_eq!(
        vendor.hits.load(Ordering::SeqCst),
        3,
        "an open circuit makes no vendor request"
    );
    let providers = gw.get("/v1/providers").await;
    assert_eq!(
        providers.body["data"][0]["traffic"]["circuit"]["state"], "open",
        "{}",
        providers.text
    );

    vendor.up.store(true, Ordering::SeqCst);
    // Past the cool-down (5 s, long enough that the fail-fast request above surely came
    // within it on a loaded machine), the next request is the probe.
    tokio::time::sleep(Duration::from_millis(5100)).await;
    let probe = gw.get_with(ORDER_LIST, &live).await;
    assert_eq!(probe.status, 200, "{}", probe.text);
    let providers = gw.get("/v1/providers").await;
    assert_eq!(
        providers.body["data"][0]["traffic"]["circuit"]["state"],
        "closed"
    );
    assert_eq!(vendor.hits.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn clients_over_their_limit_get_429_and_ratelimit_headers() {
    let vendor = ReplayVendor::start_reusable(&["fixtures/ticketmatic/get-order.json"]).await;
    let config = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nclient_rate_limit = {{ per_second = 0.01, burst = 3 }}\n\n{}",
        tm_instance("tm", &vendor.base_url(), "rate_limit = { per_second = 2, burst = 2 }")
    );
    let gw = TestGateway::start(&config).await;
    // One request per 100 s refills the client's burst of 3: however slow the machine, the
    // five requests come before any refill.
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let r = gw.get(ORDER_LIST).await;
        assert!(
            r.header("ratelimit")
                .is_some_and(|v| v.starts_with("\"client\";r=")),
            "{:?}",
            r.headers
        );
        let policy = r.header("ratelimit-policy").unwrap_or("").to_string();
        assert!(policy.contains("\"client\";q=3;w=300"), "{policy}");
        if r.status == 200 {
            // The provider's own, stricter pace is advertised beside the client's.
            assert!(policy.contains("\"tm\";q=2;w=1"), "{policy}");
        }
        if r.status == 429 {
            assert_eq!(r.code(), "rate_limited");
            assert_eq!(r.header("content-type"), Some("application/problem+json"));
            assert!(r.header("retry-after").is_some());
        }
        statuses.push(r.status);
    }
    assert_eq!(statuses, vec![200, 200, 200, 429, 429]);
}

/// Lookups, however many and however live, leave creates their share of a vendor's pace.
#[tokio::test]
async fn no_cache_lookups_do_not_starve_creates() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let gw = Arc::new(
        TestGateway::start(
            "[providers.tm]\nkind = \"ticketmatic\"\nsandbox = true\naccount = \"demo\"\n\
             rate_limit = { per_second = 10, burst = 1, max_wait = \"2s\" }\n",
        )
        .await,
    );
    let stop = Arc::new(AtomicBool::new(false));
    let (answered, refused) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let spammers: Vec<_> = (0..16)
        .map(|_| {
            let (gw, stop) = (gw.clone(), stop.clone());
            let (answered, refused) = (answered.clone(), refused.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let r = gw
                        .get_with(
                            "/v1/refunds?provider=tm&order=1269434",
                            &[("cache-control", "no-cache")],
                        )
                        .await;
                    match r.status {
                        200 => answered.fetch_add(1, Ordering::SeqCst),
                        _ => refused.fetch_add(1, Ordering::SeqCst),
                    };
                }
            })
        })
        .collect();
    // The lookups fill the vendor's pace before the first create comes.
    let started = std::time::Instant::now();
    while answered.load(Ordering::SeqCst) == 0 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "no lookup answered"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let before = answered.load(Ordering::SeqCst) + refused.load(Ordering::SeqCst);
    for i in 0..5 {
        let started = std::time::Instant::now();
        let created = gw
            .post(
                "/v1/refunds",
                serde_json::json!({"provider": "tm", "target": {"order": "1269434"}, "amount": {"value": "1.00", "currency": "EUR"}}),
            )
            .await;
        let took = started.elapsed();
        // No wall-clock bound (a loaded machine may be slow for other reasons): a create
        // waits for its turn at the pace at most `max_wait` (2 s), and one that waited
        // longer would be refused (503 provider_rate_limited), so a 201 means the lookups
        // left the create its turn in time.
        assert_eq!(
            created.status, 201,
            "create {i} after {took:?}: {}",
            created.text
        );
    }
    // ...while the lookups kept asking for the pace: answered or refused meanwhile.
    let during = answered.load(Ordering::SeqCst) + refused.load(Ordering::SeqCst) - before;
    assert!(during > 0, "the lookups went on during the creates");
    stop.store(true, Ordering::SeqCst);
    for s in spammers {
        let _ = s.await;
    }
}

/// The body of a recorded Ticketmatic answer.
fn recorded_body(fixture: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(repo_path(fixture)).unwrap();
    let exchange: serde_json::Value = serde_json::from_str(&text).unwrap();
    exchange["response"]["body"].clone()
}

/// The value of `refund_gateway_lookup_cache_total` for `instance` and `result`.
async fn lookup_cache_count(gw: &TestGateway, instance: &str, result: &str) -> f64 {
    let scraped = gw.get("/metrics").await;
    assert_eq!(scraped.status, 200, "{}", scraped.text);
    let (instance, result) = (
        format!("instance=\"{instance}\""),
        format!("result=\"{result}\""),
    );
    scraped
        .text
        .lines()
        .filter(|l| l.starts_with("refund_gateway_lookup_cache_total{"))
        .filter(|l| l.contains(&instance) && l.contains(&result))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Live lookups are fresh as of each request, yet a crowd asking the same thing live costs
/// the vendor one call per round trip: a live lookup takes the answer of a call that began
/// after it arrived, never of one already running.
///
/// Deterministic: the vendor holds the first call until the whole crowd has arrived at the
/// gateway (counted as `bypass`, which the gateway does just before it stamps a live
/// lookup's arrival, with no await between), so everyone else came during call 1, and all
/// of them share call 2. The two calls answer differently, so the test sees who got which.
#[tokio::test]
async fn identical_live_lookups_share_calls_that_began_after_they_arrived() {
    // Named for this test only: the metrics recorder is shared by the test process.
    const INSTANCE: &str = "tm-crowd";
    let (unrefunded, refunded) = (
        recorded_body("fixtures/ticketmatic/get-order.json"),
        recorded_body("fixtures/ticketmatic/get-order-partially-refunded.json"),
    );
    let hits = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(tokio::sync::Notify::new());
    let (hits2, release2) = (hits.clone(), release.clone());
    let handler: Handler = Arc::new(move |_req| {
        let call = hits2.fetch_add(1, Ordering::SeqCst) + 1;
        let release = release2.clone();
        let body = if call == 1 {
            unrefunded.clone()
        } else {
            refunded.clone()
        };
        Box::pin(async move {
            if call == 1 {
                release.notified().await;
            }
            Some(json_response(200, &body))
        })
    });
    let vendor = LoopbackServer::start("127.0.0.1:0".parse().unwrap(), handler)
        .await
        .unwrap();
    let gw = Arc::new(TestGateway::start(&tm_instance(INSTANCE, &vendor.base_url(), "")).await);
    let path = format!("/v1/refunds?provider={INSTANCE}&order=1269434");
    let lookup = |gw: &Arc<TestGateway>| {
        let (gw, path) = (gw.clone(), path.clone());
        tokio::spawn(async move { gw.get_with(&path, &[("cache-control", "no-cache")]).await })
    };
    let until = |what: &'static str| {
        let started = Instant::now();
        move || {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "not within 30 s: {what}"
            )
        }
    };

    let first = lookup(&gw);
    let waited = until("the first call reaches the vendor");
    while hits.load(Ordering::SeqCst) == 0 {
        waited();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let crowd: Vec<_> = (0..19).map(|_| lookup(&gw)).collect();
    let waited = until("the crowd arrives at the gateway");
    while lookup_cache_count(&gw, INSTANCE, "bypass").await < 20.0 {
        waited();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    release.notify_one();

    let refunds = |r: &crate::support::ApiResponse| {
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(
            r.header("cache-status"),
            Some("refund-gateway; fwd=request; stored")
        );
        r.body["data"].as_array().map(Vec::len)
    };
    let first = first.await.unwrap();
    assert_eq!(refunds(&first), Some(0), "call 1's answer: {}", first.text);
    for r in crowd {
        let r = r.await.unwrap();
        assert_eq!(
            refunds(&r),
            Some(1),
            "arrived during call 1, answered by call 2: {}",
            r.text
        );
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        2,
        "20 concurrent live lookups: the first call, and one for all who came during it"
    );
    // One after another, each live lookup is its own call: none reuses an earlier answer.
    let live = [("cache-control", "no-cache")];
    gw.get_with(&path, &live).await;
    gw.get_with(&path, &live).await;
    assert_eq!(hits.load(Ordering::SeqCst), 4);
}
