//! What the gateway's fixture tools know of Fourvenues recordings (`Vendor::fixture_defaults`)
//! and how a recorded request is sent again with this instance's API key.

use refund_provider::contract::derive::ContractFaults;
use refund_provider::{ErrorKind, FixtureDefaults, ProviderError, RecordedCall, VendorResponse};

use crate::FourvenuesProvider;

/// Fourvenues answers errors as `{"success": false, "message": ..}`, with an HTTP error
/// status or with 200.
const CONTRACT: ContractFaults = ContractFaults {
    create_call: Some(("PUT", "/tickets/*/refund")),
    error_bodies: &[
        (401, r#"{"success": false, "message": "Unauthorized"}"#),
        (403, r#"{"success": false, "message": "Forbidden"}"#),
        (404, r#"{"success": false, "message": "Ticket not found"}"#),
        (429, r#"{"success": false, "message": "Too many requests"}"#),
        (
            200,
            r#"{"success": false, "message": "The ticket cannot be refunded"}"#,
        ),
    ],
    not_applicable: &[],
    sandbox_credentials: &[("api_key", r#"{"secret": "recorded-api-key-0123456789"}"#)],
};

/// Ticket reads carry the buyer (`full_name`, `phone`, `email`, `birthday`, `address`,
/// `postal_code`, the identity document and free-text answers: the channel API's ticket
/// object in `../shared/vendor-docs/`); times of refunds and entry change per call.
pub const DEFAULTS: FixtureDefaults = FixtureDefaults {
    noise: &[
        "/data/refunded_at",
        "/data/refunds/*/at",
        "/data/entry_time",
        "/data/updated_at",
        "/data/created_at",
    ],
    personal_data: &[
        "/data/full_name",
        "/data/phone",
        "/data/email",
        "/data/birthday",
        "/data/address",
        "/data/postal_code",
        "/data/personal_document_number",
        "/data/answers/*/answer",
    ],
    reads: refund_provider::fixture_defaults::reads_by_method,
    contract: CONTRACT,
};

impl FourvenuesProvider {
    /// The recorded request with this instance's `X-Api-Key`.
    pub(crate) async fn send_recorded_call(
        &self,
        call: RecordedCall,
    ) -> Result<VendorResponse, ProviderError> {
        let request = call
            .request(&self.client.base)
            .map_err(|e| ProviderError::new(ErrorKind::InvalidRequest, e))?;
        let request = self.client.key.authorize(request);
        Ok(self.client.transport.send(request).await?)
    }
}
