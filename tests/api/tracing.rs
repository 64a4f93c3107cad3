//! W3C trace context over real HTTP: a client's `traceparent` reaches the replay vendor
//! (same trace, a span id of the gateway's own), a request without one still sends vendors
//! a valid `traceparent` of a new trace, and with `[tracing] otlp_endpoint` the real binary
//! exports its spans to a loopback OTLP/HTTP receiver, joined to the client's trace.

use std::sync::{Arc, Mutex};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

use crate::support::process::{write_config, GatewayProcess};
use crate::support::{secret_file, temp_database, ReplayVendor, TestGateway};

const CLIENT_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_PARENT: &str = "00f067aa0ba902b7";

fn tm_instance(base_url: &str) -> String {
    format!(
        "[providers.tm]\nkind = \"ticketmatic\"\nbase_url = \"{base_url}\"\naccount = \"demo\"\n\
         access_key = {{ file = \"{}\" }}\nsecret_key = {{ file = \"{}\" }}\n",
        secret_file("access"),
        secret_file("secret")
    )
}

/// `traceparent` split into (version, trace id, parent id, flags), each checked for form.
fn parts(traceparent: &str) -> (String, String, String, String) {
    let p: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(p.len(), 4, "{traceparent}");
    let hex = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            && s.bytes().any(|b| b != b'0')
    };
    assert!(
        p[0] == "00" && hex(p[1], 32) && hex(p[2], 16),
        "{traceparent}"
    );
    assert!(p[3].len() == 2, "{traceparent}");
    (p[0].into(), p[1].into(), p[2].into(), p[3].into())
}

#[tokio::test]
async fn a_client_traceparent_reaches_the_vendor() {
    let vendor = ReplayVendor::start(&["fixtures/ticketmatic/get-order.json"]).await;
    let gw = TestGateway::start(&tm_instance(&vendor.base_url())).await;
    let r = gw
        .get_with(
            "/v1/refunds?provider=tm&order=1269434",
            &[
                (
                    "traceparent",
                    &format!("00-{CLIENT_TRACE}-{CLIENT_PARENT}-01"),
                ),
                ("tracestate", "congo=t61rcWkgMzE"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let received = vendor.received();
    assert_eq!(received.len(), 1);
    let headers = &received[0].headers;
    let (_, trace, parent, flags) = parts(&headers["traceparent"]);
    assert_eq!(trace, CLIENT_TRACE);
    assert_ne!(
        parent, CLIENT_PARENT,
        "the vendor call is a span of its own"
    );
    assert_eq!(flags, "01");
    assert_eq!(headers["tracestate"], "congo=t61rcWkgMzE");
    vendor.assert_clean();
}

#[tokio::test]
async fn without_a_traceparent_vendors_get_a_new_trace() {
    let vendor = ReplayVendor::start_reusable(&["fixtures/ticketmatic/get-order.json"]).await;
    let gw = TestGateway::start(&tm_instance(&vendor.base_url())).await;
    for traceparent in [None, None, Some("00-not-a-trace-01")] {
        let mut headers = vec![("cache-control", "no-cache")];
        if let Some(t) = traceparent {
            headers.push(("traceparent", t));
        }
        let r = gw
            .get_with("/v1/refunds?provider=tm&order=1269434", &headers)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let traces: Vec<String> = vendor
        .received()
        .iter()
        .map(|r| parts(&r.headers["traceparent"]).1)
        .collect();
    assert_eq!(traces.len(), 3);
    assert!(
        traces[0] != traces[1] && traces[1] != traces[2] && traces[0] != traces[2],
        "each request is a trace of its own: {traces:?}"
    );
    assert!(vendor
        .received()
        .iter()
        .all(|r| !r.headers.contains_key("tracestate")));
}

/// A loopback OTLP/HTTP receiver: every protobuf POST to `/v1/traces`, decoded.
async fn otlp_receiver() -> (String, Arc<Mutex<Vec<ExportTraceServiceRequest>>>) {
    use axum::routing::post;
    let got = Arc::new(Mutex::new(Vec::new()));
    let store = got.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| async move {
                assert_eq!(headers["content-type"], "application/x-protobuf");
                let request =
                    ExportTraceServiceRequest::decode(body).expect("an OTLP trace export");
                store.lock().unwrap().push(request);
                ""
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), got)
}

/// Every span the receiver got, across its export requests.
fn spans_of(
    exported: &Mutex<Vec<ExportTraceServiceRequest>>,
) -> Vec<opentelemetry_proto::tonic::trace::v1::Span> {
    exported
        .lock()
        .unwrap()
        .iter()
        .flat_map(|r| &r.resource_spans)
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| s.spans.clone())
        .collect()
}

#[tokio::test]
async fn spans_are_exported_over_otlp_in_the_clients_trace() {
    let (endpoint, exported) = otlp_receiver().await;
    let config = write_config(
        "otlp",
        &format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[storage]\nurl = \"{}\"\n\
             [tracing]\notlp_endpoint = \"{endpoint}\"\n\
             [providers.tm]\nkind = \"ticketmatic\"\nsandbox = true\naccount = \"demo\"\n",
            temp_database()
        ),
    );
    let gateway = GatewayProcess::spawn(&config);
    let http = gateway.client().await;
    let r = http
        .send(
            http.http()
                .get(http.url("/v1/refunds?provider=tm&order=1269434"))
                .header(
                    "traceparent",
                    format!("00-{CLIENT_TRACE}-{CLIENT_PARENT}-01"),
                ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A graceful stop exports what the batch processor still holds.
    tokio::task::spawn_blocking(move || gateway.terminate())
        .await
        .unwrap();

    let spans = spans_of(&exported);
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    // (The checked client's fetch of the document is a request of its own trace.)
    let request = spans
        .iter()
        .find(|s| s.name == "request" && hex(&s.trace_id) == CLIENT_TRACE)
        .unwrap_or_else(|| panic!("a request span: {spans:?}"));
    assert_eq!(hex(&request.trace_id), CLIENT_TRACE);
    assert_eq!(hex(&request.parent_span_id), CLIENT_PARENT);
    let call = spans
        .iter()
        .find(|s| s.name == "vendor_call")
        .unwrap_or_else(|| panic!("a vendor_call span: {spans:?}"));
    assert_eq!(hex(&call.trace_id), CLIENT_TRACE);
    assert_eq!(call.parent_span_id, request.span_id);
    let attribute = |name: &str| {
        call.attributes
            .iter()
            .find(|a| a.key == name)
            .and_then(|a| a.value.as_ref())
            .map(|v| format!("{:?}", v.value))
            .unwrap_or_default()
    };
    assert!(attribute("instance").contains("\"tm\""), "{call:?}");
    assert!(attribute("path").contains("/demo/orders/{id}"), "{call:?}");
    assert!(attribute("status").contains("200"), "{call:?}");
}

/// A call that waits its turn under the outbound limit: the wait is an `outbound_wait` span
/// and the `vendor_call` span starts only when it ends, so the call's span times the vendor
/// alone (as `refund_gateway_vendor_call_duration_seconds` does).
#[tokio::test]
async fn the_wait_for_an_outbound_turn_is_a_span_apart_from_the_vendor_call() {
    let (endpoint, exported) = otlp_receiver().await;
    let config = write_config(
        "otlp-wait",
        &format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[storage]\nurl = \"{}\"\n\
             [tracing]\notlp_endpoint = \"{endpoint}\"\n\
             [providers.tm]\nkind = \"ticketmatic\"\nsandbox = true\naccount = \"demo\"\n\
             rate_limit = {{ per_second = 2, burst = 1, max_wait = \"10s\" }}\n",
            temp_database()
        ),
    );
    let gateway = GatewayProcess::spawn(&config);
    let http = gateway.client().await;
    for _ in 0..2 {
        let r = http
            .send(
                http.http()
                    .get(http.url("/v1/refunds?provider=tm&order=1269434"))
                    .header("cache-control", "no-cache")
                    .header(
                        "traceparent",
                        format!("00-{CLIENT_TRACE}-{CLIENT_PARENT}-01"),
                    ),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    tokio::task::spawn_blocking(move || gateway.terminate())
        .await
        .unwrap();

    let spans = spans_of(&exported);
    let named = |name: &str| -> Vec<_> { spans.iter().filter(|s| s.name == name).collect() };
    let (waits, calls) = (named("outbound_wait"), named("vendor_call"));
    assert_eq!((waits.len(), calls.len()), (2, 2), "{spans:?}");
    let ms = |nanos: u64| nanos as f64 / 1e6;
    // Each request's wait and call are siblings under its request span.
    let mut pairs = Vec::new();
    for call in &calls {
        let wait = waits
            .iter()
            .find(|w| w.parent_span_id == call.parent_span_id)
            .unwrap_or_else(|| panic!("a wait beside {call:?}"));
        assert!(
            call.start_time_unix_nano >= wait.end_time_unix_nano,
            "the call starts after its wait: {wait:?} {call:?}"
        );
        pairs.push((
            ms(wait.end_time_unix_nano - wait.start_time_unix_nano),
            ms(call.end_time_unix_nano - call.start_time_unix_nano),
        ));
    }
    // Two lookups at one call per half second (or slower: lookups get a share of it): the
    // second waited, and its call's span does not hold that wait (the sandbox answers in
    // far less than a turn of the pace).
    let (waited, called) = pairs
        .into_iter()
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .unwrap();
    assert!(waited >= 300.0, "the second call waited {waited} ms");
    assert!(called < waited, "call {called} ms, wait {waited} ms");
}
