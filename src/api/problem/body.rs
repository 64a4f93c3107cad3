//! The problem+json body as it goes on the wire.

use serde::Serialize;
use utoipa::ToSchema;

use super::code::{FieldCode, ProblemCode};
use refund_provider::Outcome;

/// One field at fault, in a problem that names several.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    pub pointer: String,
    /// One of the codes an item at fault can carry (the document lists them).
    #[schema(value_type = String)]
    pub code: FieldCode,
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
    pub code: ProblemCode,
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
