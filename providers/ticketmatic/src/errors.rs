//! Ticketmatic's failed answers -> `ProviderError`: the documented error body
//! `{code, message, applicationcode, applicationdata}` keeps the vendor's status, code and
//! words; a 429 carries `Retry-After` and a queue-status body; a body that is not JSON (an
//! HTML error page from a proxy, plain text) is classified by the status alone, as for every
//! vendor (a 5xx is `Unavailable`; the shared contract suite's `html_5xx` case).

use refund_provider::vendor_response::{body_snippet, status_error, unexpected_status};
use refund_provider::{ErrorKind, ProviderError, VendorFault, VendorResponse};

use crate::wire::ErrorBody;

/// The error for a non-2xx answer.
pub fn from_response(response: &VendorResponse) -> ProviderError {
    if response.status == 429 {
        // The body is a queue status (`{id, progress, backoff, ...}`), not an error body,
        // and may be anything: the status and Retry-After say all we need.
        return ProviderError::new(ErrorKind::RateLimited, "Ticketmatic asks us to slow down")
            .with_vendor(VendorFault {
                status: Some(429),
                code: None,
                message: body_snippet(response),
            })
            .retry_after(response.retry_after());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&response.body) else {
        return unexpected_status(response);
    };
    let body: ErrorBody = serde_json::from_value(value).unwrap_or_default();
    let code = body
        .applicationcode
        .as_ref()
        .filter(|c| !c.is_null())
        .or(body.code.as_ref().filter(|c| !c.is_null()))
        .map(scalar_text);
    let mut message = match body.message.as_deref().map(str::trim) {
        Some(m) if !m.is_empty() => m.to_string(),
        _ => body_snippet(response),
    };
    // `applicationdata` details the error (which field, which limit) when present.
    if let Some(data) = body.applicationdata.filter(|d| !d.is_null()) {
        let data = data.to_string();
        message = format!("{message} ({})", data.chars().take(200).collect::<String>());
    }
    status_error(
        response,
        VendorFault {
            status: Some(response.status),
            code,
            message,
        },
    )
}

/// A JSON scalar as text: `1234` and `"1234"` both give `1234`.
fn scalar_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use refund_provider::http::HeaderValue;
    use refund_provider::Outcome;

    fn response(status: u16, body: &str) -> VendorResponse {
        VendorResponse::new(status, body.to_string())
    }

    #[test]
    fn documented_error_bodies_keep_code_and_message() {
        let e = from_response(&response(
            400,
            r#"{"code": 400, "message": "Invalid payment", "applicationcode": 6001, "applicationdata": null}"#,
        ));
        assert_eq!(e.kind, ErrorKind::Rejected);
        let v = e.vendor.unwrap();
        assert_eq!(
            (v.status, v.code.as_deref(), v.message.as_str()),
            (Some(400), Some("6001"), "Invalid payment")
        );
        let e = from_response(&response(
            400,
            r#"{"code": 400, "message": "Bad amount", "applicationcode": 6002, "applicationdata": {"field": "amount"}}"#,
        ));
        assert_eq!(
            e.vendor.unwrap().message,
            r#"Bad amount ({"field":"amount"})"#
        );
        let e = from_response(&response(403, r#"{"code": 403, "message": "No rights"}"#));
        assert_eq!(e.kind, ErrorKind::Unauthorized);
        assert_eq!(e.vendor.unwrap().code.as_deref(), Some("403"));
        assert_eq!(
            from_response(&response(401, "{}")).kind,
            ErrorKind::Unauthorized
        );
        assert_eq!(
            from_response(&response(404, "{}")).kind,
            ErrorKind::NotFound
        );
        let e = from_response(&response(500, r#"{"code": 500, "message": "Oops"}"#));
        assert_eq!(
            (e.kind, e.outcome),
            (ErrorKind::Unavailable, Outcome::Unknown)
        );
    }

    #[test]
    fn rate_limits_carry_retry_after() {
        let mut r = response(429, r#"{"id": "q-1", "progress": 0, "backoff": 5000}"#);
        r.headers
            .insert("retry-after", HeaderValue::from_static("5"));
        let e = from_response(&r);
        assert_eq!(e.kind, ErrorKind::RateLimited);
        assert_eq!(e.retry_after, Some(std::time::Duration::from_secs(5)));
    }

    #[test]
    fn a_body_that_is_not_json_leaves_the_status_to_decide() {
        let e = from_response(&response(502, "<html><body>Bad Gateway</body></html>"));
        assert_eq!(
            (e.kind, e.outcome),
            (ErrorKind::Unavailable, Outcome::Unknown)
        );
        let v = e.vendor.unwrap();
        assert_eq!(
            (v.status, v.message.as_str()),
            (Some(502), "<html><body>Bad Gateway</body></html>")
        );
        let e = from_response(&response(500, "Internal Server Error"));
        assert_eq!(e.kind, ErrorKind::Unavailable);
        let e = from_response(&response(403, "<html>Forbidden</html>"));
        assert_eq!(e.kind, ErrorKind::Unauthorized);
        // JSON but not the error shape: the status decides, the snippet is the message.
        let e = from_response(&response(400, r#"["odd"]"#));
        assert_eq!(e.kind, ErrorKind::Rejected);
        assert_eq!(e.vendor.unwrap().message, r#"["odd"]"#);
    }
}
