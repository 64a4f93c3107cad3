//! Reading vendor answers the same way for every vendor: transport failures, unreadable
//! bodies and HTTP statuses become `ProviderError`s that keep the vendor's status and words.
//! Providers handle the answers they understand and fall back to these for the rest.

use serde::de::DeserializeOwned;

use crate::error::{ErrorKind, ProviderError, VendorFault};
use crate::transport::{TransportError, VendorResponse};

/// How much of a vendor body is kept in an error: enough for an operator to recognise an
/// HTML error page or a truncated document, not a whole payload.
const SNIPPET_CHARS: usize = 300;

impl From<TransportError> for ProviderError {
    fn from(error: TransportError) -> Self {
        let message = error.to_string();
        match error {
            TransportError::Connect(_) => ProviderError::new(ErrorKind::Unavailable, message),
            TransportError::Timeout { sent, .. } => {
                let e = ProviderError::new(ErrorKind::Timeout, message);
                if sent {
                    e.outcome_unknown()
                } else {
                    e
                }
            }
            TransportError::Broken(_) => {
                ProviderError::new(ErrorKind::Unavailable, message).outcome_unknown()
            }
            TransportError::Throttled { retry_after }
            | TransportError::CircuitOpen { retry_after } => {
                let kind = if matches!(error, TransportError::Throttled { .. }) {
                    ErrorKind::RateLimited
                } else {
                    ErrorKind::Unavailable
                };
                ProviderError::new(kind, message).retry_after(Some(retry_after))
            }
        }
    }
}

/// The start of a body, with whitespace folded, for error messages.
pub fn body_snippet(response: &VendorResponse) -> String {
    let text = String::from_utf8_lossy(&response.body);
    let folded: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match folded.char_indices().nth(SNIPPET_CHARS) {
        Some((cut, _)) => format!("{}…", &folded[..cut]),
        None => folded,
    }
}

/// Parses a JSON body. Anything unreadable is a `BadResponse` whose outcome is unknown:
/// the vendor answered, so it may have acted.
pub fn read_json<T: DeserializeOwned>(response: &VendorResponse) -> Result<T, ProviderError> {
    serde_json::from_slice(&response.body).map_err(|e| {
        ProviderError::new(
            ErrorKind::BadResponse,
            format!("the vendor's answer could not be read ({e})"),
        )
        .with_vendor(VendorFault {
            status: Some(response.status),
            code: None,
            message: body_snippet(response),
        })
        .outcome_unknown()
    })
}

/// The error for a non-success status whose body the provider could not interpret as one
/// of the vendor's documented errors. Server errors leave the outcome unknown.
pub fn status_error(response: &VendorResponse, vendor: VendorFault) -> ProviderError {
    let (kind, message) = match response.status {
        401 | 403 => (
            ErrorKind::Unauthorized,
            "the vendor refused the gateway's credentials for this provider",
        ),
        404 => (ErrorKind::NotFound, "the vendor does not know this target"),
        429 => (ErrorKind::RateLimited, "the vendor asks us to slow down"),
        400..=499 => (ErrorKind::Rejected, "the vendor rejected the request"),
        _ => (
            ErrorKind::Unavailable,
            "the vendor failed to process the request",
        ),
    };
    let error = ProviderError::new(kind, message)
        .with_vendor(vendor)
        .retry_after(response.retry_after());
    if response.status >= 500 {
        error.outcome_unknown()
    } else {
        error
    }
}

/// `status_error` for a body that carries nothing but its own text.
pub fn unexpected_status(response: &VendorResponse) -> ProviderError {
    status_error(
        response,
        VendorFault {
            status: Some(response.status),
            code: None,
            message: body_snippet(response),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> VendorResponse {
        VendorResponse::new(status, body.to_string())
    }

    #[test]
    fn html_pages_keep_status_and_words() {
        let r = response(502, "<html>\n <body>  Bad   Gateway </body></html>");
        let e = read_json::<serde_json::Value>(&r).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadResponse);
        let vendor = e.vendor.unwrap();
        assert_eq!(vendor.status, Some(502));
        assert_eq!(vendor.message, "<html> <body> Bad Gateway </body></html>");
    }

    #[test]
    fn statuses_classify() {
        assert_eq!(
            unexpected_status(&response(404, "")).kind,
            ErrorKind::NotFound
        );
        assert_eq!(
            unexpected_status(&response(401, "")).kind,
            ErrorKind::Unauthorized
        );
        let e = unexpected_status(&response(503, "down"));
        assert_eq!(
            (e.kind, e.outcome),
            (ErrorKind::Unavailable, crate::Outcome::Unknown)
        );
        let long = "x".repeat(1000);
        assert_eq!(
            body_snippet(&response(500, &long)).chars().count(),
            SNIPPET_CHARS + 1
        );
    }
}
