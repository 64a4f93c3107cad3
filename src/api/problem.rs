//! RFC 9457 problem details. This is the only place that chooses an HTTP status for an
//! error: gateway errors and provider error kinds alike are mapped here, once (`render.rs`,
//! with the codes and their statuses in `code.rs`).

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use refund_provider::ProviderError;

use crate::service::ServiceError;

mod body;
mod code;
mod from_service;
mod render;

pub use body::{FieldError, Problem};
pub use code::{FieldCode, ProblemCode};

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
    /// The gateway failed while answering (a bug: a panic caught at the edge, logged with
    /// the request id). What a create did is for the ledger to say, not this answer.
    #[error("the gateway failed while answering this request; it is logged under its request id. A create may have reached the vendor: retry it with the same Idempotency-Key, never a new one")]
    Internal,
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

impl ApiError {
    /// The status and serialized problem, for answers that are stored (idempotency) as
    /// well as sent.
    pub fn to_parts(&self) -> (StatusCode, Vec<u8>) {
        let problem = self.problem();
        if problem.status >= 500 {
            tracing::warn!(code = %problem.code.as_str(), status = problem.status, detail = %problem.detail, "request failed");
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
