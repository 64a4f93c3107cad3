//! The Paylogic provider of refund-gateway: reads refunds through Paylogic's Shopping API
//! (HAL+JSON) — a list by order and one refund by uid. Paylogic publishes no way to create
//! a refund, so this provider is lookup-only and `create` never reaches the vendor.

pub mod auth;
pub mod client;
pub mod config;
pub mod errors;
mod fixture_defaults;
pub mod mapping;
mod quote;
pub mod sandbox;
pub mod status;
pub mod wire;

use std::collections::HashSet;
use std::sync::Arc;

use refund_provider::{
    async_trait, BuildContext, Capabilities, ConfigError, ErrorKind, InstanceName, Provider,
    ProviderError, Quote, Refund, RefundRequest, Sandbox, Target, TargetShape, Vendor, VendorRef,
};

use crate::auth::Auth;
use crate::client::Client;
use crate::config::PaylogicConfig;
use crate::wire::RefundPage;

/// The `kind` of Paylogic instances in config.
pub const KIND: &str = "paylogic";

/// Decision: at most this many pages are read for one list (the vendor's pages hold 500
/// refunds, so 20 pages is 10,000 refunds of one order); a longer chain, or a `next` link
/// that repeats, is a `BadResponse` rather than an endless walk.
pub const MAX_PAGES: usize = 20;

/// The Paylogic vendor, as the gateway's registry names it.
pub struct Paylogic;

impl Vendor for Paylogic {
    const KIND: &'static str = KIND;
    const DEFAULT_BASE_URL: Option<&'static str> = Some("https://shopping-api.paylogic.com");
    type Config = PaylogicConfig;
    fn fixture_defaults() -> refund_provider::FixtureDefaults {
        fixture_defaults::DEFAULTS
    }

    fn build(config: PaylogicConfig, ctx: BuildContext) -> Result<Arc<dyn Provider>, ConfigError> {
        Ok(Arc::new(PaylogicProvider::new(&config, ctx)?))
    }

    fn sandbox(_config: &PaylogicConfig) -> Arc<dyn Sandbox> {
        Arc::new(sandbox::PaylogicSandbox::seeded())
    }
}

/// Lookup-only: get by uid, list by `order`; no create (not in Paylogic's published API).
fn capabilities() -> Capabilities {
    Capabilities {
        get: true,
        list: true,
        quote: true,
        list_targets: vec![TargetShape::new(&["order"])],
        ..Capabilities::none()
    }
}

/// Refund uids (and bare order uids) are single path segments: ASCII letters, digits,
/// `-` and `_` (the published ones are 32 hex digits). Anything else is not one of ours.
pub fn is_uid(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 128
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// One configured Paylogic account. Debug shows no credential (`Auth` holds `SecretString`s).
#[derive(Debug)]
pub struct PaylogicProvider {
    instance: InstanceName,
    language: String,
    client: Client,
    capabilities: Capabilities,
}

impl PaylogicProvider {
    /// Checks the config and resolves the credentials (the sandbox's when `ctx.sandbox`).
    pub fn new(config: &PaylogicConfig, ctx: BuildContext) -> Result<Self, ConfigError> {
        let language = config.language()?;
        let auth = Auth::resolve(&config.auth, &ctx)?;
        let client = Client::new(ctx.base(), auth, ctx.transport.clone())?;
        Ok(PaylogicProvider {
            instance: ctx.instance,
            language,
            client,
            capabilities: capabilities(),
        })
    }
}

#[async_trait]
impl Provider for PaylogicProvider {
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

    /// Paylogic's API has no refund creation: answered here, without any vendor request.
    async fn create(&self, _request: &RefundRequest) -> Result<Refund, ProviderError> {
        Err(cannot_create())
    }

    /// The order's refunds (the list's reads), and the create's refusal.
    async fn quote(&self, request: &RefundRequest) -> Result<Quote, ProviderError> {
        let refunds = self.list(&request.target).await?;
        let mut quote = Quote::new(&self.instance, KIND, &self.capabilities, request);
        quote::fill(&mut quote, &refunds, &cannot_create())?;
        Ok(quote)
    }

    /// The vendor reference is the refund's uid.
    async fn get(&self, vendor_ref: &VendorRef) -> Result<Refund, ProviderError> {
        let uid = vendor_ref.as_str();
        if !is_uid(uid) {
            return Err(ProviderError::new(
                ErrorKind::NotFound,
                "not a Paylogic refund reference",
            ));
        }
        let body = self.client.get_json(&self.client.refund_url(uid)).await?;
        mapping::to_refund(&self.instance, &body, None, &self.language)
    }

    /// Every refund of `target.order`, following `next` links across pages.
    async fn list(&self, target: &Target) -> Result<Vec<Refund>, ProviderError> {
        let order = list_order(target)?;
        let order_uri = self.client.order_uri(order)?;
        let mut url = self.client.refunds_url(&order_uri);
        let mut seen = HashSet::new();
        let mut refunds = Vec::new();
        for _ in 0..MAX_PAGES {
            seen.insert(url.clone());
            let body = self.client.get_json(&url).await?;
            let page: RefundPage = serde_json::from_str(body.get()).map_err(|e| {
                ProviderError::new(
                    ErrorKind::BadResponse,
                    format!("Paylogic's refund list could not be read ({e})"),
                )
            })?;
            for item in page.embedded.refunds {
                refunds.push(mapping::to_refund(
                    &self.instance,
                    &item,
                    Some(&order_uri),
                    &self.language,
                )?);
            }
            let Some(href) = page.links.href("next") else {
                return Ok(refunds);
            };
            let next = self.client.next_url(&url, href)?;
            if seen.contains(&next) {
                return Err(ProviderError::new(
                    ErrorKind::BadResponse,
                    "Paylogic's next-page link leads back to a page already read",
                ));
            }
            tracing::debug!(page = seen.len() + 1, "following Paylogic's next-page link");
            url = next;
        }
        Err(ProviderError::new(
            ErrorKind::BadResponse,
            format!("Paylogic's refund list did not end within {MAX_PAGES} pages"),
        ))
    }
}

/// Why a create is refused, whatever its body (the create and the quote say the same).
fn cannot_create() -> ProviderError {
    ProviderError::unsupported(
        "Paylogic's Shopping API does not create refunds (refunds are requested in \
         Paylogic itself); this provider can only look them up",
    )
}

/// Paylogic lists by order only. (That the target names nothing else the gateway checked,
/// from the declared `list_targets`.)
fn list_order(target: &Target) -> Result<&str, ProviderError> {
    target.require_order()
}

#[cfg(test)]
mod tests;
