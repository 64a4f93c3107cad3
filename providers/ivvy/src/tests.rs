//! The provider end to end without sockets: against its own sandbox (`sandbox.rs`, through
//! the core's `InProcessTransport`) and against the recorded fixtures (`fixtures.rs`, through
//! the core's `FixtureTransport`). The builders both use are here.

use std::sync::Arc;

use refund_provider::{
    BuildContext, Currency, InstanceName, Money, Provider, RefundRequest, Target, Transport, Vendor,
};

use crate::{Ivvy, IvvyConfig};

mod fixtures;
mod sandbox;

/// The base URL test instances are built with.
const BASE: &str = "http://ivvy.test";

fn aud() -> Currency {
    Currency::from_code("AUD").unwrap()
}

fn provider(config: IvvyConfig, sandbox: bool, transport: Arc<dyn Transport>) -> Arc<dyn Provider> {
    let ctx = BuildContext {
        instance: InstanceName::new("ivvy-test").unwrap(),
        base_url: format!("{BASE}/"),
        sandbox,
        transport,
    };
    Ivvy::build(config, ctx).unwrap()
}

fn booking() -> Target {
    Target {
        venue: Some("2".into()),
        booking: Some("2".into()),
        ..Target::default()
    }
}

fn request(amount: &str) -> RefundRequest {
    RefundRequest {
        target: booking(),
        amount: Some(Money::parse(amount, aud()).unwrap()),
        reason: Some("Function cancelled".into()),
        metadata: Default::default(),
        gateway_reference: Some("gw_test_1".into()),
    }
}
