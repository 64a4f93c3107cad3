//! The provider end to end without sockets: against its own sandbox (`sandbox.rs`, through
//! the core's `InProcessTransport`) and against the recorded fixtures (`fixtures.rs`, through
//! the core's `FixtureTransport`). The builders both use are here.

use std::sync::Arc;

use refund_provider::{
    BuildContext, Currency, InstanceName, Money, Provider, RefundRequest, SecretRef, Target,
    Transport, Vendor,
};

use crate::{Fourvenues, FourvenuesConfig};

mod fixtures;
mod sandbox;

/// The base URL test instances are built with.
const BASE: &str = "http://fourvenues.sandbox.invalid";
const A: &str = "5f8d0f8b9d2b3b0017b6d8a0";
const B: &str = "5f8d0f8b9d2b3b0017b6d8b1";

fn provider(
    sandbox: bool,
    api_key: Option<SecretRef>,
    transport: Arc<dyn Transport>,
) -> Arc<dyn Provider> {
    let ctx = BuildContext {
        instance: InstanceName::new("fv-test").unwrap(),
        base_url: format!("{BASE}/"),
        sandbox,
        transport,
    };
    Fourvenues::build(FourvenuesConfig { api_key }, ctx).unwrap()
}

fn request(ticket: &str, amount: Option<&str>) -> RefundRequest {
    RefundRequest {
        target: Target {
            tickets: vec![ticket.to_string()],
            ..Target::default()
        },
        amount: amount.map(|a| Money::parse(a, Currency::EUR).unwrap()),
        reason: Some("event cancelled".into()),
        metadata: Default::default(),
        gateway_reference: None,
    }
}
