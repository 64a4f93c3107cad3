//! Everything the refund service can fail with. Each variant is a fact about the domain;
//! `api::problem` maps each to an HTTP status and a stable problem code, once.

use std::time::Duration;

use refund_provider::{ErrorKind, ProviderError};

use crate::storage::StorageError;

/// What is wrong with one field, in an answer that names several: the API gives each its
/// stable code (`api::problem::FieldCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FaultKind {
    /// A canonical rule broken by the field.
    #[default]
    Invalid,
    /// A line of an uploaded NDJSON file that is not JSON.
    MalformedJson,
    /// A row of an uploaded CSV file that cannot be read (its column count, not UTF-8).
    MalformedRow,
    /// A CSV header naming a column the format does not have.
    UnknownColumn,
    /// A CSV header naming a column twice.
    DuplicateColumn,
    /// A CSV header without a column the format requires.
    MissingColumn,
    /// The same provider and target as an earlier item of the batch.
    DuplicateTarget,
    UnknownProvider,
    ProviderForbidden,
    /// What the provider (its own checks, or the vendor) said of the item.
    Provider(ErrorKind),
}

/// One field at fault, in an answer that names several (a batch refused whole).
#[derive(Debug, Clone, Default)]
pub struct FieldFault {
    pub pointer: String,
    pub kind: FaultKind,
    pub detail: String,
    /// Where in an uploaded file (CSV or NDJSON) the item at fault is: its line, counting
    /// the header as line 1.
    pub line: Option<u64>,
    /// The column at fault, by its header name (CSV), or by its character position (a
    /// line that is not JSON).
    pub column: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("no provider instance is named `{0}`; GET /v1/providers lists them")]
    UnknownProvider(String),
    #[error("this client may not use provider instance `{0}`")]
    ProviderForbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// A canonical rule broken by a body field.
    #[error("{message}")]
    Invalid { pointer: String, message: String },
    /// Several fields at fault at once (a batch is refused whole): the first faults found,
    /// and how many there are in all.
    #[error("{total} item(s) of the request are invalid; `errors` lists the first {}", .faults.len())]
    InvalidItems {
        faults: Vec<FieldFault>,
        total: usize,
    },
    /// An upload holds more items than a batch may (`batches.max_items`).
    #[error("a batch holds at most {0} items")]
    TooManyItems(usize),
    /// A provider refused or failed, with nothing applied at the vendor (a lookup, or a
    /// create refused before it was sent).
    #[error("{}", .0.message)]
    Provider(ProviderError),
    /// A create that was sent failed; the error's outcome says whether the vendor may have
    /// applied it.
    #[error("{}", .0.message)]
    CreateFailed(ProviderError),
    /// A batch item's create was held back or failed transiently before anything was
    /// applied: it goes back in line after `wait` (`counted`: the try counts).
    #[error("{}", .error.message)]
    Deferred {
        error: ProviderError,
        wait: Duration,
        counted: bool,
    },
    #[error("this Idempotency-Key was used with a different request body")]
    KeyReused,
    #[error("a request with this Idempotency-Key is still being processed; retry after {0:?}")]
    KeyInFlight(Duration),
    /// A refund whose status is final cannot change again.
    #[error("{0}")]
    Final(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ServiceError {
    pub fn invalid(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        ServiceError::Invalid {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}
