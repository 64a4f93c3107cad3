//! Reading Fourvenues answers: a ticket on success, otherwise a `ProviderError` that keeps
//! the vendor's HTTP status and words. The error body is undocumented (vendors.md [?]).

use refund_provider::vendor_response::{body_snippet, read_json, status_error, unexpected_status};
use refund_provider::{ErrorKind, Outcome, ProviderError, VendorFault, VendorResponse};
use serde::Deserialize;

use crate::wire::{Envelope, Ticket};

/// Decision (vendors.md): a Fourvenues error body is `{"success": false, "message"?: ".."}`
/// (statuses 400, 401, 404 documented). An error status is classified by the status
/// (400 rejected, 401/403 unauthorized, 404 not found, 429 rate limited with `Retry-After`,
/// 5xx unavailable) and keeps `message` when the body is that JSON, or the start of the
/// body otherwise (an HTML error page). A 2xx answer that is not readable JSON is
/// `provider_bad_response`; a 2xx answer with `success: false` is a rejection.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: Option<serde_json::Value>,
}

/// The ticket of a successful answer, or the error the answer stands for.
pub fn read_ticket(response: &VendorResponse) -> Result<Ticket, ProviderError> {
    if !response.is_success() {
        return Err(error_from_status(response));
    }
    let envelope: Envelope<Ticket> = read_json(response)?;
    if envelope.success == Some(false) {
        return Err(ProviderError::new(
            ErrorKind::Rejected,
            "the vendor answered that the request failed",
        )
        .with_vendor(fault(response, envelope.message)));
    }
    envelope.data.ok_or_else(|| {
        ProviderError::new(
            ErrorKind::BadResponse,
            "the vendor's answer has no ticket in `data`",
        )
        .with_vendor(fault(response, None))
        .outcome_unknown()
    })
}

/// The error of a non-2xx answer.
fn error_from_status(response: &VendorResponse) -> ProviderError {
    match serde_json::from_slice::<ErrorBody>(&response.body) {
        Ok(body) => {
            let message = body.message.map(|m| match m {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            });
            status_error(response, fault(response, message))
        }
        Err(_) => unexpected_status(response),
    }
}

fn fault(response: &VendorResponse, message: Option<String>) -> VendorFault {
    VendorFault {
        status: Some(response.status),
        code: None,
        message: message.unwrap_or_else(|| body_snippet(response)),
    }
}

/// A failed read (`GET`) changed nothing at the vendor, whatever the failure: the refund
/// it precedes was not sent.
pub fn read_failed(mut error: ProviderError) -> ProviderError {
    error.outcome = Outcome::NotApplied;
    error
}

#[cfg(test)]
mod tests {
    use super::*;
    use refund_provider::http::HeaderValue;

    fn response(status: u16, body: &str) -> VendorResponse {
        VendorResponse::new(status, body.to_string())
    }

    #[test]
    fn amounts_are_read_exactly_or_refused_never_rounded() {
        let ticket = |total: &str| {
            format!(r#"{{"success": true, "data": {{"_id": "t", "total_price": {total}}}}}"#)
        };
        let t = read_ticket(&response(200, &ticket("12345678901234567.89"))).unwrap();
        assert_eq!(t.total_price.unwrap().to_string(), "12345678901234567.89");
        let t = read_ticket(&response(200, &ticket("16.1"))).unwrap();
        assert_eq!(t.total_price.unwrap().to_string(), "16.1");
        // 30 significant digits: more than a decimal holds, so refused rather than rounded.
        let e =
            read_ticket(&response(200, &ticket("1234567890123456.78901234567890"))).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadResponse);
        assert!(e.message.contains("never rounded"), "{}", e.message);
    }

    #[test]
    fn documented_errors_keep_status_and_message() {
        for (status, kind) in [
            (400, ErrorKind::Rejected),
            (401, ErrorKind::Unauthorized),
            (404, ErrorKind::NotFound),
        ] {
            let e = read_ticket(&response(status, r#"{"success":false,"message":"Nope"}"#))
                .unwrap_err();
            assert_eq!(e.kind, kind);
            let v = e.vendor.unwrap();
            assert_eq!((v.status, v.message.as_str()), (Some(status), "Nope"));
            assert_eq!(e.outcome, Outcome::NotApplied);
        }
    }

    #[test]
    fn rate_limits_carry_retry_after() {
        let mut r = response(429, r#"{"success":false}"#);
        r.headers
            .insert("retry-after", HeaderValue::from_static("30"));
        let e = read_ticket(&r).unwrap_err();
        assert_eq!(e.kind, ErrorKind::RateLimited);
        assert_eq!(e.retry_after, Some(std::time::Duration::from_secs(30)));
    }

    #[test]
    fn garbage_is_classified_without_panicking() {
        let html =
            read_ticket(&response(502, "<html><body>Bad Gateway</body></html>")).unwrap_err();
        assert_eq!(
            (html.kind, html.outcome),
            (ErrorKind::Unavailable, Outcome::Unknown)
        );
        assert!(html.vendor.unwrap().message.contains("Bad Gateway"));
        let cut = read_ticket(&response(200, r#"{"data": {"_id": "a", "refu"#)).unwrap_err();
        assert_eq!(
            (cut.kind, cut.outcome),
            (ErrorKind::BadResponse, Outcome::Unknown)
        );
        let empty = read_ticket(&response(200, r#"{"success": true}"#)).unwrap_err();
        assert_eq!(empty.kind, ErrorKind::BadResponse);
        let refused = read_ticket(&response(200, r#"{"success": false, "message": "x"}"#));
        assert_eq!(refused.unwrap_err().kind, ErrorKind::Rejected);
        assert_eq!(read_failed(cut).outcome, Outcome::NotApplied);
    }

    #[test]
    fn a_ticket_is_read() {
        let t = read_ticket(&response(200, r#"{"success": true, "data": {"_id": "a"}}"#)).unwrap();
        assert_eq!(t.id, "a");
    }
}
