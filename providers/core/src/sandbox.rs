//! A local stand-in for a vendor, served on loopback by `serve` for `sandbox = true`
//! instances. It is stateful (a refund made is then found, and a second one beyond what is
//! refundable is refused) and seeded from the same recorded fixtures the contract tests use.

use bytes::Bytes;
use http::{HeaderMap, Method};

use crate::transport::VendorResponse;

/// A request as the sandbox's HTTP server received it.
#[derive(Debug, Clone)]
pub struct SandboxRequest {
    pub method: Method,
    /// Path relative to the sandbox's base path (e.g. `/demo/orders/1269434/refunds`).
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl SandboxRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// A query parameter, percent-decoding left to the caller (sandbox ids are plain).
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.as_deref()?.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == name).then(|| v.to_string())
        })
    }
}

pub trait Sandbox: Send + Sync {
    fn handle(&self, request: &SandboxRequest) -> VendorResponse;
}

/// A JSON answer, for sandboxes to build responses with.
pub fn json_response(status: u16, body: &serde_json::Value) -> VendorResponse {
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    VendorResponse {
        status,
        headers,
        body: Bytes::from(body.to_string()),
    }
}
