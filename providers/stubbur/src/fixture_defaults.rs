//! What the gateway's fixture tools know of Stubbur recordings (`Vendor::fixture_defaults`)
//! and how a recorded request is sent again: a recorded login becomes this instance's own
//! login, any other call goes with its bearer token or session.

use refund_provider::contract::derive::ContractFaults;
use refund_provider::fixture::ExpectedRequest;
use refund_provider::{ErrorKind, FixtureDefaults, ProviderError, RecordedCall, VendorResponse};

use crate::auth::{self, Auth};
use crate::wire::LOGIN_PATH;
use crate::StubburProvider;

/// Stubbur (ServiceStack) answers errors as `responseStatus`; a refund it cannot make comes
/// with HTTP 200 and `success: false`. The sandbox takes a bearer token.
const CONTRACT: ContractFaults = ContractFaults {
    create_call: Some(("POST", "/refund/process")),
    error_bodies: &[
        (
            401,
            r#"{"responseStatus": {"errorCode": "Unauthorized", "message": "Not Authenticated", "errors": []}}"#,
        ),
        (
            403,
            r#"{"responseStatus": {"errorCode": "Forbidden", "message": "Forbidden", "errors": []}}"#,
        ),
        (
            404,
            r#"{"responseStatus": {"errorCode": "NotFound", "message": "Event not found", "errors": []}}"#,
        ),
        (
            429,
            r#"{"responseStatus": {"errorCode": "TooManyRequests", "message": "Too many requests", "errors": []}}"#,
        ),
        (
            200,
            r#"{"success": false, "statusCode": 404, "message": "No paid orders found for the given payment references", "refundedCount": 0, "skippedCount": 0, "failedCount": 0, "totalRefunded": 0, "outcomes": []}"#,
        ),
    ],
    not_applicable: &[],
    sandbox_credentials: &[(
        "auth",
        r#"{"mode": "bearer", "token": {"secret": "recorded-token-0123456789"}}"#,
    )],
};

/// Refund outcomes carry the ticket holder (`holderName`, `holderEmail`); a login answer the
/// account (`userId`, `userName`, `displayName`: ServiceStack's `AuthenticateResponse`).
/// Session ids and card transaction ids are new per call.
pub const DEFAULTS: FixtureDefaults = FixtureDefaults {
    noise: &[
        "/sessionId",
        "/bearerToken",
        "/refreshToken",
        "/outcomes/*/borgunRefundTransactionId",
    ],
    personal_data: &[
        "/outcomes/*/holderName",
        "/outcomes/*/holderEmail",
        "/userId",
        "/userName",
        "/displayName",
    ],
    reads,
    contract: CONTRACT,
};

/// A login changes nothing at the vendor; every other Stubbur call refunds.
fn reads(request: &ExpectedRequest) -> bool {
    request.path == LOGIN_PATH || request.method.eq_ignore_ascii_case("GET")
}

impl StubburProvider {
    pub(crate) async fn send_recorded_call(
        &self,
        call: RecordedCall,
    ) -> Result<VendorResponse, ProviderError> {
        let client = &self.client;
        if call.path == LOGIN_PATH {
            return match &client.auth {
                Auth::Credentials {
                    username, password, ..
                } => Ok(client
                    .transport
                    .send(auth::login_request(&client.base, username, password))
                    .await?),
                Auth::Bearer(_) => Err(ProviderError::unsupported(
                    "this instance uses a bearer token: it does not log in",
                )),
            };
        }
        let request = call
            .request(&client.base)
            .map_err(|e| ProviderError::new(ErrorKind::InvalidRequest, e))?;
        client.send_authenticated(request).await
    }
}
