//! Stubbur's failures as `ProviderError`s: ServiceStack's `responseStatus` error bodies
//! (keeping the vendor's HTTP status, `errorCode` and message), "HTTP 200 with
//! `success: false`", and bodies that are not JSON at all.

use refund_provider::vendor_response::{read_json, status_error, unexpected_status};
use refund_provider::{ErrorKind, ProviderError, VendorFault, VendorResponse};

use crate::wire::{ErrorResponse, RefundResult, ResponseStatus};

/// The error for a non-2xx answer. A ServiceStack body maps by status: 400/405/409 ->
/// rejected, 401/403 -> unauthorized, 404 -> not found, 429 -> rate limited (with
/// Retry-After), 5xx -> unavailable with an unknown outcome. A body that is not JSON (an
/// HTML page from a proxy), an empty one, or JSON without `responseStatus` falls back to its
/// status, as for every vendor (the shared contract suite's `html_5xx` case).
pub fn from_response(response: &VendorResponse) -> ProviderError {
    if serde_json::from_slice::<serde::de::IgnoredAny>(&response.body).is_err() {
        return unexpected_status(response);
    }
    let body: ErrorResponse = match read_json(response) {
        Ok(body) => body,
        Err(e) => return e,
    };
    let Some(status) = body.response_status else {
        return unexpected_status(response);
    };
    let vendor = VendorFault {
        status: Some(response.status),
        code: status.error_code.clone().filter(|c| !c.is_empty()),
        message: vendor_message(&status),
    };
    let error = status_error(response, vendor);
    match response.status {
        405 => ProviderError {
            message: "Stubbur does not allow this method on the refund service".into(),
            ..error
        },
        409 => ProviderError {
            message: "Stubbur refused the refund as conflicting with the orders' state".into(),
            ..error
        },
        400 => ProviderError {
            message: "Stubbur refused the refund request".into(),
            ..error
        },
        403 => ProviderError {
            message: "Stubbur refused the gateway's account: it needs role Admin or TeamAdmin \
                      and permission Tickets.Add"
                .into(),
            ..error
        },
        _ => error,
    }
}

/// ServiceStack's message followed by each field error (`fieldName: message`), which is
/// where validation details live.
fn vendor_message(status: &ResponseStatus) -> String {
    let mut parts: Vec<String> = status
        .message
        .iter()
        .filter(|m| !m.trim().is_empty())
        .cloned()
        .collect();
    for e in status.errors.iter().flatten() {
        let text = e
            .message
            .as_deref()
            .or(e.error_code.as_deref())
            .unwrap_or("");
        match e.field_name.as_deref() {
            Some(field) if !field.is_empty() => parts.push(format!("{field}: {text}")),
            _ if !text.is_empty() => parts.push(text.to_string()),
            _ => {}
        }
    }
    parts.join("; ")
}

/// Decision (vendors.md [I]): business failures arrive as HTTP 200 with `success: false`.
/// With no outcome to report, that is a refusal: `Rejected`, keeping `statusCode` as the
/// vendor code and `message` as its words. Nothing was refunded, so the outcome is known.
pub fn rejected_in_body(response: &VendorResponse, result: &RefundResult) -> ProviderError {
    ProviderError::new(ErrorKind::Rejected, "Stubbur refused the refund").with_vendor(VendorFault {
        status: Some(response.status),
        code: result.status_code.map(|c| c.to_string()),
        message: result
            .message
            .clone()
            .unwrap_or_else(|| "success: false, no message".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use refund_provider::Outcome;

    fn response(status: u16, body: &str) -> VendorResponse {
        VendorResponse::new(status, body.to_string())
    }

    #[test]
    fn service_stack_errors_keep_status_code_and_field_errors() {
        let body = r#"{"responseStatus":{"errorCode":"ArgumentException","message":"Nothing selected",
            "errors":[{"errorCode":"NotEmpty","fieldName":"EventId","message":"'Event Id' must not be empty."}]}}"#;
        let e = from_response(&response(400, body));
        assert_eq!(e.kind, ErrorKind::Rejected);
        let v = e.vendor.unwrap();
        assert_eq!(
            (v.status, v.code.as_deref()),
            (Some(400), Some("ArgumentException"))
        );
        assert_eq!(
            v.message,
            "Nothing selected; EventId: 'Event Id' must not be empty."
        );
    }

    #[test]
    fn statuses_map_to_kinds() {
        let body = r#"{"responseStatus":{"errorCode":"X","message":"m"}}"#;
        for (status, kind) in [
            (401, ErrorKind::Unauthorized),
            (403, ErrorKind::Unauthorized),
            (404, ErrorKind::NotFound),
            (405, ErrorKind::Rejected),
            (409, ErrorKind::Rejected),
            (429, ErrorKind::RateLimited),
            (500, ErrorKind::Unavailable),
        ] {
            assert_eq!(
                from_response(&response(status, body)).kind,
                kind,
                "{status}"
            );
        }
        assert_eq!(
            from_response(&response(500, body)).outcome,
            Outcome::Unknown
        );
        assert_eq!(
            from_response(&response(409, body)).outcome,
            Outcome::NotApplied
        );
    }

    #[test]
    fn a_body_that_is_not_json_leaves_the_status_to_decide() {
        let e = from_response(&response(502, "<html><body>Bad Gateway</body></html>"));
        assert_eq!(
            (e.kind, e.outcome),
            (ErrorKind::Unavailable, Outcome::Unknown)
        );
        assert_eq!(e.vendor.unwrap().status, Some(502));
        assert_eq!(
            from_response(&response(500, "{\"a\":")).kind,
            ErrorKind::Unavailable
        );
        assert_eq!(
            from_response(&response(404, "{}")).kind,
            ErrorKind::NotFound
        );
        assert_eq!(
            from_response(&response(401, "")).kind,
            ErrorKind::Unauthorized
        );
    }
}
