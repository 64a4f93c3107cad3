//! The provider end to end without sockets: against its own sandbox (`sandbox.rs`, through
//! the core's `InProcessTransport`) and against the recorded fixtures and scripted answers
//! (`fixtures.rs`, through the core's `FixtureTransport`). The builders both use are here.

use super::*;
use std::sync::Mutex;

use refund_provider::fixture_transport::FixtureTransport;
use refund_provider::http::HeaderValue;
use refund_provider::sandbox::InProcessTransport;
use refund_provider::{
    RefundId, RefundStatus, SandboxRequest, SecretRef, Transport, TransportError, VendorRequest,
    VendorResponse,
};
use serde_json::json;

use crate::config::AuthConfig;
use crate::sandbox::PaylogicSandbox;

type Handler = Box<dyn Fn(&VendorRequest) -> Result<VendorResponse, TransportError> + Send + Sync>;

/// Scripted vendor answers (a `next` link that loops, pages without end, a wrong shape):
/// each request goes to a closure; the URLs requested are kept.
struct Scripted {
    handler: Handler,
    urls: Mutex<Vec<String>>,
}

#[async_trait]
impl Transport for Scripted {
    async fn send(&self, request: VendorRequest) -> Result<VendorResponse, TransportError> {
        self.urls.lock().unwrap().push(request.url.clone());
        (self.handler)(&request)
    }
}

impl Scripted {
    fn new(
        handler: impl Fn(&VendorRequest) -> Result<VendorResponse, TransportError>
            + Send
            + Sync
            + 'static,
    ) -> Arc<Self> {
        Arc::new(Scripted {
            handler: Box::new(handler),
            urls: Mutex::new(Vec::new()),
        })
    }

    fn urls(&self) -> Vec<String> {
        self.urls.lock().unwrap().clone()
    }
}

/// The sandbox as the gateway serves it: its links are absolute, built from the `Host`
/// header the gateway's HTTP server passes on, which an in-process call has not; this adds
/// the sandbox's, and keeps the path and query of each request.
struct WithHost {
    sandbox: PaylogicSandbox,
    requested: Mutex<Vec<String>>,
}

impl Sandbox for WithHost {
    fn handle(&self, request: &SandboxRequest) -> VendorResponse {
        let mut request = request.clone();
        let host = SANDBOX_BASE.trim_start_matches("http://");
        request
            .headers
            .insert("host", HeaderValue::from_str(host).unwrap());
        let query = request.query.as_deref().map(|q| format!("?{q}"));
        self.requested.lock().unwrap().push(format!(
            "{}{}",
            request.path,
            query.unwrap_or_default()
        ));
        self.sandbox.handle(&request)
    }
}

type SandboxTransport = InProcessTransport<WithHost>;

/// The provider's own sandbox at `SANDBOX_BASE`, through the core's in-process transport.
fn sandbox_transport() -> Arc<SandboxTransport> {
    Arc::new(InProcessTransport::new(
        SANDBOX_BASE,
        WithHost {
            sandbox: PaylogicSandbox::seeded(),
            requested: Mutex::new(Vec::new()),
        },
    ))
}

/// Path and query of every request the sandbox answered.
fn requested(t: &SandboxTransport) -> Vec<String> {
    t.sandbox().requested.lock().unwrap().clone()
}

/// The recorded exchanges `fixtures/paylogic/<name>.json` at the live base URL, through
/// the core's fixture transport.
fn fixtures(names: &[&str]) -> Arc<FixtureTransport> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/paylogic");
    Arc::new(FixtureTransport::load(LIVE_BASE, dir, names))
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

mod fixtures;
mod sandbox;
