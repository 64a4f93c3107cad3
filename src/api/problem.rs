//! RFC 9457 problem details. This is the only place that chooses an HTTP status for an
//! error: gateway errors and provider error kinds alike are mapped here, once.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use refund_provider::{ErrorKind, Outcome, ProviderError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::service::ServiceError;

mod from_service;

/// Everything a request can fail with at the API layer.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A well-formed request whose content is wrong: a body field (`pointer`) or a query
    /// parameter (`parameter`).
    #[error("{message}")]
    Validation {
        message: String,
        pointer: Option<String>,
        parameter: Option<String>,
    },
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("the request body could not be read: {0}")]
    MalformedBody(String),
    #[error("the request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("the request body is larger than the limit of {0} bytes")]
    PayloadTooLarge(usize),
    /// A batch upload with more items than `batches.max_items`.
    #[error("a batch holds at most {0} items; send the rest as another batch")]
    TooManyItems(usize),
    #[error("a batch is sent as application/json, text/csv or application/x-ndjson")]
    UnsupportedBatchType,
    #[error("no provider instance is named `{name}`; GET /v1/providers lists them")]
    UnknownProvider {
        name: String,
        pointer: Option<String>,
        parameter: Option<String>,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("the gateway did not finish the request within {0:?}")]
    RequestTimeout(Duration),
    #[error("too many requests from this client; retry after {0:?}")]
    ClientRateLimited(Duration),
    #[error("send a valid API key: `Authorization: Bearer <key>`")]
    Unauthenticated,
    #[error("this client may not use provider instance `{name}`")]
    ProviderForbidden {
        name: String,
        pointer: Option<String>,
        parameter: Option<String>,
    },
    #[error("creates need an `Idempotency-Key` header (a unique string per refund, reused only to retry it)")]
    IdempotencyKeyMissing,
    #[error("the `Idempotency-Key` header must be 1 to 255 visible ASCII characters")]
    IdempotencyKeyInvalid,
    #[error("this Idempotency-Key was used with a different request body")]
    IdempotencyKeyReused,
    #[error("a request with this Idempotency-Key is still being processed; retry after {0:?}")]
    IdempotencyKeyInFlight(Duration),
    #[error(
        "the gateway cannot take refunds now: its ledger cannot be reached or is not migrated"
    )]
    NotReady,
    /// The ledger failed; what the database said stays in the log, not in the answer.
    #[error("the ledger is unavailable right now; try again shortly")]
    StorageUnavailable,
    #[error("{0}")]
    Conflict(String),
    /// Several fields at fault at once (a batch is refused whole): the first ones, and how
    /// many in all.
    #[error("{total} item(s) of the request are invalid; `errors` lists the first {shown}", total = .1, shown = .0.len())]
    InvalidItems(Vec<FieldError>, usize),
    /// A create whose refund ended without being applied (found so after the gateway that
    /// took it stopped): not a success, and safe to try again under a new key.
    #[error("refund {refund_id} was not applied: {message}; it is safe to try again with a new Idempotency-Key")]
    NotApplied { refund_id: String, message: String },
    /// A lookup, or anything else that changes nothing at the vendor.
    #[error("{}", .0.message)]
    Provider(ProviderError),
    /// A create: its problem says whether the vendor may have applied it.
    #[error("{}", .0.message)]
    CreateFailed(ProviderError),
}

impl ApiError {
    pub fn field(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation {
            message: message.into(),
            pointer: Some(pointer.into()),
            parameter: None,
        }
    }

    pub fn parameter(parameter: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation {
            message: message.into(),
            pointer: None,
            parameter: Some(parameter.into()),
        }
    }

    /// The same error, for a provider named by the query parameter `provider` rather than
    /// by the body.
    pub fn from_query(error: ServiceError) -> Self {
        match ApiError::from(error) {
            ApiError::UnknownProvider { name, .. } => ApiError::UnknownProvider {
                name,
                pointer: None,
                parameter: Some("provider".into()),
            },
            ApiError::ProviderForbidden { name, .. } => ApiError::ProviderForbidden {
                name,
                pointer: None,
                parameter: Some("provider".into()),
            },
            other => other,
        }
    }
}

impl From<ProviderError> for ApiError {
    fn from(e: ProviderError) -> Self {
        ApiError::Provider(e)
    }
}

/// One field at fault, in a problem that names several.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    pub pointer: String,
    pub code: String,
    pub detail: String,
    /// The line of an uploaded file (CSV or NDJSON) the item at fault is on; a CSV's
    /// header is line 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The column at fault: its header name in a CSV, or the character position in a line
    /// that is not JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
}

/// The problem+json body. `code` is stable and meant for programs; `detail` for people.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
    /// JSON pointer to the body field at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// The query parameter at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// The vendor's HTTP status, error code and words, for the operator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_message: Option<String>,
    /// On a failed create: `not_applied`, or `unknown` when the vendor may have applied it.
    /// An unknown outcome must be settled by a lookup, never by sending the create again.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub outcome: Option<Outcome>,
    /// On a create whose outcome is unknown: the refund's canonical status, `unknown`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_status: Option<String>,
    /// The fields at fault, when there are several (the first 100).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The ledger refund the problem is about, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
    /// How many fields are at fault in all, when there are several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_count: Option<usize>,
    /// The most items a batch may hold, when an upload held more (413 `too_many_items`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_items: Option<usize>,
    /// Seconds to wait before trying again (also sent as `Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// The id of the request this answers (also sent as `x-request-id`): written when the
    /// answer leaves the gateway, so a replayed answer carries the replaying request's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

fn provider_status(kind: ErrorKind, retry_after: Option<Duration>) -> StatusCode {
    match kind {
        ErrorKind::InvalidRequest
        | ErrorKind::AmountNotRepresentable
        | ErrorKind::CurrencyNotSupported
        | ErrorKind::AmountExceedsRefundable
        | ErrorKind::Rejected => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::NothingRefundable | ErrorKind::PartiallyApplied => StatusCode::CONFLICT,
        ErrorKind::AmountInvalid => StatusCode::BAD_REQUEST,
        ErrorKind::Unsupported => StatusCode::NOT_IMPLEMENTED,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::RateLimited => StatusCode::SERVICE_UNAVAILABLE,
        // A circuit held open by us says when to come back; a vendor failure does not.
        ErrorKind::Unavailable if retry_after.is_some() => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Unauthorized | ErrorKind::Unavailable | ErrorKind::BadResponse => {
            StatusCode::BAD_GATEWAY
        }
        ErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
    }
}

/// A fault in the client's input: 400 for a query parameter, 422 for a body field.
fn input_fault(
    code: &'static str,
    pointer: &Option<String>,
    parameter: &Option<String>,
) -> (StatusCode, &'static str, Option<String>, Option<String>) {
    let status = if parameter.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (status, code, pointer.clone(), parameter.clone())
}

impl ApiError {
    fn problem(&self) -> Problem {
        let (status, code, pointer, parameter) = match self {
            ApiError::Validation {
                pointer, parameter, ..
            } => input_fault("validation_failed", pointer, parameter),
            ApiError::MalformedJson(_) => (
                StatusCode::BAD_REQUEST,
                "malformed_json",
                Some(String::new()),
                None,
            ),
            ApiError::MalformedBody(_) => (StatusCode::BAD_REQUEST, "malformed_body", None, None),
            ApiError::UnsupportedMediaType | ApiError::UnsupportedBatchType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                None,
                None,
            ),
            ApiError::PayloadTooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                None,
                None,
            ),
            ApiError::TooManyItems(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "too_many_items", None, None)
            }
            ApiError::UnknownProvider {
                pointer, parameter, ..
            } => input_fault("unknown_provider", pointer, parameter),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found", None, None),
            ApiError::MethodNotAllowed(_) => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                None,
                None,
            ),
            ApiError::RequestTimeout(_) => {
                (StatusCode::GATEWAY_TIMEOUT, "gateway_timeout", None, None)
            }
            ApiError::ClientRateLimited(_) => {
                (StatusCode::TOO_MANY_REQUESTS, "rate_limited", None, None)
            }
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthorized", None, None),
            ApiError::ProviderForbidden {
                pointer, parameter, ..
            } => (
                StatusCode::FORBIDDEN,
                "provider_forbidden",
                pointer.clone(),
                parameter.clone(),
            ),
            ApiError::IdempotencyKeyMissing => (
                StatusCode::BAD_REQUEST,
                "idempotency_key_missing",
                None,
                None,
            ),
            ApiError::IdempotencyKeyInvalid => (
                StatusCode::BAD_REQUEST,
                "idempotency_key_invalid",
                None,
                None,
            ),
            ApiError::IdempotencyKeyReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                None,
                None,
            ),
            ApiError::IdempotencyKeyInFlight(_) => (
                StatusCode::CONFLICT,
                "idempotency_key_in_flight",
                None,
                None,
            ),
            ApiError::NotReady => (StatusCode::SERVICE_UNAVAILABLE, "not_ready", None, None),
            ApiError::StorageUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_unavailable",
                None,
                None,
            ),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "refund_final", None, None),
            ApiError::NotApplied { .. } => (StatusCode::CONFLICT, "refund_not_applied", None, None),
            ApiError::InvalidItems(errors, _) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                errors.first().map(|e| e.pointer.clone()),
                None,
            ),
            ApiError::Provider(e) | ApiError::CreateFailed(e) => (
                provider_status(e.kind, e.retry_after),
                e.kind.code(),
                e.pointer.clone(),
                None,
            ),
        };
        let mut problem = Problem {
            type_uri: format!("urn:refund-gateway:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: self.to_string(),
            code: code.to_string(),
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

impl ApiError {
    /// The status and serialized problem, for answers that are stored (idempotency) as
    /// well as sent.
    pub fn to_parts(&self) -> (StatusCode, Vec<u8>) {
        let problem = self.problem();
        if problem.status >= 500 {
            tracing::warn!(code = %problem.code, status = problem.status, detail = %problem.detail, "request failed");
        }
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, serde_json::to_vec(&problem).unwrap_or_default())
    }
}

/// A problem+json response from stored parts; `Retry-After` is read back from the body.
pub fn problem_response(status: StatusCode, body: Vec<u8>) -> Response {
    let retry_after = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["retry_after"].as_u64());
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if let Some(secs) = retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let unauthenticated = matches!(self, ApiError::Unauthenticated);
        let (status, body) = self.to_parts();
        let mut response = problem_response(status, body);
        if unauthenticated {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The success status of a create: 201 when the outcome is known, 202 when it is not yet
/// (a refund whose vendor outcome is unknown, a batch queued for the worker). Chosen here
/// with the error statuses, so every status the API answers comes from this file.
pub fn created(outcome_known: bool) -> StatusCode {
    if outcome_known {
        StatusCode::CREATED
    } else {
        StatusCode::ACCEPTED
    }
}

/// A status stored with an idempotent answer, read back for a replay.
pub fn stored(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}
