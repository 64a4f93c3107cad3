//! The provider end to end without sockets: against its own sandbox (`sandbox.rs`, through
//! the core's `InProcessTransport`) and against the recorded fixtures (`fixtures.rs`, through
//! the core's `FixtureTransport`). The builders both use are here.

use std::sync::Arc;

use refund_provider::{
    BuildContext, Currency, InstanceName, Money, Provider, RefundRequest, Target, Transport, Vendor,
};

use crate::{Ticketmatic, TicketmaticConfig};

mod fixtures;
mod sandbox;

/// The base URL test instances are built with.
const BASE: &str = "http://ticketmatic.test";
const ORDER: &str = "1269434";

/// A provider of account `demo` on `transport`; a sandbox instance needs no keys.
fn provider(sandbox: bool, transport: Arc<dyn Transport>) -> Arc<dyn Provider> {
    let config = if sandbox {
        serde_json::json!({"account": "demo"})
    } else {
        serde_json::json!({"account": "demo", "access_key": secret_file("access"),
                           "secret_key": secret_file("secret")})
    };
    let config: TicketmaticConfig = serde_json::from_value(config).unwrap();
    let ctx = BuildContext {
        instance: InstanceName::new("tm-test").unwrap(),
        base_url: format!("{BASE}/"),
        sandbox,
        transport,
    };
    Ticketmatic::build(config, ctx).unwrap()
}

/// A `{ file = .. }` secret reference holding `value`.
fn secret_file(value: &str) -> serde_json::Value {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let path = std::env::temp_dir().join(format!("ticketmatic-test-{}-{n}", std::process::id()));
    std::fs::write(&path, value).unwrap();
    serde_json::json!({ "file": path })
}

fn request(order: &str, payments: &[&str], amount: Option<&str>) -> RefundRequest {
    RefundRequest {
        target: Target {
            order: Some(order.into()),
            payments: payments.iter().map(|p| p.to_string()).collect(),
            ..Target::default()
        },
        amount: amount.map(|a| Money::parse(a, Currency::EUR).unwrap()),
        reason: Some("event cancelled".into()),
        metadata: Default::default(),
        gateway_reference: None,
    }
}
