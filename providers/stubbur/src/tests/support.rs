//! Test-only transports: one that hands requests to the sandbox's `handle`, one that
//! replays fixtures in order and checks each request against its recording.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use refund_provider::fixture::{Exchange, Fault, HeaderExpectation};
use refund_provider::http::{HeaderMap, HeaderName, HeaderValue};
use refund_provider::sandbox::InProcessTransport;
use refund_provider::{
    async_trait, BuildContext, ConfigError, InstanceName, Provider, Transport, TransportError,
    Vendor, VendorRequest, VendorResponse,
};

use crate::sandbox::StubburSandbox;
use crate::{Stubbur, StubburConfig, StubburProvider};

pub const BASE: &str = "http://stubbur.test";

/// Builds a provider on `transport`; `sandbox` as a sandbox instance would be.
pub fn provider(
    config: serde_json::Value,
    sandbox: bool,
    transport: Arc<dyn Transport>,
) -> Arc<dyn Provider> {
    let config: StubburConfig = serde_json::from_value(config).unwrap();
    Stubbur::build(config, context(sandbox, transport)).unwrap()
}

/// The concrete provider, for tests of its Debug output.
pub fn concrete(config: serde_json::Value, sandbox: bool) -> Result<StubburProvider, ConfigError> {
    let config: StubburConfig = serde_json::from_value(config).unwrap();
    StubburProvider::new(&config, &context(sandbox, sandbox_transport()))
}

fn context(sandbox: bool, transport: Arc<dyn Transport>) -> BuildContext {
    BuildContext {
        instance: InstanceName::new("stubbur-test").unwrap(),
        base_url: format!("{BASE}/"),
        sandbox,
        transport,
    }
}

/// A `{ file = .. }` secret reference holding `value`.
pub fn secret_file(value: &str) -> serde_json::Value {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let path = std::env::temp_dir().join(format!("stubbur-test-{}-{n}", std::process::id()));
    std::fs::write(&path, value).unwrap();
    serde_json::json!({ "file": path })
}

fn relative(url: &str) -> (String, Option<String>) {
    let rest = url.strip_prefix(BASE).unwrap_or(url);
    match rest.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (rest.to_string(), None),
    }
}

/// Calls the sandbox directly, keeping what it was sent.
pub type SandboxTransport = InProcessTransport<Arc<StubburSandbox>>;

pub fn sandbox_transport() -> Arc<SandboxTransport> {
    Arc::new(InProcessTransport::new(
        BASE,
        Arc::new(StubburSandbox::seeded()),
    ))
}

/// The paths the sandbox was sent, in order.
pub fn paths(transport: &SandboxTransport) -> Vec<String> {
    transport.sent().into_iter().map(|(_, path)| path).collect()
}

/// Answers with the recorded responses of `names`, in order, after checking that each
/// request is the recorded one (method, path, headers, JSON body with `{{any}}`).
pub struct FixtureTransport {
    queue: Mutex<VecDeque<(String, Exchange)>>,
}

impl FixtureTransport {
    pub fn new(names: &[&str]) -> Arc<Self> {
        let queue = names
            .iter()
            .map(|n| {
                let path = format!(
                    "{}/../../fixtures/stubbur/{n}.json",
                    env!("CARGO_MANIFEST_DIR")
                );
                let text = std::fs::read_to_string(&path).unwrap();
                (n.to_string(), Exchange::parse(n, &text))
            })
            .collect();
        Arc::new(FixtureTransport {
            queue: Mutex::new(queue),
        })
    }

    pub fn assert_all_used(&self) {
        let left: Vec<String> = self
            .queue
            .lock()
            .unwrap()
            .iter()
            .map(|(n, _)| n.clone())
            .collect();
        assert!(left.is_empty(), "fixtures never requested: {left:?}");
    }
}

fn body_matches(expected: &serde_json::Value, actual: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (expected, actual) {
        (Value::String(s), _) if s == "{{any}}" => true,
        (Value::Object(e), Value::Object(a)) => {
            e.len() == a.len()
                && e.iter()
                    .all(|(k, v)| a.get(k).is_some_and(|av| body_matches(v, av)))
        }
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(x, y)| body_matches(x, y))
        }
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (x, y) => x == y,
    }
}

#[async_trait]
impl Transport for FixtureTransport {
    async fn send(&self, request: VendorRequest) -> Result<VendorResponse, TransportError> {
        let (name, exchange) = self
            .queue
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| panic!("unexpected request {} {}", request.method, request.url));
        let expected = &exchange.request;
        let (path, _) = relative(&request.url);
        assert_eq!(request.method.as_str(), expected.method, "{name}: method");
        assert_eq!(path, expected.path, "{name}: path");
        for (header, expectation) in &expected.headers {
            let got = request
                .headers
                .get(header.as_str())
                .and_then(|v| v.to_str().ok());
            match expectation {
                HeaderExpectation::Exact(v) => {
                    assert_eq!(got, Some(v.as_str()), "{name}: {header}")
                }
                // No regex crate here: the gateway's replay checks patterns; presence suffices.
                HeaderExpectation::Matches { .. } => assert!(got.is_some(), "{name}: {header}"),
            }
        }
        if let Some(body) = &expected.body {
            let sent: serde_json::Value =
                serde_json::from_slice(request.body.as_deref().unwrap_or_default()).unwrap();
            assert!(body_matches(body, &sent), "{name}: body {sent} != {body}");
        }
        let recorded = exchange.response;
        if recorded.fault == Some(Fault::Reset) {
            return Err(TransportError::Broken("connection reset by peer".into()));
        }
        let mut headers = HeaderMap::new();
        for (k, v) in &recorded.headers {
            headers.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        let body = match (recorded.body_text, recorded.body) {
            (Some(text), _) => text.into_bytes(),
            (None, Some(json)) => json.to_string().into_bytes(),
            (None, None) => Vec::new(),
        };
        Ok(VendorResponse {
            status: recorded.status,
            headers,
            body: body.into(),
        })
    }
}
