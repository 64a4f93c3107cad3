//! What the gateway's fixture tools know of Ticketmatic recordings (`Vendor::fixture_defaults`)
//! and how a recorded request is sent again, signed with this instance's keys.

use refund_provider::chrono::Utc;
use refund_provider::{ErrorKind, FixtureDefaults, ProviderError, RecordedCall, VendorResponse};

use crate::TicketmaticProvider;

/// Orders carry the customer (`firstname`, `lastname`, the delivery address and the bank
/// details of a deferred payment: the order object of `../shared/vendor-docs/`); their
/// `…ts` times and the ids of refund payments change per call.
pub const DEFAULTS: FixtureDefaults = FixtureDefaults {
    noise: &[
        "/createdts",
        "/lastupdatets",
        "/expiryts",
        "/rappelts",
        "/payments/*/paidts",
        "/payments/*/id",
        "/payments/*/refundpaymentid",
    ],
    personal_data: &[
        "/firstname",
        "/lastname",
        "/customer",
        "/deliveryaddress",
        "/deferredpaymentproperties/bankAccount",
        "/deferredpaymentproperties/transferReference",
    ],
    reads: refund_provider::fixture_defaults::reads_by_method,
};

impl TicketmaticProvider {
    /// The recorded request with a fresh `TM-HMAC-SHA256` authorization.
    pub(crate) async fn send_recorded_call(
        &self,
        call: RecordedCall,
    ) -> Result<VendorResponse, ProviderError> {
        let client = &self.client;
        // `account_url` is the base URL and `/<account>`; fixture paths start at the base.
        let base = client
            .account_url
            .rsplit_once('/')
            .map_or(client.account_url.as_str(), |(base, _)| base);
        let request = call
            .request(base)
            .map_err(|e| ProviderError::new(ErrorKind::InvalidRequest, e))?
            .header_sensitive("authorization", &client.signer.authorization(Utc::now()));
        Ok(client.transport.send(request).await?)
    }
}
