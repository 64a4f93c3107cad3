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

impl<T: Sandbox + ?Sized> Sandbox for std::sync::Arc<T> {
    fn handle(&self, request: &SandboxRequest) -> VendorResponse {
        (**self).handle(request)
    }
}

/// A `Transport` that hands each request straight to a sandbox, without sockets: for
/// driving a provider end to end against its own sandbox in tests. It keeps the method and
/// path of every request it was sent.
pub struct InProcessTransport<S> {
    base: String,
    sandbox: S,
    sent: std::sync::Mutex<Vec<(Method, String)>>,
}

impl<S: Sandbox> InProcessTransport<S> {
    /// `base` is the base URL the provider was built with; requests elsewhere are refused.
    pub fn new(base: &str, sandbox: S) -> Self {
        InProcessTransport {
            base: base.trim_end_matches('/').to_string(),
            sandbox,
            sent: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub fn sandbox(&self) -> &S {
        &self.sandbox
    }

    /// Method and path of every request sent so far.
    pub fn sent(&self) -> Vec<(Method, String)> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// How many requests with `method` were sent.
    pub fn sent_with(&self, method: &Method) -> usize {
        self.sent().iter().filter(|(m, _)| m == method).count()
    }
}

#[async_trait::async_trait]
impl<S: Sandbox> crate::transport::Transport for InProcessTransport<S> {
    async fn send(
        &self,
        request: crate::transport::VendorRequest,
    ) -> Result<VendorResponse, crate::transport::TransportError> {
        let rest = request.url.strip_prefix(&self.base).ok_or_else(|| {
            crate::transport::TransportError::Connect(format!("{} is not the sandbox", request.url))
        })?;
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (rest.to_string(), None),
        };
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((request.method.clone(), path.clone()));
        Ok(self.sandbox.handle(&SandboxRequest {
            method: request.method,
            path,
            query,
            headers: request.headers,
            body: request.body.unwrap_or_default(),
        }))
    }
}
