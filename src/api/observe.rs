//! What every request leaves behind for the operator: its request id (taken from a valid
//! incoming `x-request-id`, else a new ULID), echoed in the answer's `x-request-id` header and
//! written into every problem+json body as `request_id`. Applied at the edge (around the
//! router and the request timeout, in `serve.rs`), so every answer the client sees carries
//! the id of *its* request: handler problems, timeouts, and idempotent replays of stored
//! answers alike.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::BodyExt;
use tracing::Instrument;

use crate::metric_handles;
use crate::trace_context::{self, TraceContext};

/// The W3C trace context headers a client may send (passed on to vendors).
static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
static TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// The header a request id travels in, both ways.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest incoming request id kept; a longer one is replaced.
pub const MAX_REQUEST_ID: usize = 128;

/// Problem bodies larger than this are passed on untouched (ours are far smaller).
const MAX_PROBLEM_BODY: usize = 1 << 20;

/// The request's id, in its extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// What the layers inside the router learn about a request, for the edge to report: the
/// route template (`MatchedPath`) and the client's name. Shared, so it survives a timeout.
#[derive(Debug, Default)]
pub struct Observed {
    route: OnceLock<String>,
    client: OnceLock<String>,
}

impl Observed {
    pub fn route(&self) -> Option<&str> {
        self.route.get().map(String::as_str)
    }

    pub fn client(&self) -> Option<&str> {
        self.client.get().map(String::as_str)
    }

    pub fn set_client(&self, name: &str) {
        let _ = self.client.set(name.to_string());
    }
}

/// An incoming id is kept when it is 1 to 128 visible ASCII characters; otherwise (or when
/// there is none) a new ULID is the request's id.
pub fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty() && v.len() <= MAX_REQUEST_ID && v.bytes().all(|b| b.is_ascii_graphic())
        })
        .map(str::to_string)
        .unwrap_or_else(|| ulid::Ulid::new().to_string())
}

/// Notes the request's route template for the edge. Called from inside the router (so the
/// matched route is known) by the one middleware every route has, `auth::authenticate`, or
/// by `note_route` where there is no authentication.
pub fn note_route_of(request: &Request) {
    if let (Some(observed), Some(path)) = (
        request.extensions().get::<Arc<Observed>>(),
        request.extensions().get::<MatchedPath>(),
    ) {
        let _ = observed.route.set(path.as_str().to_string());
    }
}

/// Router middleware noting the route template, for routers without authentication (the
/// separate metrics listener).
pub async fn note_route(request: Request, next: Next) -> Response {
    note_route_of(&request);
    next.run(request).await
}

/// Runs `answer` for the request with its id assigned (request header, extensions, and a
/// tracing span), then stamps the id on the response.
pub async fn observe<F, Fut>(mut request: Request, answer: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let id = request_id(request.headers());
    let value = HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("-"));
    request
        .headers_mut()
        .insert(REQUEST_ID.clone(), value.clone());
    request.extensions_mut().insert(RequestId(id.clone()));
    let observed = Arc::new(Observed::default());
    request.extensions_mut().insert(observed.clone());
    // The request's span (its route, client and status are known once it is answered), and
    // the trace context its vendor calls continue: the client's `traceparent`, or a new trace.
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        route = tracing::field::Empty,
        client = tracing::field::Empty,
        status = tracing::field::Empty,
        otel.kind = "server",
    );
    let incoming = request
        .headers()
        .get(&TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .and_then(|parent| {
            let state = request
                .headers()
                .get(&TRACESTATE)
                .and_then(|v| v.to_str().ok());
            TraceContext::parse(parent, state)
        });
    let context = crate::telemetry::request_context(&span, incoming);
    let mut response =
        trace_context::scope(context, answer(request).instrument(span.clone())).await;
    response.headers_mut().insert(REQUEST_ID.clone(), value);
    let replayed = response.headers().contains_key("idempotent-replayed");
    let route = observed.route().unwrap_or(UNMATCHED);
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    span.record("route", route);
    span.record("client", observed.client().unwrap_or("-"));
    span.record("status", status);
    let method_label = super::metrics::method_label(&method);
    metric_handles::request_answered(
        route,
        method_label,
        response.status().as_str(),
        elapsed.as_secs_f64(),
    );
    if replayed {
        metrics::counter!("refund_gateway_idempotent_replays_total").increment(1);
    }
    // The access line: never the query string or a body (either may carry secrets).
    tracing::info!(
        target: ACCESS_LOG,
        method = %method,
        route,
        status,
        duration_ms = (elapsed.as_secs_f64() * 1_000_000.0).round() / 1000.0,
        client = observed.client().unwrap_or("-"),
        request_id = %id,
        replayed,
        "request"
    );
    stamp_problem(response, &id).await
}

/// The tracing target of access lines (filter with `RUST_LOG=refund_gateway::access=info`).
pub const ACCESS_LOG: &str = "refund_gateway::access";

/// The route of a request no route matched (a 404): a fixed label, never the path.
pub const UNMATCHED: &str = "unmatched";

fn is_problem(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"))
}

/// Writes `request_id` into a problem+json body (whatever rendered it: a handler, the
/// timeout, or a stored answer replayed).
async fn stamp_problem(response: Response, id: &str) -> Response {
    if !is_problem(response.headers()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match http_body_util::Limited::new(body, MAX_PROBLEM_BODY)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            tracing::warn!(error = %e, "problem body could not be read");
            return Response::from_parts(parts, Body::empty());
        }
    };
    // Appended as the last member, so the body keeps its members' order and form.
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(problem)) if !problem.contains_key("request_id") => {
            let text = String::from_utf8_lossy(&bytes);
            let open = text.trim_end().strip_suffix('}').unwrap_or_default();
            let separator = if problem.is_empty() { "" } else { "," };
            let id = serde_json::Value::String(id.into());
            parts.headers.remove(header::CONTENT_LENGTH);
            Body::from(format!("{open}{separator}\"request_id\":{id}}}"))
        }
        _ => Body::from(bytes),
    };
    Response::from_parts(parts, body)
}
