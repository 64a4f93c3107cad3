//! What the gateway's fixture tools know of iVvy recordings (`Vendor::fixture_defaults`) and
//! how a recorded request is sent again, signed with this instance's key.

use refund_provider::chrono::Utc;
use refund_provider::contract::derive::ContractFaults;
use refund_provider::fixture::ExpectedRequest;
use refund_provider::{ErrorKind, FixtureDefaults, ProviderError, RecordedCall, VendorResponse};

use crate::auth;
use crate::IvvyProvider;

/// iVvy's error bodies carry `errorCode` and `message` (and a `specificCode`), with an HTTP
/// error status or with 200.
const CONTRACT: ContractFaults = ContractFaults {
    create_call: Some(("POST", "/api/1.0/venue")),
    error_bodies: &[
        (401, r#"{"errorCode": 401, "message": "Unauthorized"}"#),
        (403, r#"{"errorCode": 403, "message": "Forbidden"}"#),
        (404, r#"{"errorCode": 404, "message": "Unable to find invoice", "specificCode": 24137}"#),
        (429, r#"{"errorCode": 429, "message": "Too Many Requests"}"#),
        (200, r#"{"errorCode": 404, "message": "Unable to find invoice", "specificCode": 24137}"#),
    ],
    not_applicable: &[
        (
            "create.reset_before_create",
            "an iVvy create is one request (addRefundToBooking): nothing is sent before it",
        ),
        (
        "quote.not_found",
        "a quote reads only the invoices the booking's invoice list names, so iVvy's 'invoice not found' (24137) cannot reach it",
        ),
    ],
    sandbox_credentials: &[
        ("api_key", r#"{"secret": "recorded-api-key-0123456789"}"#),
        ("api_secret", r#"{"secret": "recorded-api-secret-0123456789"}"#),
    ],
};

/// Invoices carry the contact they are addressed to (`toContactName`, `toContactEmail`,
/// `toAddress`: the invoice object of `../shared/vendor-docs/`), alone or in a list's
/// `results`; modification times change with every refund.
pub const DEFAULTS: FixtureDefaults = FixtureDefaults {
    noise: &[
        "/modifiedDate",
        "/refunds/*/createdDate",
        "/refunds/*/modifiedDate",
        "/refunds/*/refundDate",
        "/results/*/modifiedDate",
        "/results/*/refunds/*/createdDate",
        "/results/*/refunds/*/modifiedDate",
        "/results/*/refunds/*/refundDate",
    ],
    personal_data: &[
        "/toContactName",
        "/toContactEmail",
        "/toAddress",
        "/results/*/toContactName",
        "/results/*/toContactEmail",
        "/results/*/toAddress",
    ],
    reads,
    contract: CONTRACT,
};

/// Every iVvy call is a `POST`; the `get…` actions only read.
fn reads(request: &ExpectedRequest) -> bool {
    request
        .query
        .get("action")
        .is_some_and(|action| action.starts_with("get"))
}

impl IvvyProvider {
    /// The recorded request, signed now over its path and body.
    pub(crate) async fn send_recorded_call(
        &self,
        call: RecordedCall,
    ) -> Result<VendorResponse, ProviderError> {
        let client = &self.client;
        let mut request = call
            .request(&client.base)
            .map_err(|e| ProviderError::new(ErrorKind::InvalidRequest, e))?;
        let body = request.body.clone().unwrap_or_default();
        let uri = request
            .url
            .strip_prefix(&client.base)
            .unwrap_or(&request.url)
            .to_string();
        let signed =
            client
                .credentials
                .sign(&format!("{}{uri}", client.base_path), &body, Utc::now());
        request = request
            .header("content-type", auth::CONTENT_TYPE)
            .header(auth::HEADER_CONTENT_MD5, &signed.content_md5)
            .header(auth::HEADER_DATE, &signed.ivvy_date)
            .header_sensitive(auth::HEADER_AUTHORIZATION, &signed.authorization);
        Ok(client.transport.send(request).await?)
    }
}
