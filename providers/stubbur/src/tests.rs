//! The provider end to end without sockets: against its own sandbox (`sandbox.rs`, through
//! the core's `InProcessTransport`: create, the honest status of a mixed event refund,
//! over-refund, session renewal) and against the recorded fixtures (`fixtures.rs`, through
//! the core's `FixtureTransport`: every documented answer and the vendor's garbage). The
//! builders both use are here.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use refund_provider::fixture_transport::FixtureTransport;
use refund_provider::sandbox::InProcessTransport;
use refund_provider::{BuildContext, ConfigError, InstanceName, Provider, Transport, Vendor};

use crate::sandbox::StubburSandbox;
use crate::{Stubbur, StubburConfig, StubburProvider};

mod fixtures;
mod sandbox;

const BASE: &str = "http://stubbur.test";

/// Builds a provider on `transport`; `sandbox` as a sandbox instance would be.
fn provider(
    config: serde_json::Value,
    sandbox: bool,
    transport: Arc<dyn Transport>,
) -> Arc<dyn Provider> {
    let config: StubburConfig = serde_json::from_value(config).unwrap();
    Stubbur::build(config, context(sandbox, transport)).unwrap()
}

/// The concrete provider, for tests of its Debug output.
fn concrete(config: serde_json::Value, sandbox: bool) -> Result<StubburProvider, ConfigError> {
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
fn secret_file(value: &str) -> serde_json::Value {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let path = std::env::temp_dir().join(format!("stubbur-test-{}-{n}", std::process::id()));
    std::fs::write(&path, value).unwrap();
    serde_json::json!({ "file": path })
}

/// Calls the sandbox directly, keeping what it was sent.
type SandboxTransport = InProcessTransport<Arc<StubburSandbox>>;

fn sandbox_transport() -> Arc<SandboxTransport> {
    Arc::new(InProcessTransport::new(
        BASE,
        Arc::new(StubburSandbox::seeded()),
    ))
}

/// The paths the sandbox was sent, in order.
fn paths(transport: &SandboxTransport) -> Vec<String> {
    transport.sent().into_iter().map(|(_, path)| path).collect()
}

/// The recorded exchanges `fixtures/stubbur/<name>.json`, each answering once.
fn fixtures(names: &[&str]) -> Arc<FixtureTransport> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/stubbur");
    Arc::new(FixtureTransport::load(BASE, dir, names))
}
