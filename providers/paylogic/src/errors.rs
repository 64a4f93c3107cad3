//! Paylogic's non-success answers as `ProviderError`s. The error body format is not
//! published (vendors.md [?]), so the provider reads what it can and keeps the rest.

use refund_provider::vendor_response::{body_snippet, status_error};
use refund_provider::{ProviderError, VendorFault, VendorResponse};

use crate::wire::WireError;

/// Decision (vendors.md: error format [?]): when the body is JSON, its message is the first
/// of `message`, `detail`, `error` (a string as is, anything else as compact JSON) and its
/// code is `code` (string or number); otherwise the body's first characters are kept.
/// The HTTP status decides the kind: 401/403 unauthorized, 404 not found, 429 rate limited
/// (with `Retry-After`), other 4xx rejected, 5xx (and anything else) unavailable.
pub fn from_status(response: &VendorResponse) -> ProviderError {
    // Only a JSON object is an error document (serde would also read an array as one).
    let parsed = serde_json::from_slice::<serde_json::Value>(&response.body)
        .ok()
        .filter(serde_json::Value::is_object)
        .and_then(|v| serde_json::from_value::<WireError>(v).ok());
    let message = parsed
        .as_ref()
        .and_then(|e| [&e.message, &e.detail, &e.error].into_iter().find_map(text))
        .unwrap_or_else(|| body_snippet(response));
    let code = parsed.as_ref().and_then(|e| text(&e.code));
    status_error(
        response,
        VendorFault {
            status: Some(response.status),
            code,
            message,
        },
    )
}

fn text(value: &Option<serde_json::Value>) -> Option<String> {
    match value.as_ref()? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) if s.trim().is_empty() => None,
        serde_json::Value::String(s) => Some(s.trim().to_string()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use refund_provider::http::HeaderValue;
    use refund_provider::{ErrorKind, Outcome};
    use std::time::Duration;

    fn response(status: u16, body: &str) -> VendorResponse {
        VendorResponse::new(status, body.to_string())
    }

    fn vendor(e: &ProviderError) -> &VendorFault {
        e.vendor.as_deref().unwrap()
    }

    #[test]
    fn reads_message_detail_or_error() {
        let e = from_status(&response(401, r#"{"detail": "Invalid credentials."}"#));
        assert_eq!(e.kind, ErrorKind::Unauthorized);
        assert_eq!(vendor(&e).message, "Invalid credentials.");
        assert_eq!(vendor(&e).status, Some(401));

        let e = from_status(&response(404, r#"{"message": "Not found", "code": 404}"#));
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert_eq!(vendor(&e).code.as_deref(), Some("404"));

        let e = from_status(&response(
            400,
            r#"{"error": {"order": ["bad uri"]}, "code": "invalid"}"#,
        ));
        assert_eq!(e.kind, ErrorKind::Rejected);
        assert_eq!(vendor(&e).message, r#"{"order":["bad uri"]}"#);
        assert_eq!(vendor(&e).code.as_deref(), Some("invalid"));

        let e = from_status(&response(403, r#"{"message": "", "detail": "Forbidden"}"#));
        assert_eq!(e.kind, ErrorKind::Unauthorized);
        assert_eq!(vendor(&e).message, "Forbidden");
    }

    #[test]
    fn rate_limits_keep_retry_after() {
        let mut r = response(429, r#"{"message": "Too many requests"}"#);
        r.headers
            .insert("retry-after", HeaderValue::from_static("30"));
        let e = from_status(&r);
        assert_eq!(e.kind, ErrorKind::RateLimited);
        assert_eq!(e.retry_after, Some(Duration::from_secs(30)));
    }

    #[test]
    fn html_and_empty_bodies_keep_their_text() {
        let e = from_status(&response(
            503,
            "<html><body><h1>503 Service Unavailable</h1></body></html>",
        ));
        assert_eq!(
            (e.kind, e.outcome),
            (ErrorKind::Unavailable, Outcome::Unknown)
        );
        assert!(vendor(&e).message.contains("503 Service Unavailable"));
        let e = from_status(&response(500, ""));
        assert_eq!(e.kind, ErrorKind::Unavailable);
        assert_eq!(vendor(&e).message, "");
        let e = from_status(&response(404, "[1, 2]"));
        assert_eq!(
            (e.kind, vendor(&e).message.as_str()),
            (ErrorKind::NotFound, "[1, 2]")
        );
    }
}
