//! The iVvy provider of refund-gateway: refunds a venue booking with
//! `venue?action=addRefundToBooking` and reads refunds back from the booking's invoices.
//! This file wires the `Vendor` (build, sandbox) and `Provider` (create, get, list) impls;
//! the work is in the modules below.

mod auth;
mod client;
mod config;
mod errors;
mod fixture_defaults;
mod mapping;
mod quote;
mod request;
mod sandbox;
mod vendor_ref;
mod wire;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use refund_provider::chrono::Utc;
use refund_provider::{
    async_trait, BuildContext, Capabilities, ConfigError, Currency, ErrorKind, InstanceName,
    Provider, ProviderError, Quote, Refund, RefundRequest, Sandbox, Target, TargetShape, Vendor,
    VendorFault, VendorRef,
};

pub use config::IvvyConfig;
pub use sandbox::{IvvySandbox, SANDBOX_API_KEY, SANDBOX_API_SECRET};

use auth::Credentials;
use client::IvvyClient;
use vendor_ref::IvvyRef;

/// The `kind` of iVvy instances in config.
pub const KIND: &str = "ivvy";

/// The iVvy vendor, as the gateway's registry names it.
pub struct Ivvy;

impl Vendor for Ivvy {
    const KIND: &'static str = KIND;
    /// None: iVvy has one base per region (`https://api.ap-southeast-2.ivvy.com`,
    /// `https://api.us-west-2.ivvy.com`, `https://api.eu-west-2.ivvy.com`), which an
    /// instance must choose.
    const DEFAULT_BASE_URL: Option<&'static str> = None;
    type Config = IvvyConfig;
    fn fixture_defaults() -> refund_provider::FixtureDefaults {
        fixture_defaults::DEFAULTS
    }

    fn build(config: IvvyConfig, ctx: BuildContext) -> Result<Arc<dyn Provider>, ConfigError> {
        Ok(Arc::new(IvvyProvider::new(config, ctx)?))
    }

    fn sandbox(config: &IvvyConfig) -> Arc<dyn Sandbox> {
        Arc::new(IvvySandbox::new(config.currency))
    }
}

fn capabilities(currency: Currency) -> Capabilities {
    Capabilities {
        create: true,
        get: true,
        list: true,
        quote: true,
        partial_amounts: true,
        currencies: vec![currency],
        create_targets: vec![TargetShape::new(&["venue", "booking"])],
        list_targets: vec![TargetShape::new(&["venue", "booking"])],
        ..Capabilities::none()
    }
}

/// One configured iVvy account.
#[derive(Debug)]
pub struct IvvyProvider {
    instance: InstanceName,
    currency: Currency,
    capabilities: Capabilities,
    client: IvvyClient,
}

impl IvvyProvider {
    /// Resolves the credentials (the sandbox pair when `ctx.sandbox`) and sets the
    /// instance up; `Ivvy::build` wraps it for the registry.
    pub fn new(config: IvvyConfig, ctx: BuildContext) -> Result<Self, ConfigError> {
        let api_key = ctx.secret("api_key", &config.api_key, SANDBOX_API_KEY)?;
        let api_secret = ctx.secret("api_secret", &config.api_secret, SANDBOX_API_SECRET)?;
        let client = IvvyClient::new(
            ctx.base(),
            Credentials::new(api_key, api_secret),
            ctx.transport.clone(),
        );
        Ok(IvvyProvider {
            instance: ctx.instance,
            currency: config.currency,
            capabilities: capabilities(config.currency),
            client,
        })
    }
}

#[async_trait]
impl Provider for IvvyProvider {
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

    async fn create(&self, request: &RefundRequest) -> Result<Refund, ProviderError> {
        let (venue, booking) = request::booking_of(&request.target)?;
        let amount = request::amount_of(request)?;
        let body = mapping::create_body(venue, booking, &amount, request, Utc::now())?;
        let answer = self.client.add_refund(&body).await?;
        if answer.success == Some(false) {
            return Err(ProviderError::new(
                ErrorKind::Rejected,
                "iVvy did not add the refund (Success: false, no error code)",
            )
            .with_vendor(VendorFault {
                status: None,
                code: None,
                message: "Success: false".into(),
            }));
        }
        if answer.refund_details.is_empty() {
            // Success without ids: the refund may exist, but we cannot name it.
            return Err(ProviderError::new(
                ErrorKind::BadResponse,
                "iVvy answered without refundDetails; list the booking's refunds to see \
                 whether the refund was added",
            )
            .outcome_unknown());
        }
        let reference = IvvyRef {
            venue,
            booking,
            pairs: answer.refund_details.clone(),
        };
        Ok(mapping::created_refund(
            &self.instance,
            &reference,
            request,
            amount,
            &answer,
        ))
    }

    /// Reads the booking's invoices only (list, then each invoice).
    async fn quote(&self, request: &RefundRequest) -> Result<Quote, ProviderError> {
        let (venue, booking) = request::booking_of(&request.target)?;
        let summaries = self.client.booking_invoices(venue, booking).await?;
        let mut invoices = Vec::with_capacity(summaries.len());
        for summary in summaries {
            invoices.push(self.client.get_invoice(summary.id.0).await?);
        }
        let mut quote = Quote::new(&self.instance, KIND, &self.capabilities, request);
        quote::fill(&mut quote, &invoices, request, self.currency)?;
        Ok(quote)
    }

    async fn get(&self, vendor_ref: &VendorRef) -> Result<Refund, ProviderError> {
        let reference = IvvyRef::parse(vendor_ref)?;
        let mut invoices = Vec::new();
        for id in reference.invoices() {
            let invoice = self.client.get_invoice(id.0).await?;
            // An invoice of another booking or venue does not hold this booking's refunds.
            if invoice.booking_id.is_some_and(|b| b.0 != reference.booking)
                || invoice.venue_id.is_some_and(|v| v.0 != reference.venue)
            {
                continue;
            }
            invoices.push(invoice);
        }
        mapping::looked_up_refund(&self.instance, self.currency, &reference, &invoices)?.ok_or_else(
            || {
                ProviderError::new(
                    ErrorKind::NotFound,
                    "iVvy has no such refund on the booking",
                )
            },
        )
    }

    async fn list(&self, target: &Target) -> Result<Vec<Refund>, ProviderError> {
        let (venue, booking) = request::booking_of(target)?;
        let summaries = self.client.booking_invoices(venue, booking).await?;
        let mut invoices = Vec::with_capacity(summaries.len());
        for summary in summaries {
            invoices.push(self.client.get_invoice(summary.id.0).await?);
        }
        mapping::listed_refunds(&self.instance, self.currency, venue, booking, &invoices)
    }
}
