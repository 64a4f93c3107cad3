//! The one error type every provider returns. A short list of kinds, each with a stable
//! code; the gateway maps kinds to HTTP statuses in exactly one place (`api/problem.rs`).

use std::time::Duration;

use serde::Serialize;

/// What went wrong, from the caller's point of view. The `code()` of each kind is part of
/// the public contract and never changes once published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumIter)]
pub enum ErrorKind {
    /// The request does not fit what this provider needs (a missing target field...).
    InvalidRequest,
    /// The amount cannot be sent to this vendor without changing it (e.g. cents to a whole-euro vendor).
    AmountNotRepresentable,
    /// The vendor does not refund in this currency.
    CurrencyNotSupported,
    /// More than is still refundable.
    AmountExceedsRefundable,
    /// The vendor refused the amount itself (e.g. not greater than zero by its rules).
    AmountInvalid,
    /// Nothing is left to refund on the target.
    NothingRefundable,
    /// The vendor accepted part of the refund only.
    PartiallyApplied,
    /// This provider cannot do this at all.
    Unsupported,
    /// The target or refund does not exist at the vendor.
    NotFound,
    /// The vendor refused the request for a reason of its own.
    Rejected,
    /// The vendor refused our credentials: an operator problem, not the caller's.
    Unauthorized,
    /// The vendor, or our own limiter for it, asks us to slow down.
    RateLimited,
    /// The vendor could not be reached or answered with a server error.
    Unavailable,
    /// The vendor did not answer in time.
    Timeout,
    /// The vendor answered something we cannot read (HTML, truncated JSON, wrong shape).
    BadResponse,
}

impl ErrorKind {
    /// The stable `code` of the problem+json body.
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidRequest => "validation_failed",
            Self::AmountNotRepresentable => "amount_not_representable",
            Self::CurrencyNotSupported => "currency_not_supported",
            Self::AmountExceedsRefundable => "amount_exceeds_refundable",
            Self::AmountInvalid => "amount_invalid",
            Self::NothingRefundable => "nothing_refundable",
            Self::PartiallyApplied => "refund_partially_applied",
            Self::Unsupported => "unsupported_operation",
            Self::NotFound => "not_found",
            Self::Rejected => "provider_rejected",
            Self::Unauthorized => "provider_unauthorized",
            Self::RateLimited => "provider_rate_limited",
            Self::Unavailable => "provider_unavailable",
            Self::Timeout => "provider_timeout",
            Self::BadResponse => "provider_bad_response",
        }
    }
}

/// Whether the vendor may have acted on a request that failed. A create whose outcome is
/// `Unknown` must not be sent again: only a lookup may settle it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    NotApplied,
    Unknown,
}

/// What the vendor said, kept for the operator: its HTTP status, its own error code, and
/// its words (trimmed; never our credentials, which vendors do not echo).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VendorFault {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct ProviderError {
    pub kind: ErrorKind,
    pub message: String,
    /// JSON pointer into the canonical request at the field at fault.
    pub pointer: Option<String>,
    /// Boxed: errors travel in `Result`s on every path, and this part is rarely present.
    pub vendor: Option<Box<VendorFault>>,
    pub retry_after: Option<Duration>,
    pub outcome: Outcome,
}

impl ProviderError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ProviderError {
            kind,
            message: message.into(),
            pointer: None,
            vendor: None,
            retry_after: None,
            outcome: Outcome::NotApplied,
        }
    }

    /// A canonical request that this provider cannot take, pointing at the field at fault.
    pub fn invalid(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidRequest, message).at(pointer)
    }

    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }

    pub fn at(mut self, pointer: impl Into<String>) -> Self {
        self.pointer = Some(pointer.into());
        self
    }

    pub fn with_vendor(mut self, vendor: VendorFault) -> Self {
        self.vendor = Some(Box::new(vendor));
        self
    }

    pub fn retry_after(mut self, after: Option<Duration>) -> Self {
        self.retry_after = after;
        self
    }

    /// Marks the failure as one where the vendor may have applied the request.
    pub fn outcome_unknown(mut self) -> Self {
        self.outcome = Outcome::Unknown;
        self
    }
}
