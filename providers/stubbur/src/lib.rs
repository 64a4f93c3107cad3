//! Stubbur (ServiceStack, Iceland) as a refund-gateway provider: one `POST /refund/process`
//! refunds tickets, payments or a whole event, and becomes one canonical refund with a line
//! per order. This file wires config, client, mapping and sandbox into `Vendor`/`Provider`.

use std::sync::Arc;

use refund_provider::secrecy::SecretString;
use refund_provider::vendor_response::read_json;
use refund_provider::{
    async_trait, BuildContext, Capabilities, ConfigError, Currency, ErrorKind, InstanceName,
    Provider, ProviderError, Quote, Refund, RefundRequest, Sandbox, Target, TargetShape, Vendor,
    VendorRef,
};

mod auth;
mod client;
pub mod config;
mod errors;
mod fixture_defaults;
mod lines;
mod mapping;
mod quote;
pub mod sandbox;
mod vendor_ref;
mod wire;

#[cfg(test)]
mod tests;

pub use config::{AuthConfig, StubburConfig};

use auth::Auth;
use client::Client;
use wire::RefundResult;

/// The `kind` of a Stubbur instance in config.
pub const KIND: &str = "stubbur";

/// Decision (vendors.md): Stubbur refunds in ISK only, and ISK has 0 minor digits (current
/// ISO 4217; older tables say 2). Stubbur's decimals are parsed exactly and a value with a
/// fractional part is shown raw, never rounded.
pub fn currency() -> Currency {
    Currency::ISK
}

/// The Stubbur vendor, for the gateway's registry.
pub struct Stubbur;

impl Vendor for Stubbur {
    const KIND: &'static str = KIND;
    const DEFAULT_BASE_URL: Option<&'static str> = Some("https://stubbur-app.azurewebsites.net");
    type Config = StubburConfig;
    fn fixture_defaults() -> refund_provider::FixtureDefaults {
        fixture_defaults::DEFAULTS
    }

    fn build(config: StubburConfig, ctx: BuildContext) -> Result<Arc<dyn Provider>, ConfigError> {
        Ok(Arc::new(StubburProvider::new(&config, &ctx)?))
    }

    fn sandbox(_config: &StubburConfig) -> Arc<dyn Sandbox> {
        Arc::new(sandbox::StubburSandbox::seeded())
    }
}

/// What Stubbur can do. It creates (one call may refund many orders) and computes amounts
/// itself; it documents no read endpoint, so `get` and `list` are off.
pub fn capabilities() -> Capabilities {
    Capabilities {
        create: true,
        quote: true,
        full_refund_without_amount: true,
        vendor_computed_amounts: true,
        bulk: true,
        currencies: vec![currency()],
        create_targets: vec![
            TargetShape::new(&["tickets"]).or_also(&["payments", "event"]),
            TargetShape::new(&["payments"]).or_also(&["tickets", "event"]),
            TargetShape::new(&["event", "all_for_event"]),
        ],
        ..Capabilities::none()
    }
}

/// One configured Stubbur account.
#[derive(Debug)]
pub struct StubburProvider {
    instance: InstanceName,
    capabilities: Capabilities,
    client: Client,
}

impl StubburProvider {
    /// Resolves the credentials (the sandbox's own when `ctx.sandbox`) and wires the client.
    pub fn new(config: &StubburConfig, ctx: &BuildContext) -> Result<Self, ConfigError> {
        let auth = match &config.auth {
            None if ctx.sandbox => {
                Auth::Bearer(SecretString::from(sandbox::SANDBOX_TOKEN.to_string()))
            }
            None => {
                return Err(ConfigError::new(
                    "auth",
                    "missing: use { mode = \"bearer\", token = { env = .. } } or \
                     { mode = \"credentials\", username = .., password = { env = .. } }",
                ))
            }
            Some(AuthConfig::Bearer { token }) => {
                Auth::Bearer(ctx.secret("auth.token", token, sandbox::SANDBOX_TOKEN)?)
            }
            Some(AuthConfig::Credentials { username, password }) => {
                let password = ctx.secret("auth.password", password, sandbox::SANDBOX_PASSWORD)?;
                // The sandbox knows one user; a sandbox instance logs in as it.
                let username = if ctx.sandbox {
                    sandbox::SANDBOX_USERNAME.to_string()
                } else if username.trim().is_empty() {
                    return Err(ConfigError::new("auth.username", "must not be empty"));
                } else {
                    username.clone()
                };
                Auth::credentials(username, password)
            }
        };
        Ok(StubburProvider {
            instance: ctx.instance.clone(),
            capabilities: capabilities(),
            client: Client {
                base: ctx.base().to_string(),
                transport: ctx.transport.clone(),
                auth,
            },
        })
    }
}

#[async_trait]
impl Provider for StubburProvider {
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
        let body = mapping::to_vendor_request(request)?;
        let response = self.client.process_refund(&body).await?;
        if !response.is_success() {
            return Err(errors::from_response(&response));
        }
        let result: RefundResult = read_json(&response)?;
        let has_outcomes = result.outcomes.as_ref().is_some_and(|o| !o.is_empty());
        if result.success == Some(false) && !has_outcomes {
            return Err(errors::rejected_in_body(&response, &result));
        }
        let refund = mapping::to_refund(&self.instance, request, &body, &result)?;
        tracing::info!(
            instance = %self.instance,
            status = ?refund.status,
            counts = ?refund.counts,
            "stubbur refund processed"
        );
        Ok(refund)
    }

    /// Sends nothing: Stubbur has no read endpoint (see `quote.rs`).
    async fn quote(&self, request: &RefundRequest) -> Result<Quote, ProviderError> {
        let mut quote = Quote::new(&self.instance, KIND, &self.capabilities, request);
        quote::fill(&mut quote, request);
        Ok(quote)
    }

    async fn get(&self, vendor_ref: &VendorRef) -> Result<Refund, ProviderError> {
        match vendor_ref::parse(vendor_ref) {
            None => Err(ProviderError::new(
                ErrorKind::NotFound,
                "not a Stubbur refund reference",
            )),
            Some(_) => Err(ProviderError::unsupported(
                "Stubbur documents no endpoint to read refunds back; only what the gateway \
                 recorded when it made the refund can be shown",
            )),
        }
    }

    async fn list(&self, _target: &Target) -> Result<Vec<Refund>, ProviderError> {
        Err(ProviderError::unsupported(
            "Stubbur documents no endpoint to list refunds",
        ))
    }
}
