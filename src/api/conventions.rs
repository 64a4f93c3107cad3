//! HTTP conventions from `tower-http`, around the whole router: response compression and
//! CORS (with its preflight `OPTIONS`).
//!
//! Compression: JSON answers of 1 KiB or more (the OpenAPI document, listings, batch items)
//! are gzip- or brotli-encoded when the client accepts it; small answers are not worth it,
//! and problem+json bodies are left plain (the edge writes the request id into them).
//!
//! CORS: off unless `[server] cors_origins` lists origins; then those origins (only) may
//! call with the API's own request headers and read its response headers, and preflight
//! `OPTIONS` requests are answered here, before authentication (browsers send no
//! credentials with a preflight).

use std::time::Duration;

use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::Router;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::CorsOrigin;

/// Answers smaller than this are sent as they are.
const COMPRESS_FROM: u16 = 1024;

/// How long a browser may cache a preflight answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// `router` with compression, and CORS when origins are configured.
pub fn apply(router: Router, cors_origins: &[CorsOrigin]) -> Router {
    let compression = CompressionLayer::new().gzip(true).br(true).compress_when(
        SizeAbove::new(COMPRESS_FROM)
            .and(NotForContentType::const_new("application/problem+json"))
            .and(NotForContentType::GRPC)
            .and(NotForContentType::SSE),
    );
    let router = router.layer(compression);
    match cors(cors_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    }
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
