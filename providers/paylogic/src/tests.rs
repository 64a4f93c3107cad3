//! Provider-level tests without sockets: the provider driven against its own sandbox
//! through an in-crate transport, and against recorded fixtures and scripted answers.

use super::*;
use std::sync::Mutex;

use refund_provider::fixture::{Exchange, Fault};
use refund_provider::http::{HeaderMap, HeaderValue};
use refund_provider::{
    RefundId, RefundStatus, SandboxRequest, SecretRef, Transport, TransportError, VendorRequest,
    VendorResponse,
};
use serde_json::json;

use crate::config::AuthConfig;
use crate::sandbox::PaylogicSandbox;

type Handler = Box<dyn Fn(&VendorRequest) -> Result<VendorResponse, TransportError> + Send + Sync>;

/// Sends every request to a handler and remembers the URLs requested.
struct FnTransport {
    handler: Handler,
    urls: Mutex<Vec<String>>,
}

#[async_trait]
impl Transport for FnTransport {
    async fn send(&self, request: VendorRequest) -> Result<VendorResponse, TransportError> {
        self.urls.lock().unwrap().push(request.url.clone());
        (self.handler)(&request)
    }
}

impl FnTransport {
    fn new(
        handler: impl Fn(&VendorRequest) -> Result<VendorResponse, TransportError>
            + Send
            + Sync
            + 'static,
    ) -> Arc<Self> {
        Arc::new(FnTransport {
            handler: Box::new(handler),
            urls: Mutex::new(Vec::new()),
        })
    }

    fn urls(&self) -> Vec<String> {
        self.urls.lock().unwrap().clone()
    }

    /// The provider's own sandbox, as the gateway would serve it.
    fn sandbox() -> Arc<Self> {
        let sandbox = PaylogicSandbox::seeded();
        Self::new(move |r| Ok(sandbox.handle(&to_sandbox(r))))
    }

    /// Answers with the recorded response of a fixture, checking path, query and the
    /// recorded exact headers first.
    fn fixture(name: &'static str, text: &'static str) -> Arc<Self> {
        let exchange = Exchange::parse(name, text);
        Self::new(move |r| {
            let got = to_sandbox(r);
            let expected = &exchange.request;
            assert_eq!(got.method.as_str(), expected.method, "{name}");
            assert_eq!(got.path, expected.path, "{name}");
            let query: std::collections::BTreeMap<String, String> = got
                .query
                .as_deref()
                .map(|q| {
                    url::form_urlencoded::parse(q.as_bytes())
                        .into_owned()
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(query, expected.query, "{name}");
            for (header, value) in &expected.headers {
                if let refund_provider::fixture::HeaderExpectation::Exact(v) = value {
                    assert_eq!(got.header(header), Some(v.as_str()), "{name}: {header}");
                }
            }
            let recorded = &exchange.response;
            if recorded.fault == Some(Fault::Reset) {
                return Err(TransportError::Broken("connection reset".into()));
            }
            let mut headers = HeaderMap::new();
            for (k, v) in &recorded.headers {
                headers.insert(
                    refund_provider::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    HeaderValue::from_str(v).unwrap(),
                );
            }
            let body = match (&recorded.body_text, &recorded.body) {
                (Some(text), _) => text.clone(),
                (None, Some(json)) => json.to_string(),
                (None, None) => String::new(),
            };
            Ok(VendorResponse {
                status: recorded.status,
                headers,
                body: body.into(),
            })
        })
    }
}

/// The request as the sandbox's HTTP server would see it (with the Host header).
fn to_sandbox(request: &VendorRequest) -> SandboxRequest {
    let url = url::Url::parse(&request.url).unwrap();
    let mut headers = request.headers.clone();
    let host = format!(
        "{}:{}",
        url.host_str().unwrap(),
        url.port_or_known_default().unwrap()
    );
    headers.insert("host", HeaderValue::from_str(&host).unwrap());
    SandboxRequest {
        method: request.method.clone(),
        path: url.path().to_string(),
        query: url.query().map(str::to_string),
        headers,
        body: request.body.clone().unwrap_or_default(),
    }
}

const SANDBOX_BASE: &str = "http://127.0.0.1:7070";
const LIVE_BASE: &str = "https://shopping-api.paylogic.com";
const DOC_UID: &str = "4221f0abd8bc4e768272b483cd929d09";
const DOC_ORDER: &str = "https://shopping-api.paylogic.com/orders/a9211319a7bf4c1d82b78d536c92de58";

fn ctx(sandbox: bool, base: &str, transport: Arc<dyn Transport>) -> BuildContext {
    BuildContext {
        instance: InstanceName::new("pl-test").unwrap(),
        base_url: base.to_string(),
        sandbox,
        transport,
    }
}

fn config(auth: AuthConfig, language: &str) -> PaylogicConfig {
    PaylogicConfig {
        auth,
        language: language.into(),
    }
}

/// A secret in a file of its own (the test's fake credential).
fn secret_file(tag: &str, value: &str) -> Option<SecretRef> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let path = std::env::temp_dir().join(format!("paylogic-{tag}-{}-{n}", std::process::id()));
    std::fs::write(&path, value).unwrap();
    Some(SecretRef::File(path))
}

/// The fake Basic credentials the fixtures record (`shop-app` / `k>?~secret`).
fn fixture_provider(transport: Arc<dyn Transport>, language: &str) -> PaylogicProvider {
    let auth = AuthConfig::Basic {
        app: secret_file("app", "shop-app"),
        secret: secret_file("secret", "k>?~secret"),
    };
    PaylogicProvider::new(&config(auth, language), ctx(false, LIVE_BASE, transport)).unwrap()
}

fn order(value: &str) -> Target {
    Target {
        order: Some(value.to_string()),
        ..Target::default()
    }
}

macro_rules! fixture {
    ($name:literal) => {
        FnTransport::fixture(
            $name,
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../fixtures/paylogic/",
                $name
            )),
        )
    };
}

mod recorded;
mod walkthrough;
