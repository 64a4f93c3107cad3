//! What the gateway's fixture tools know of Ticketmatic recordings (`Vendor::fixture_defaults`)
//! and how a recorded request is sent again, signed with this instance's keys.

use refund_provider::chrono::Utc;
use refund_provider::contract::derive::ContractFaults;
use refund_provider::{ErrorKind, FixtureDefaults, ProviderError, RecordedCall, VendorResponse};

use crate::TicketmaticProvider;

/// Ticketmatic's error bodies (`code`, `message`: vendors.md section 3); a 429 is its queue
/// answer (`backoff`). It answers no error with HTTP 200.
const CONTRACT: ContractFaults = ContractFaults {
    create_call: Some(("POST", "/*/orders/*/refunds")),
    error_bodies: &[
        (401, r#"{"code": 401, "message": "Unauthorized", "applicationcode": 0, "applicationdata": null}"#),
        (403, r#"{"code": 403, "message": "Forbidden", "applicationcode": 0, "applicationdata": null}"#),
        (404, r#"{"code": 404, "message": "Order not found", "applicationcode": 0, "applicationdata": null}"#),
        (429, r#"{"id": "4f1a2b3c-0000-4000-8000-000000000001", "progress": 0, "backoff": 7000}"#),
    ],
    not_applicable: &[(
        "*.error_body_200",
        "Ticketmatic reports errors with HTTP 400/401/403/429/500 and its error body (vendors.md section 3); no answer of HTTP 200 with an error body is documented or known",
    )],
    sandbox_credentials: &[
        ("access_key", r#"{"secret": "recorded-access-key-0123456789"}"#),
        ("secret_key", r#"{"secret": "recorded-secret-key-0123456789"}"#),
    ],
};

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
    contract: CONTRACT,
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
