//! Each `ApiError` as its problem: the code (from `code.rs`), the status that code comes
//! with, the field or parameter at fault, and what the vendor said.

use std::time::Duration;

use axum::http::StatusCode;
use refund_provider::{ErrorKind, Outcome};

use super::body::Problem;
use super::code::ProblemCode as Code;
use super::ApiError;

/// For a code with several statuses, which one a provider error kind gets.
fn provider_status(kind: ErrorKind, retry_after: Option<Duration>) -> Option<u16> {
    match kind {
        // A circuit held open by us says when to come back; a vendor failure does not.
        ErrorKind::Unavailable if retry_after.is_some() => Some(503),
        ErrorKind::Unavailable => Some(502),
        // A body field the vendor cannot take.
        ErrorKind::InvalidRequest => Some(422),
        _ => None,
    }
}

/// What the match below picks: the code, the status when the code has several, the body
/// field and the query parameter at fault.
type Picked = (Code, Option<u16>, Option<String>, Option<String>);

/// A fault in the client's input: 400 for a query parameter, 422 for a body field.
fn input_fault(code: Code, pointer: &Option<String>, parameter: &Option<String>) -> Picked {
    let status = if parameter.is_some() { 400 } else { 422 };
    (code, Some(status), pointer.clone(), parameter.clone())
}

fn plain(code: Code) -> Picked {
    (code, None, None, None)
}

impl ApiError {
    fn pick(&self) -> Picked {
        match self {
            ApiError::Validation {
                pointer, parameter, ..
            } => input_fault(Code::ValidationFailed, pointer, parameter),
            ApiError::MalformedJson(_) => (Code::MalformedJson, None, Some(String::new()), None),
            ApiError::MalformedBody(_) => plain(Code::MalformedBody),
            ApiError::UnsupportedMediaType | ApiError::UnsupportedBatchType => {
                plain(Code::UnsupportedMediaType)
            }
            ApiError::PayloadTooLarge(_) => plain(Code::PayloadTooLarge),
            ApiError::TooManyItems(_) => plain(Code::TooManyItems),
            ApiError::UnknownProvider {
                pointer, parameter, ..
            } => input_fault(Code::UnknownProvider, pointer, parameter),
            ApiError::NotFound(_) => plain(Code::NotFound),
            ApiError::MethodNotAllowed(_) => plain(Code::MethodNotAllowed),
            ApiError::RequestTimeout(_) => plain(Code::GatewayTimeout),
            ApiError::Internal => plain(Code::InternalError),
            ApiError::ClientRateLimited(_) => plain(Code::RateLimited),
            ApiError::Unauthenticated => plain(Code::Unauthorized),
            ApiError::ProviderForbidden {
                pointer, parameter, ..
            } => (
                Code::ProviderForbidden,
                None,
                pointer.clone(),
                parameter.clone(),
            ),
            ApiError::IdempotencyKeyMissing => plain(Code::IdempotencyKeyMissing),
            ApiError::IdempotencyKeyInvalid => plain(Code::IdempotencyKeyInvalid),
            ApiError::IdempotencyKeyReused => plain(Code::IdempotencyKeyReused),
            ApiError::IdempotencyKeyInFlight(_) => plain(Code::IdempotencyKeyInFlight),
            ApiError::NotReady => plain(Code::NotReady),
            ApiError::StorageUnavailable => plain(Code::StorageUnavailable),
            ApiError::Conflict(_) => plain(Code::RefundFinal),
            ApiError::NotApplied { .. } => plain(Code::RefundNotApplied),
            ApiError::InvalidItems(errors, _) => (
                Code::ValidationFailed,
                Some(422),
                errors.first().map(|e| e.pointer.clone()),
                None,
            ),
            ApiError::Provider(e) | ApiError::CreateFailed(e) => (
                Code::of_kind(e.kind),
                provider_status(e.kind, e.retry_after),
                e.pointer.clone(),
                None,
            ),
        }
    }

    pub(super) fn problem(&self) -> Problem {
        let (code, choice, pointer, parameter) = self.pick();
        let status =
            StatusCode::from_u16(code.status(choice)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut problem = Problem {
            type_uri: format!("urn:refund-gateway:problem:{}", code.as_str()),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: self.to_string(),
            code,
            pointer,
            parameter,
            vendor_status: None,
            vendor_code: None,
            vendor_message: None,
            outcome: None,
            refund_status: None,
            errors: match self {
                ApiError::InvalidItems(errors, _) => errors.clone(),
                _ => Vec::new(),
            },
            retry_after: None,
            request_id: None,
            refund_id: match self {
                ApiError::NotApplied { refund_id, .. } => Some(refund_id.clone()),
                _ => None,
            },
            error_count: match self {
                ApiError::InvalidItems(_, total) => Some(*total),
                _ => None,
            },
            max_items: match self {
                ApiError::TooManyItems(limit) => Some(*limit),
                _ => None,
            },
        };
        if let ApiError::Provider(e) | ApiError::CreateFailed(e) = self {
            if let Some(vendor) = &e.vendor {
                problem.vendor_status = vendor.status;
                problem.vendor_code = vendor.code.clone();
                problem.vendor_message = Some(vendor.message.clone());
            }
            problem.retry_after = e.retry_after.map(|d| d.as_secs().max(1));
        }
        if let ApiError::ClientRateLimited(wait) | ApiError::IdempotencyKeyInFlight(wait) = self {
            problem.retry_after = Some(wait.as_secs_f64().ceil().max(1.0) as u64);
        }
        if let ApiError::StorageUnavailable = self {
            problem.retry_after = Some(5);
        }
        if let ApiError::NotApplied { .. } = self {
            problem.outcome = Some(Outcome::NotApplied);
        }
        if let ApiError::CreateFailed(e) = self {
            problem.outcome = Some(e.outcome);
            if e.outcome == Outcome::Unknown {
                problem.refund_status = Some("unknown".into());
                problem.detail.push_str(
                    "; the vendor may have applied this refund: look it up before trying again, do not resend it",
                );
            }
        }
        problem
    }
}

#[cfg(test)]
mod tests {
    use refund_provider::ProviderError;

    use super::*;

    /// Every way the renderer picks a status for a code with several statuses picks one
    /// the code lists (so the document's per-status enums hold what the server sends).
    #[test]
    fn every_error_is_answered_with_a_status_its_code_lists() {
        let mut errors = vec![
            ApiError::field("/amount", "x"),
            ApiError::parameter("limit", "x"),
            ApiError::UnknownProvider {
                name: "x".into(),
                pointer: None,
                parameter: Some("provider".into()),
            },
            ApiError::UnknownProvider {
                name: "x".into(),
                pointer: Some("/provider".into()),
                parameter: None,
            },
            ApiError::InvalidItems(Vec::new(), 0),
        ];
        for kind in <refund_provider::ErrorKind as strum::IntoEnumIterator>::iter() {
            let mut error = ProviderError::new(kind, "x");
            errors.push(ApiError::Provider(error.clone()));
            error.retry_after = Some(Duration::from_secs(3));
            errors.push(ApiError::CreateFailed(error));
        }
        for error in errors {
            let (code, choice, ..) = error.pick();
            if let Some(status) = choice {
                assert!(
                    code.statuses().contains(&status),
                    "{error:?}: {code:?} answered {status}"
                );
            }
            assert!(code.statuses().contains(&error.problem().status));
        }
    }
}
