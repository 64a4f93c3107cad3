//! Domain errors as the API answers them: each `ServiceError` becomes the `ApiError` whose
//! status and code `problem.rs` chooses.

use super::{ApiError, FieldCode, FieldError};
use crate::service::error::FieldFault;
use crate::service::ServiceError;

/// Every domain error, as the API answers it. A provider name at fault is a body field
/// here (`/provider`); handlers that take it from the query say so themselves.
impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::UnknownProvider(name) => ApiError::UnknownProvider {
                name,
                pointer: Some("/provider".into()),
                parameter: None,
            },
            ServiceError::ProviderForbidden(name) => ApiError::ProviderForbidden {
                name,
                pointer: Some("/provider".into()),
                parameter: None,
            },
            ServiceError::NotFound(message) => ApiError::NotFound(message),
            ServiceError::TooManyItems(limit) => ApiError::TooManyItems(limit),
            ServiceError::Invalid { pointer, message } => ApiError::field(pointer, message),
            ServiceError::InvalidItems { faults, total } => {
                ApiError::InvalidItems(faults.into_iter().map(FieldError::from).collect(), total)
            }
            ServiceError::Provider(e) | ServiceError::Deferred { error: e, .. } => {
                ApiError::Provider(e)
            }
            ServiceError::CreateFailed(e) => ApiError::CreateFailed(e),
            ServiceError::KeyReused => ApiError::IdempotencyKeyReused,
            ServiceError::KeyInFlight(wait) => ApiError::IdempotencyKeyInFlight(wait),
            ServiceError::Final(message) => ApiError::Conflict(message),
            ServiceError::Storage(e) => {
                tracing::error!(error = %e, "ledger unavailable");
                ApiError::StorageUnavailable
            }
        }
    }
}

impl From<FieldFault> for FieldError {
    fn from(f: FieldFault) -> Self {
        FieldError {
            pointer: f.pointer,
            code: FieldCode::of(f.kind),
            detail: f.detail,
            line: f.line,
            column: f.column,
        }
    }
}
