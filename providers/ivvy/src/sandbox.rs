//! The local stand-in for iVvy (`sandbox = true`): checks every request's signature with
//! the sandbox key pair and the 5-minute window, then routes the three calls the provider
//! makes to an in-memory booking ledger seeded from `fixtures/ivvy/`.

mod ledger;
#[cfg(test)]
mod tests;

use std::sync::Mutex;

use refund_provider::chrono::{Duration, Utc};
use refund_provider::http::Method;
use refund_provider::sandbox::json_response;
use refund_provider::{Currency, Sandbox, SandboxRequest, VendorResponse};

use crate::auth;
use ledger::{Ledger, SandboxError};

/// The sandbox account's API key: `build` signs with it when `sandbox = true`. Not a secret.
pub const SANDBOX_API_KEY: &str = "ivvy-sandbox-key";
/// The sandbox account's API secret. Not a secret: it only opens the local sandbox.
pub const SANDBOX_API_SECRET: &str = "ivvy-sandbox-secret";

/// iVvy refuses requests signed more than this long ago (or ahead).
const MAX_SKEW_SECONDS: i64 = 5 * 60;

pub struct IvvySandbox {
    ledger: Mutex<Ledger>,
}

impl IvvySandbox {
    /// A sandbox whose invoices are in `currency` (the instance's), seeded from the fixtures.
    pub fn new(currency: Currency) -> Self {
        IvvySandbox {
            ledger: Mutex::new(Ledger::seeded(currency)),
        }
    }
}

impl Sandbox for IvvySandbox {
    fn handle(&self, request: &SandboxRequest) -> VendorResponse {
        let answer = route(self, request);
        match answer {
            Ok(body) => json_response(200, &body),
            Err(e) => json_response(e.http, &e.body()),
        }
    }
}

fn route(
    sandbox: &IvvySandbox,
    request: &SandboxRequest,
) -> Result<serde_json::Value, SandboxError> {
    if request.method != Method::POST {
        return Err(SandboxError::new(405, 405, "Method Not Allowed"));
    }
    verify_signature(request)?;
    let namespace = request
        .path
        .strip_prefix(&format!("/api/{}/", auth::API_VERSION))
        .unwrap_or_default();
    let action = request.query_param("action").unwrap_or_default();
    let body: serde_json::Value = serde_json::from_slice(&request.body)
        .map_err(|_| SandboxError::new(400, 400, "The request body is not valid JSON"))?;
    let mut ledger = sandbox
        .ledger
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match (namespace, action.as_str()) {
        ("venue", "addRefundToBooking") => ledger.add_refund(&body, Utc::now()),
        ("invoice", "getInvoice") => ledger.get_invoice(&body),
        ("invoice", "getInvoiceList") => ledger.invoice_list(&body),
        _ => Err(SandboxError::new(404, 404, "Not Found")),
    }
}

/// Checks the request as iVvy does: Content-MD5 over the body, IVVY-Date within the
/// window (else 401 with 23005), and the HMAC over the string to sign, using the
/// Content-Type exactly as received.
fn verify_signature(request: &SandboxRequest) -> Result<(), SandboxError> {
    let unauthorized = |message: &str| SandboxError::new(401, 401, message);
    let md5 = request.header(auth::HEADER_CONTENT_MD5).unwrap_or_default();
    if md5 != auth::content_md5(&request.body) {
        return Err(unauthorized("Content-MD5 does not match the request body"));
    }
    let date = request.header(auth::HEADER_DATE).unwrap_or_default();
    let sent =
        auth::parse_date(date).ok_or_else(|| unauthorized("Missing or invalid IVVY-Date"))?;
    if (Utc::now() - sent).abs() > Duration::seconds(MAX_SKEW_SECONDS) {
        return Err(SandboxError::new(401, 401, "The request has expired").specific(23005));
    }
    let given = request
        .header(auth::HEADER_AUTHORIZATION)
        .unwrap_or_default();
    let (key, signature) = given
        .strip_prefix("IWS ")
        .and_then(|rest| rest.split_once(':'))
        .ok_or_else(|| unauthorized("Missing or malformed X-Api-Authorization"))?;
    let uri = match &request.query {
        Some(q) => format!("{}?{q}", request.path),
        None => request.path.clone(),
    };
    let content_type = request.header("content-type").unwrap_or_default();
    let expected = auth::signature(
        SANDBOX_API_SECRET,
        &auth::string_to_sign("POST", md5, content_type, &uri, date),
    );
    if key != SANDBOX_API_KEY || !auth::signatures_match(&expected, signature) {
        return Err(unauthorized("Invalid api key or signature"));
    }
    Ok(())
}
