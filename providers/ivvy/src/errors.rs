//! Deciding whether an iVvy answer failed and what it means. iVvy decides failure by an
//! `errorCode` in the body, whatever the HTTP status (its own SDK does the same), so an
//! HTTP 200 can be an error and an HTTP 401 with a body is read for its specific code.

use refund_provider::vendor_response::{read_json, unexpected_status};
use refund_provider::{ErrorKind, ProviderError, VendorFault, VendorResponse};
use serde::de::DeserializeOwned;

use crate::wire::ErrorBody;

/// iVvy's refund-specific codes (`specificCode`), from the addRefundToBooking doc.
pub const NOTHING_REFUNDABLE: i64 = 24145;
pub const MORE_THAN_PAYABLE: i64 = 24146;
pub const AMOUNT_NOT_POSITIVE: i64 = 24147;
pub const NOT_APPLIED_IN_FULL: i64 = 24148;
pub const INVALID_REFUND_DETAILS: i64 = 24149;
/// getInvoice: unable to find invoice.
pub const INVOICE_NOT_FOUND: i64 = 24137;
/// The request is older than iVvy's 5-minute window (sent with errorCode 401).
pub const STALE_REQUEST: i64 = 23005;

/// Longest vendor message kept in an error.
const MESSAGE_CHARS: usize = 500;

/// Reads a successful answer as `T`, or the error it is: an `errorCode` body first, then a
/// non-2xx status (an HTML error page, an empty 429), then an unreadable 2xx body.
pub fn decode<T: DeserializeOwned>(response: &VendorResponse) -> Result<T, ProviderError> {
    if let Ok(serde_json::Value::Object(map)) =
        serde_json::from_slice::<serde_json::Value>(&response.body)
    {
        if map.contains_key("errorCode") {
            let body = serde_json::from_value::<ErrorBody>(serde_json::Value::Object(map));
            return Err(match body {
                Ok(body) => vendor_error(response, &body),
                Err(_) => unexpected_status(response),
            });
        }
    }
    if !response.is_success() {
        return Err(unexpected_status(response));
    }
    read_json(response)
}

/// Decision (lead's notes, issue 3): refund-specific codes first, each to its own kind;
/// then the errorCode's meaning. The specific code (or else the errorCode) is kept as the
/// vendor code, and message + additionalMessages as the vendor message.
pub fn vendor_error(response: &VendorResponse, body: &ErrorBody) -> ProviderError {
    let error_code = as_int(&body.error_code);
    let specific = body.specific_code.as_ref().and_then(as_int);
    let fault = VendorFault {
        status: Some(response.status),
        code: specific
            .or(error_code)
            .map(|c| c.to_string())
            .or_else(|| Some(body.error_code.to_string())),
        message: vendor_message(body),
    };
    let error = match specific {
        Some(NOTHING_REFUNDABLE) => ProviderError::new(
            ErrorKind::NothingRefundable,
            "iVvy says the booking has no amount left that can be refunded",
        )
        .at("/target/booking"),
        Some(MORE_THAN_PAYABLE) => ProviderError::new(
            ErrorKind::AmountExceedsRefundable,
            "iVvy refuses to refund more than the total amount payable on the booking",
        )
        .at("/amount/value"),
        Some(AMOUNT_NOT_POSITIVE) => ProviderError::new(
            ErrorKind::AmountInvalid,
            "iVvy says the refund amount must be greater than zero",
        )
        .at("/amount/value"),
        Some(NOT_APPLIED_IN_FULL) => ProviderError::new(
            ErrorKind::PartiallyApplied,
            "iVvy could not apply the full refund amount to the booking; part of it may have \
             been applied: list the booking's refunds before trying again",
        )
        .outcome_unknown(),
        Some(INVALID_REFUND_DETAILS) => ProviderError::new(
            ErrorKind::Rejected,
            "iVvy says the refund details are invalid",
        ),
        Some(INVOICE_NOT_FOUND) => {
            ProviderError::new(ErrorKind::NotFound, "iVvy cannot find this invoice")
        }
        Some(STALE_REQUEST) => ProviderError::new(
            ErrorKind::Unauthorized,
            "iVvy refused the request as stale (signed more than 5 minutes before it \
             arrived): check the gateway host's clock",
        ),
        _ => by_error_code(error_code),
    };
    let error = error.with_vendor(fault);
    if error.kind == ErrorKind::RateLimited {
        error.retry_after(response.retry_after())
    } else {
        error
    }
}

/// The meaning of iVvy's `errorCode` when no specific code says more.
fn by_error_code(error_code: Option<i64>) -> ProviderError {
    match error_code {
        // 403 too: a key without the right to this call is an operator problem as well.
        Some(401 | 403 | 462 | 463) => ProviderError::new(
            ErrorKind::Unauthorized,
            "iVvy refused the gateway's credentials for this provider",
        ),
        Some(404) => ProviderError::new(ErrorKind::NotFound, "iVvy does not know this target"),
        Some(429) => ProviderError::new(ErrorKind::RateLimited, "iVvy asks us to slow down"),
        Some(500..=599) => {
            ProviderError::new(ErrorKind::Unavailable, "iVvy failed to process the request")
                .outcome_unknown()
        }
        _ => ProviderError::new(ErrorKind::Rejected, "iVvy rejected the request"),
    }
}

fn as_int(value: &serde_json::Value) -> Option<i64> {
    match value {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `message` followed by each of `additionalMessages`, joined by `; `, trimmed to length.
fn vendor_message(body: &ErrorBody) -> String {
    let mut parts: Vec<String> = body.message.iter().map(|m| m.trim().to_string()).collect();
    match &body.additional_messages {
        Some(serde_json::Value::Array(items)) => {
            parts.extend(items.iter().map(|item| match item {
                serde_json::Value::String(s) => s.trim().to_string(),
                other => other.to_string(),
            }))
        }
        Some(serde_json::Value::String(s)) => parts.push(s.trim().to_string()),
        _ => {}
    }
    parts.retain(|p| !p.is_empty());
    let joined = parts.join("; ");
    match joined.char_indices().nth(MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &joined[..cut]),
        None => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use refund_provider::Outcome;

    fn response(status: u16, body: &str) -> VendorResponse {
        VendorResponse::new(status, body.to_string())
    }

    fn err(status: u16, body: &str) -> ProviderError {
        decode::<serde_json::Value>(&response(status, body)).unwrap_err()
    }

    #[test]
    fn each_refund_code_has_its_own_kind() {
        let cases = [
            (24145, ErrorKind::NothingRefundable),
            (24146, ErrorKind::AmountExceedsRefundable),
            (24147, ErrorKind::AmountInvalid),
            (24148, ErrorKind::PartiallyApplied),
            (24149, ErrorKind::Rejected),
        ];
        for (code, kind) in cases {
            let body = format!(
                r#"{{"errorCode": 400, "message": "m", "specificCode": {code}, "additionalMessages": ["a", "b"]}}"#
            );
            let e = err(400, &body);
            assert_eq!(e.kind, kind, "{code}");
            let vendor = e.vendor.unwrap();
            assert_eq!(vendor.code.as_deref(), Some(code.to_string().as_str()));
            assert_eq!(vendor.message, "m; a; b");
            assert_eq!(vendor.status, Some(400));
        }
        assert_eq!(
            err(400, r#"{"errorCode": 400, "specificCode": 24148}"#).outcome,
            Outcome::Unknown
        );
    }

    #[test]
    fn the_body_decides_not_the_status() {
        let e = err(
            200,
            r#"{"errorCode": "400", "message": "no", "specificCode": "24146"}"#,
        );
        assert_eq!(e.kind, ErrorKind::AmountExceedsRefundable);
        assert_eq!(e.vendor.unwrap().status, Some(200));
        let e = err(
            401,
            r#"{"errorCode": 401, "message": "Stale", "specificCode": 23005}"#,
        );
        assert_eq!(e.kind, ErrorKind::Unauthorized);
        assert!(e.message.contains("clock"));
        for (code, kind) in [
            (463, ErrorKind::Unauthorized),
            (404, ErrorKind::NotFound),
            (461, ErrorKind::Rejected),
            (501, ErrorKind::Unavailable),
        ] {
            assert_eq!(err(200, &format!(r#"{{"errorCode": {code}}}"#)).kind, kind);
        }
    }

    #[test]
    fn amounts_are_read_exactly_or_refused_never_rounded() {
        let invoice =
            |paid: &str| response(200, &format!(r#"{{"id": 1736, "amountPaid": {paid}}}"#));
        for (text, exact) in [
            ("12345678901234567.89", "12345678901234567.89"),
            ("10.5", "10.5"),
            ("0.1", "0.1"),
        ] {
            let i: crate::wire::Invoice = decode(&invoice(text)).unwrap();
            assert_eq!(i.amount_paid.unwrap().to_string(), exact);
        }
        let e = decode::<crate::wire::Invoice>(&invoice("1234567890123456.78901234567890"))
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadResponse);
        assert!(e.message.contains("never rounded"), "{}", e.message);
    }

    #[test]
    fn unreadable_answers() {
        assert_eq!(
            err(503, "<html>Service Unavailable</html>").kind,
            ErrorKind::Unavailable
        );
        let mut limited = response(429, "");
        limited.headers.insert("retry-after", "30".parse().unwrap());
        let e = decode::<serde_json::Value>(&limited).unwrap_err();
        assert_eq!(e.kind, ErrorKind::RateLimited);
        assert_eq!(e.retry_after, Some(std::time::Duration::from_secs(30)));
        let e = err(200, r#"{"Success": true, "refundDe"#);
        assert_eq!(
            (e.kind, e.outcome),
            (ErrorKind::BadResponse, Outcome::Unknown)
        );
        assert!(decode::<serde_json::Value>(&response(200, r#"{"Success": true}"#)).is_ok());
    }

    #[test]
    fn rate_limit_bodies_keep_retry_after() {
        let mut r = response(429, r#"{"errorCode": 429, "message": "Too Many Requests"}"#);
        r.headers.insert("retry-after", "7".parse().unwrap());
        let e = decode::<serde_json::Value>(&r).unwrap_err();
        assert_eq!(e.retry_after, Some(std::time::Duration::from_secs(7)));
    }
}
