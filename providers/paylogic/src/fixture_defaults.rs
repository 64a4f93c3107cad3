//! What the gateway's fixture tools know of Paylogic recordings (`Vendor::fixture_defaults`)
//! and how a recorded request is sent again with this instance's authentication.

use refund_provider::contract::derive::ContractFaults;
use refund_provider::{ErrorKind, FixtureDefaults, ProviderError, RecordedCall, VendorResponse};

use crate::PaylogicProvider;

/// Paylogic creates nothing; its known errors come with HTTP error statuses.
const CONTRACT: ContractFaults = ContractFaults {
    create_call: None,
    error_bodies: &[
        (401, r#"{"detail": "Invalid username/password."}"#),
        (403, r#"{"detail": "You do not have permission to perform this action."}"#),
        (404, r#"{"message": "Not found.", "code": "not_found"}"#),
        (429, r#"{"error": "Request was throttled. Expected available in 7 seconds."}"#),
    ],
    not_applicable: &[
        (
            "*.error_body_200",
            "Paylogic's error format is not published (vendors.md [?]); no answer of HTTP 200 with an error body is documented or known",
        ),
        (
            "quote.not_found",
            "what Paylogic's refund list answers for an unknown order (a 404 or an empty list) is not documented",
        ),
    ],
    sandbox_credentials: &[(
        "auth",
        r#"{"mode": "basic", "app": {"secret": "recorded-app-0123456789"}, "secret": {"secret": "recorded-secret-0123456789"}}"#,
    )],
};

/// Refunds carry no person (the Shopping API's refund object in `../shared/vendor-docs/`
/// names products and amounts only); `last_updated` moves while a refund is processed.
pub const DEFAULTS: FixtureDefaults = FixtureDefaults {
    noise: &[
        "/last_updated",
        "/_embedded/*/*/last_updated",
        "/_embedded/*/*/created_at",
        "/created_at",
    ],
    personal_data: &[],
    reads: refund_provider::fixture_defaults::reads_by_method,
    contract: CONTRACT,
};

impl PaylogicProvider {
    /// The recorded request with this instance's Basic, Bearer or Cognito header.
    pub(crate) async fn send_recorded_call(
        &self,
        call: RecordedCall,
    ) -> Result<VendorResponse, ProviderError> {
        let request = call
            .request(self.client.base.as_str())
            .map_err(|e| ProviderError::new(ErrorKind::InvalidRequest, e))?;
        let request = self.client.auth.apply(request);
        Ok(self.client.transport.send(request).await?)
    }
}
