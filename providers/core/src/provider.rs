//! The plugin contract. A vendor crate implements `Provider` (what the gateway calls at
//! request time) and `Vendor` (how the gateway builds it from config and sandboxes it).

use std::sync::Arc;

use async_trait::async_trait;
use secrecy::SecretString;
use serde::de::DeserializeOwned;

use crate::capabilities::Capabilities;
use crate::error::ProviderError;
use crate::fixture_defaults::{FixtureDefaults, RecordedCall};
use crate::ids::{InstanceName, VendorRef};
use crate::quote::Quote;
use crate::refund::Refund;
use crate::request::RefundRequest;
use crate::sandbox::Sandbox;
use crate::secret::SecretRef;
use crate::target::Target;
use crate::transport::{Transport, VendorResponse};

/// One configured vendor account. Every method a provider does not support keeps its
/// default, which answers `unsupported_operation`; the gateway checks `capabilities()`
/// first, so the defaults are a safety net, not the normal path.
#[async_trait]
pub trait Provider: Send + Sync {
    /// The vendor kind, as written in config (`kind = "ticketmatic"`).
    fn kind(&self) -> &'static str;

    fn capabilities(&self) -> &Capabilities;

    /// Runs on `POST /v1/refunds`. Called once per client request and never retried by the
    /// gateway: an error whose outcome is unknown is reported as such.
    async fn create(&self, request: &RefundRequest) -> Result<Refund, ProviderError> {
        let _ = request;
        Err(ProviderError::unsupported(format!(
            "{} cannot create refunds",
            self.kind()
        )))
    }

    /// Runs on `GET /v1/refunds/{id}` with the vendor reference the id carries.
    async fn get(&self, vendor_ref: &VendorRef) -> Result<Refund, ProviderError> {
        let _ = vendor_ref;
        Err(ProviderError::unsupported(format!(
            "{} cannot look refunds up",
            self.kind()
        )))
    }

    /// Runs on `POST /v1/refund-quotes`: what the vendor shows as paid, refunded and
    /// refundable for the target of `request`, and what a create of `request` would do.
    /// Only read requests may be sent; the "would do" part must come from the same code
    /// the create runs, so the quote and the create cannot disagree.
    async fn quote(&self, request: &RefundRequest) -> Result<Quote, ProviderError> {
        let _ = request;
        Err(ProviderError::unsupported(format!(
            "{} cannot quote refunds",
            self.kind()
        )))
    }

    /// Runs on `GET /v1/refunds?provider=..&<target>=..`: the refunds the vendor knows.
    async fn list(&self, target: &Target) -> Result<Vec<Refund>, ProviderError> {
        let _ = target;
        Err(ProviderError::unsupported(format!(
            "{} cannot list refunds",
            self.kind()
        )))
    }

    /// Sends a request recorded in a fixture again (`refund-gateway fixtures verify`), as
    /// this instance sends its own: the vendor crate adds its credentials and signature
    /// (the recording holds only their shape) and fills in what it knows of values the
    /// recording did not keep, and the request goes through the instance's transport. The
    /// answer is returned whatever its status.
    async fn send_recorded(&self, call: RecordedCall) -> Result<VendorResponse, ProviderError> {
        let _ = call;
        Err(ProviderError::unsupported(format!(
            "{} cannot send recorded requests",
            self.kind()
        )))
    }
}

/// A config problem in one instance: the key (relative to `providers.<name>`) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// What the gateway hands a vendor when it builds an instance.
pub struct BuildContext {
    pub instance: InstanceName,
    /// The vendor base URL to use: the configured one, or the local sandbox's.
    pub base_url: String,
    pub sandbox: bool,
    pub transport: Arc<dyn Transport>,
}

impl BuildContext {
    /// Resolves a credential. A sandbox instance needs none and gets the sandbox's value;
    /// a real one must reference it (`{ env = .. }` or `{ file = .. }`).
    pub fn secret(
        &self,
        key: &str,
        reference: &Option<SecretRef>,
        sandbox_value: &str,
    ) -> Result<SecretString, ConfigError> {
        if self.sandbox {
            return Ok(SecretString::from(sandbox_value.to_string()));
        }
        reference
            .as_ref()
            .ok_or_else(|| {
                ConfigError::new(
                    key,
                    "missing: this credential is required unless `sandbox = true`",
                )
            })?
            .resolve()
            .map_err(|message| ConfigError::new(key, message))
    }

    /// The base URL without a trailing slash, for joining paths.
    pub fn base(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }
}

/// A vendor, as the registry sees it: how to read its config, build an instance, and
/// stand in for it locally.
pub trait Vendor: 'static {
    /// The `kind` value in config.
    const KIND: &'static str;
    /// The production base URL, used when an instance sets none.
    const DEFAULT_BASE_URL: Option<&'static str>;
    /// The vendor's own settings for one instance (`deny_unknown_fields`).
    type Config: DeserializeOwned + Send + Sync;

    fn build(config: Self::Config, ctx: BuildContext) -> Result<Arc<dyn Provider>, ConfigError>;

    /// A local stand-in for the vendor, served at the root of its own loopback port (so
    /// fixture paths and sandbox paths are both relative to the base URL), seeded from the
    /// recorded fixtures. It enforces
    /// the vendor's rules (auth, refundable amounts) so the walk-through behaves like the real thing.
    fn sandbox(config: &Self::Config) -> Arc<dyn Sandbox>;

    /// What the fixture tools should know about this vendor's recordings: noise fields,
    /// personal data, which requests only read.
    fn fixture_defaults() -> FixtureDefaults {
        FixtureDefaults::default()
    }
}
