//! How providers talk to vendors. Providers describe a request and read the response; the
//! gateway's `Transport` sends it. Keeping I/O behind this trait lets the gateway wrap every
//! vendor call in the same layers (rate limits, timeouts, circuit breaking, logging)
//! without any vendor code knowing, and lets tests count what a vendor really received.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};

/// A vendor request, fully built and signed.
#[derive(Clone)]
pub struct VendorRequest {
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
}

impl VendorRequest {
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        VendorRequest {
            method,
            url: url.into(),
            headers: HeaderMap::new(),
            body: None,
        }
    }

    /// Sets a header. Values that carry secrets should be marked sensitive by the caller
    /// (`header_sensitive`) so that they never show in Debug output or logs.
    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(HeaderName::from_static(name), v);
        }
        self
    }

    pub fn header_sensitive(mut self, name: &'static str, value: &str) -> Self {
        if let Ok(mut v) = HeaderValue::from_str(value) {
            v.set_sensitive(true);
            self.headers.insert(HeaderName::from_static(name), v);
        }
        self
    }

    pub fn json_body(mut self, body: &serde_json::Value) -> Self {
        self.body = Some(Bytes::from(body.to_string()));
        self.header("content-type", "application/json")
    }

    /// A create is not safe to resend; a lookup is. Transports use this to decide retries.
    pub fn is_idempotent(&self) -> bool {
        self.method == Method::GET || self.method == Method::HEAD
    }
}

impl std::fmt::Debug for VendorRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `HeaderMap`'s Debug prints `Sensitive` for values marked so.
        f.debug_struct("VendorRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &self.headers)
            .field("body_bytes", &self.body.as_ref().map(Bytes::len))
            .finish()
    }
}

/// The longest pause a vendor's `Retry-After` is taken for. Longer asks (a vendor's bug, or
/// garbage) pause for this long; the instance's circuit and operators handle the rest.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// The vendor's answer, whatever its status: providers decide what a status means.
#[derive(Debug, Clone)]
pub struct VendorResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl VendorResponse {
    /// An answer with no headers: for sandboxes and tests.
    pub fn new(status: u16, body: impl Into<Bytes>) -> Self {
        VendorResponse {
            status,
            headers: HeaderMap::new(),
            body: body.into(),
        }
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `Retry-After` in seconds, where the vendor sent one, at most `MAX_RETRY_AFTER`: a
    /// vendor's number pauses the instance on every gateway, so a huge one (or one past
    /// what a clock can add) must not stop it for years, nor overflow an instant.
    pub fn retry_after(&self) -> Option<Duration> {
        self.headers
            .get(http::header::RETRY_AFTER)?
            .to_str()
            .ok()?
            .trim()
            .parse::<u64>()
            .ok()
            .map(|seconds| Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
    }
}

/// Why a request got no response. The variants say whether the vendor may have seen it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    /// The connection was never made: the vendor cannot have acted.
    #[error("could not connect to the vendor: {0}")]
    Connect(String),
    /// No complete answer in time. If `sent`, the vendor may have acted.
    #[error("the vendor did not answer within {after:?}")]
    Timeout { after: Duration, sent: bool },
    /// The connection broke after the request was sent (reset, truncated response).
    #[error("the connection to the vendor broke: {0}")]
    Broken(String),
    /// Our own outbound limiter refused to wait any longer: nothing was sent.
    #[error("outbound rate limit for this provider: retry after {retry_after:?}")]
    Throttled { retry_after: Duration },
    /// The provider's circuit is open after repeated failures: nothing was sent.
    #[error("the provider is failing; calls are paused for {retry_after:?}")]
    CircuitOpen { retry_after: Duration },
}

#[async_trait]
pub trait Transport: Send + Sync {
    async fn send(&self, request: VendorRequest) -> Result<VendorResponse, TransportError>;
}
