//! The Ticketmatic provider of refund-gateway: refunds a payment of a Ticketmatic order
//! (`POST /{account}/orders/{id}/refunds`) and reads refunds back from the order's refund
//! payments. This file is the `Vendor` impl (config -> instance, sandbox); `provider.rs`
//! holds the `Provider` calls. See README.md for the vendor's rules and our Decisions.

use std::sync::Arc;

use refund_provider::{
    BuildContext, Capabilities, ConfigError, Provider, Sandbox, TargetShape, Vendor,
};

mod auth;
mod client;
mod config;
mod errors;
mod fixture_defaults;
mod mapping;
mod provider;
mod quote;
mod sandbox;
mod selection;
mod wire;

pub use auth::{parse_authorization, signature};
pub use config::TicketmaticConfig;
pub use provider::TicketmaticProvider;
pub use sandbox::{TicketmaticSandbox, SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY};

/// The `kind` of Ticketmatic instances in config.
pub const KIND: &str = "ticketmatic";

/// The Ticketmatic vendor, as the gateway's registry sees it.
pub struct Ticketmatic;

impl Vendor for Ticketmatic {
    const KIND: &'static str = KIND;
    const DEFAULT_BASE_URL: Option<&'static str> = Some("https://apps.ticketmatic.com/api/1");
    type Config = TicketmaticConfig;
    fn fixture_defaults() -> refund_provider::FixtureDefaults {
        fixture_defaults::DEFAULTS
    }

    fn build(config: Self::Config, ctx: BuildContext) -> Result<Arc<dyn Provider>, ConfigError> {
        let account = config.checked_account()?;
        let access_key = ctx.secret("access_key", &config.access_key, SANDBOX_ACCESS_KEY)?;
        let secret_key = ctx.secret("secret_key", &config.secret_key, SANDBOX_SECRET_KEY)?;
        let signer = auth::Signer::new(account, access_key, secret_key);
        let client = client::Client::new(ctx.base(), account, signer, ctx.transport.clone());
        Ok(Arc::new(TicketmaticProvider::new(
            ctx.instance,
            config.currency,
            capabilities(&config),
            client,
        )))
    }

    fn sandbox(config: &Self::Config) -> Arc<dyn Sandbox> {
        Arc::new(TicketmaticSandbox::seeded(config.account.trim()))
    }
}

/// What a Ticketmatic instance does: create (partial or full), get and list by order.
fn capabilities(config: &TicketmaticConfig) -> Capabilities {
    Capabilities {
        create: true,
        get: true,
        list: true,
        quote: true,
        partial_amounts: true,
        full_refund_without_amount: true,
        currencies: vec![config.currency],
        create_targets: vec![TargetShape::new(&["order"]).or_also(&["payments"])],
        list_targets: vec![TargetShape::new(&["order"]).or_also(&["payments"])],
        ..Capabilities::none()
    }
}

#[cfg(test)]
mod tests;
