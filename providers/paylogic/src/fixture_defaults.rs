//! What the gateway's fixture tools know of Paylogic recordings (`Vendor::fixture_defaults`)
//! and how a recorded request is sent again with this instance's authentication.

use refund_provider::{ErrorKind, FixtureDefaults, ProviderError, RecordedCall, VendorResponse};

use crate::PaylogicProvider;

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
