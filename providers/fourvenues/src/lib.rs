//! The Fourvenues (Channel Manager API) provider of refund-gateway: refunds one ticket at a
//! time in whole euros, and looks refunds up by reading the ticket's `refunds[]`.
//! See README.md for what it needs, what it cannot do, and the Decisions it implements.

mod amount;
mod auth;
mod client;
mod config;
mod errors;
mod fixture_defaults;
mod mapping;
mod quote;
pub mod sandbox;
mod wire;

use std::sync::Arc;

use refund_provider::{
    async_trait, BuildContext, Capabilities, ConfigError, ErrorKind, InstanceName, Provider,
    ProviderError, Quote, Refund, RefundRequest, Sandbox, Target, TargetShape, VendorRef,
};

pub use config::FourvenuesConfig;

use crate::auth::ApiKey;
use crate::client::Client;

/// The `kind` of Fourvenues instances in config.
pub const KIND: &str = "fourvenues";

/// The Fourvenues vendor, as the gateway's registry sees it.
pub struct Fourvenues;

impl refund_provider::Vendor for Fourvenues {
    const KIND: &'static str = KIND;
    /// None: an instance chooses the test (alpha) or production service deliberately.
    const DEFAULT_BASE_URL: Option<&'static str> = None;
    type Config = FourvenuesConfig;
    fn fixture_defaults() -> refund_provider::FixtureDefaults {
        fixture_defaults::DEFAULTS
    }

    fn build(config: Self::Config, ctx: BuildContext) -> Result<Arc<dyn Provider>, ConfigError> {
        if ctx.base().is_empty() {
            return Err(ConfigError::new(
                "base_url",
                "required: https://channels-service-alpha.fourvenues.com (test) or \
                 https://channels-service.fourvenues.com (production)",
            ));
        }
        let key = ctx.secret("api_key", &config.api_key, sandbox::SANDBOX_API_KEY)?;
        Ok(Arc::new(FourvenuesProvider {
            instance: ctx.instance.clone(),
            client: Client::new(ctx.base(), ApiKey::new(key), ctx.transport.clone()),
            capabilities: capabilities(),
        }))
    }

    fn sandbox(_config: &Self::Config) -> Arc<dyn Sandbox> {
        Arc::new(sandbox::FourvenuesSandbox::seeded())
    }
}

fn capabilities() -> Capabilities {
    Capabilities {
        create: true,
        get: true,
        list: true,
        quote: true,
        partial_amounts: true,
        full_refund_without_amount: true,
        whole_units_only: true,
        currencies: amount::supported_currencies(),
        create_targets: vec![TargetShape::new(&["tickets"])],
        list_targets: vec![TargetShape::new(&["tickets"])],
        ..Capabilities::none()
    }
}

/// One configured Fourvenues channel.
pub struct FourvenuesProvider {
    instance: InstanceName,
    client: Client,
    capabilities: Capabilities,
}

impl std::fmt::Debug for FourvenuesProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FourvenuesProvider")
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Provider for FourvenuesProvider {
    async fn send_recorded(
        &self,
        call: refund_provider::RecordedCall,
    ) -> Result<refund_provider::VendorResponse, refund_provider::ProviderError> {
        self.send_recorded_call(call).await
    }

    fn kind(&self) -> &'static str {
        KIND
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// Reads the ticket, decides the amount (never rounded), refunds it, and answers the
    /// new last entry of the ticket's `refunds[]`.
    async fn create(&self, request: &RefundRequest) -> Result<Refund, ProviderError> {
        let ticket_id = request.target.require_one_ticket()?;
        // The currency was checked by the gateway against `currencies`.
        if let Some(money) = &request.amount {
            // Refused before any vendor call: a fractional amount is never sent or rounded.
            amount::vendor_amount(money)?;
        }
        let before = self.client.ticket(ticket_id).await?;
        let plan = amount::plan(request.amount.as_ref(), &before)?;
        let after = self.client.refund(ticket_id, plan.units).await?;

        if after.refunds.len() <= before.refunds.len() {
            return Err(ProviderError::new(
                ErrorKind::BadResponse,
                format!(
                    "the vendor confirmed the refund of {} but ticket {ticket_id} shows no new \
                     refund entry; look the ticket's refunds up before trying again",
                    plan.money
                ),
            )
            .outcome_unknown());
        }
        let index = after.refunds.len() - 1;
        let mut refund = mapping::refund_at(&self.instance, &after, index)?;
        if plan.whole_remaining {
            refund.notes.push(format!(
                "no amount was given: refunded the whole remaining {} of the ticket",
                plan.money
            ));
        }
        if refund.amount != Some(plan.money) {
            refund.notes.push(format!(
                "{} was requested; the vendor recorded a different amount for this refund",
                plan.money
            ));
        }
        if after.refunds.len() > before.refunds.len() + 1 {
            refund.notes.push(
                "the ticket gained more than one refund entry meanwhile; this is the last one"
                    .to_string(),
            );
        }
        refund.reason = request.reason.clone();
        refund.metadata = request.metadata.clone();
        Ok(refund)
    }

    /// Reads the ticket only; what a create would do comes from the create's own checks.
    async fn quote(&self, request: &RefundRequest) -> Result<Quote, ProviderError> {
        let ticket_id = request.target.require_one_ticket()?;
        let ticket = self
            .client
            .ticket(ticket_id)
            .await
            .map_err(|e| match e.kind {
                ErrorKind::NotFound => e.at("/target/tickets/0"),
                _ => e,
            })?;
        let mut quote = Quote::new(&self.instance, KIND, &self.capabilities, request);
        quote::fill(&mut quote, &ticket, request.amount.as_ref())?;
        Ok(quote)
    }

    async fn get(&self, vendor_ref: &VendorRef) -> Result<Refund, ProviderError> {
        let (ticket_id, index) = mapping::parse_vendor_ref(vendor_ref)?;
        let ticket = self.client.ticket(&ticket_id).await?;
        mapping::refund_at(&self.instance, &ticket, index)
    }

    async fn list(&self, target: &Target) -> Result<Vec<Refund>, ProviderError> {
        let ticket_id = target.require_one_ticket()?;
        let ticket = self.client.ticket(ticket_id).await?;
        mapping::refunds_of(&self.instance, &ticket)
    }
}

#[cfg(test)]
mod tests;
