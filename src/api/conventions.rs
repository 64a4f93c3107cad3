//! HTTP conventions from `tower-http`, around the whole router: response compression and
//! CORS (with its preflight `OPTIONS`).
//!
//! Compression: JSON answers of 1 KiB or more (the OpenAPI document, listings, batch items)
//! are gzip- or brotli-encoded when the client accepts it; small answers are not worth it,
//! and problem+json bodies are left plain (the edge writes the request id into them). A
//! request whose `Accept-Encoding` names neither encoding bypasses the compression layer
//! altogether (`WhenAccepted`): its answer body is sized for the largest encoder's state,
//! and moving that through the layers cost every answer a measurable share of the cached
//! lookups' throughput, compressed or not.
//!
//! CORS: off unless `[server] cors_origins` lists origins; then those origins (only) may
//! call with the API's own request headers and read its response headers, and preflight
//! `OPTIONS` requests are answered here, before authentication (browsers send no
//! credentials with a preflight).

use std::convert::Infallible;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method};
use axum::response::Response;
use axum::Router;
use futures_util::future::{BoxFuture, Either, FutureExt, TryFutureExt};
use tower::{Service, ServiceExt};
use tower_http::compression::predicate::{And, NotForContentType, Predicate, SizeAbove};
use tower_http::compression::{Compression, CompressionLayer};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::CorsOrigin;

/// Answers smaller than this are sent as they are.
const COMPRESS_FROM: u16 = 1024;

/// How long a browser may cache a preflight answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// `router` with compression, and CORS when origins are configured.
pub fn apply(router: Router, cors_origins: &[CorsOrigin]) -> Router {
    let router = router.layer(tower::layer::layer_fn(WhenAccepted::new));
    match cors(cors_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// What is compressed: answers of 1 KiB or more, except problems, gRPC and event streams.
type Compressible =
    And<And<And<SizeAbove, NotForContentType>, NotForContentType>, NotForContentType>;

fn compressible() -> Compressible {
    SizeAbove::new(COMPRESS_FROM)
        .and(NotForContentType::const_new("application/problem+json"))
        .and(NotForContentType::GRPC)
        .and(NotForContentType::SSE)
}

/// A route's service, reached through `tower-http`'s compression only when the request
/// accepts gzip or brotli (which then negotiates, `q=0` included).
#[derive(Clone)]
struct WhenAccepted<S> {
    plain: S,
    compressed: Compression<S, Compressible>,
}

impl<S: Clone> WhenAccepted<S> {
    fn new(inner: S) -> Self {
        let compressed = CompressionLayer::new()
            .gzip(true)
            .br(true)
            .compress_when(compressible());
        WhenAccepted {
            compressed: tower::Layer::layer(&compressed, inner.clone()),
            plain: inner,
        }
    }
}

impl<S> Service<Request> for WhenAccepted<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<
        futures_util::future::MapOk<S::Future, fn(Response) -> Response>,
        BoxFuture<'static, Result<Response, Infallible>>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.plain.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if !accepts_compression(request.headers()) {
            let plain = self.plain.call(request);
            return Either::Left(plain.map_ok(vary as fn(Response) -> Response));
        }
        let compressed = self.compressed.clone().oneshot(request);
        Either::Right(
            compressed
                .map(|answer| answer.map(|r| r.map(Body::new)))
                .boxed(),
        )
    }
}

/// `Vary: Accept-Encoding` on an answer sent plain because the request accepted no
/// encoding, as on every answer the compression layer sees: a shared cache must not hand
/// it to a client that asked otherwise, nor a compressed one to this client.
fn vary(mut response: Response) -> Response {
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// Whether `Accept-Encoding` names an encoding this gateway produces.
fn accepts_compression(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let name = coding.split(';').next().unwrap_or_default().trim();
            ["gzip", "br", "*"]
                .iter()
                .any(|ours| name.eq_ignore_ascii_case(ours))
        })
}

fn cors(origins: &[CorsOrigin]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.as_str()).ok())
        .collect();
    let name = HeaderName::from_static;
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::CACHE_CONTROL,
                name("idempotency-key"),
                name("x-request-id"),
                name("traceparent"),
                name("tracestate"),
            ])
            .expose_headers([
                header::RETRY_AFTER,
                name("x-request-id"),
                name("idempotent-replayed"),
                name("ratelimit"),
                name("ratelimit-policy"),
                name("cache-status"),
            ])
            .max_age(PREFLIGHT_MAX_AGE),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepts(value: &str) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        accepts_compression(&headers)
    }

    #[test]
    fn only_requests_naming_gzip_brotli_or_any_go_through_compression() {
        assert!(accepts("gzip"));
        assert!(accepts("deflate, BR;q=0.5"));
        assert!(accepts("identity, *;q=0.1"));
        assert!(!accepts("identity"));
        assert!(!accepts("deflate, zstd"));
        assert!(!accepts_compression(&HeaderMap::new()));
    }
}
