//! Prometheus metrics: the process-wide recorder (the `metrics` facade, which the domain and
//! the traffic layers record into as well) and `GET /metrics`, its text exposition. The
//! exporter runs no listener of its own: the gateway serves the text.

use std::sync::OnceLock;

use axum::http::{header, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Histogram buckets, in seconds (HTTP answers and vendor calls alike).
const BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Ledger queries take well under a millisecond on SQLite: finer buckets.
const LEDGER_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The recorder's handle; the first call installs the recorder for the whole process (a
/// process with several gateways, as in tests, shares it).
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(BUCKETS)
            .expect("histogram buckets are valid")
            .set_buckets_for_metric(
                Matcher::Full("refund_gateway_ledger_query_duration_seconds".into()),
                LEDGER_BUCKETS,
            )
            .expect("histogram buckets are valid")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics stays empty");
        } else {
            crate::metric_handles::recording_started();
        }
        describe();
        zero_series();
        handle
    })
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        "refund_gateway_http_requests_total",
        "Answered requests, by route template, method and status"
    );
    describe_histogram!(
        "refund_gateway_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer a request, by route template and method"
    );
    describe_counter!(
        "refund_gateway_idempotent_replays_total",
        "Answers replayed from a stored Idempotency-Key answer"
    );
    describe_counter!(
        "refund_gateway_vendor_calls_total",
        "Vendor calls sent, by instance and result (status class or error kind)"
    );
    describe_histogram!(
        "refund_gateway_vendor_call_duration_seconds",
        Unit::Seconds,
        "Vendor call duration, by instance"
    );
    describe_counter!(
        "refund_gateway_outbound_limit_rejections_total",
        "Vendor calls refused by the instance's outbound limit (nothing sent)"
    );
    describe_gauge!(
        "refund_gateway_circuit_open",
        "1 while the instance's circuit is open (calls refused), else 0"
    );
    describe_counter!(
        "refund_gateway_lookup_cache_total",
        "Vendor lookups, by instance and cache result (hit, miss, bypass)"
    );
    describe_counter!(
        "refund_gateway_refunds_settled_total",
        "Ledger refunds settled (status changed), by instance and new status"
    );
    describe_gauge!(
        "refund_gateway_unknown_outcomes_open",
        "Refunds whose vendor outcome is unknown now, by instance (updated every reconciler pass)"
    );
    describe_counter!(
        "refund_gateway_reconcile_settlements_total",
        "Reconciler attempts on unknown outcomes, by result (matched, not_applied, deferred)"
    );
    describe_counter!(
        "refund_gateway_batch_items_total",
        "Batch items worked, by what they came to (refund status, deferred, refused, create_failed)"
    );
    describe_gauge!(
        "refund_gateway_batch_items_in_flight",
        "Batch items being worked now, by instance"
    );
    describe_gauge!(
        "refund_gateway_outbound_pace_per_second",
        "The pace vendor calls go out at, by instance (0 during a vendor-requested pause)"
    );
    describe_histogram!(
        "refund_gateway_outbound_limit_wait_seconds",
        Unit::Seconds,
        "Time a vendor call waited for its turn under the outbound limit, by instance"
    );
    describe_counter!(
        "refund_gateway_client_limit_rejections_total",
        "Client requests refused with 429 by the per-client limit"
    );
    describe_counter!(
        "refund_gateway_idempotency_conflicts_total",
        "Idempotency-Key conflicts, by kind (reused with another body, in_flight)"
    );
    describe_histogram!(
        "refund_gateway_ledger_query_duration_seconds",
        Unit::Seconds,
        "Ledger query duration, by operation (settle, heartbeat, unknown_open)"
    );
    describe_gauge!(
        "refund_gateway_coordination_available",
        "With [coordination]: 1 while Redis answers (limits shared), 0 while limits fall back"
    );
    describe_counter!(
        "refund_gateway_coordination_late_turns_total",
        "Shared turns given up because this gateway woke too late to take them, by instance"
    );
    describe_counter!(
        "refund_gateway_coordination_fallbacks_total",
        "Acquires that could not use Redis and fell back, by limit (outbound, client)"
    );
}

/// Counters whose label values are a fixed few start at 0, so a dashboard's rate shows 0
/// rather than "no data" before the first event.
fn zero_series() {
    for result in ["matched", "not_applied", "deferred"] {
        metrics::counter!("refund_gateway_reconcile_settlements_total", "result" => result)
            .increment(0);
    }
    for kind in ["reused", "in_flight"] {
        metrics::counter!("refund_gateway_idempotency_conflicts_total", "kind" => kind)
            .increment(0);
    }
    metrics::counter!("refund_gateway_client_limit_rejections_total").increment(0);
    metrics::counter!("refund_gateway_idempotent_replays_total").increment(0);
}

/// The `method` label: the standard methods, anything else `other` (labels stay bounded).
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Prometheus metrics of this gateway process, in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "meta", operation_id = "getMetrics",
    summary = "Prometheus metrics",
    responses((status = 200, body = String, content_type = "text/plain", description = "Prometheus text exposition format (version 0.0.4)")))]
pub async fn serve() -> Response {
    let mut response = handle().render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}
