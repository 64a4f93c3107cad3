//! Every problem `code` the gateway can answer, and the HTTP statuses each can come with.
//! The renderer (`render.rs`) takes its codes, and the status of every single-status code,
//! from here; the OpenAPI document takes each problem response's `code` enum from here
//! (`for_status`). So the document cannot list a code the server never sends, nor miss one
//! it does.

use refund_provider::ErrorKind;
use serde::Serialize;
use strum::IntoEnumIterator;
use utoipa::ToSchema;

use crate::service::error::FaultKind;

/// A problem's stable, machine-readable `code`. Published codes never change.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, strum::EnumIter, strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ProblemCode {
    // The client's input.
    ValidationFailed,
    MalformedJson,
    MalformedBody,
    UnsupportedMediaType,
    PayloadTooLarge,
    TooManyItems,
    UnknownProvider,
    NotFound,
    MethodNotAllowed,
    // The edge: time, rate, identity.
    GatewayTimeout,
    RateLimited,
    Unauthorized,
    ProviderForbidden,
    // Idempotency keys.
    IdempotencyKeyMissing,
    IdempotencyKeyInvalid,
    IdempotencyKeyReused,
    IdempotencyKeyInFlight,
    // The gateway itself.
    InternalError,
    // The ledger and the refund's state.
    NotReady,
    StorageUnavailable,
    RefundFinal,
    RefundNotApplied,
    // What the vendor said (one per `ErrorKind`, except the kinds above: `validation_failed`, `not_found`).
    AmountNotRepresentable,
    CurrencyNotSupported,
    AmountExceedsRefundable,
    AmountInvalid,
    NothingRefundable,
    RefundPartiallyApplied,
    UnsupportedOperation,
    ProviderRejected,
    ProviderUnauthorized,
    ProviderRateLimited,
    ProviderUnavailable,
    ProviderTimeout,
    ProviderBadResponse,
}

use ProblemCode::*;

impl ProblemCode {
    /// The HTTP statuses a problem with this code is answered with. A code with several is
    /// told which by the renderer (a query parameter or a body field at fault; a circuit
    /// that says when to come back or a vendor that does not).
    pub const fn statuses(self) -> &'static [u16] {
        match self {
            ValidationFailed | UnknownProvider => &[400, 422],
            MalformedJson
            | MalformedBody
            | IdempotencyKeyMissing
            | IdempotencyKeyInvalid
            | AmountInvalid => &[400],
            Unauthorized => &[401],
            ProviderForbidden => &[403],
            NotFound => &[404],
            MethodNotAllowed => &[405],
            IdempotencyKeyInFlight
            | RefundFinal
            | RefundNotApplied
            | NothingRefundable
            | RefundPartiallyApplied => &[409],
            PayloadTooLarge | TooManyItems => &[413],
            UnsupportedMediaType => &[415],
            IdempotencyKeyReused
            | AmountNotRepresentable
            | CurrencyNotSupported
            | AmountExceedsRefundable
            | ProviderRejected => &[422],
            RateLimited => &[429],
            UnsupportedOperation => &[501],
            ProviderUnauthorized | ProviderBadResponse => &[502],
            ProviderUnavailable => &[502, 503],
            InternalError => &[500],
            NotReady | StorageUnavailable | ProviderRateLimited => &[503],
            GatewayTimeout | ProviderTimeout => &[504],
        }
    }

    /// Every code, for the document and the tests.
    pub fn iter() -> impl Iterator<Item = ProblemCode> {
        <Self as strum::IntoEnumIterator>::iter()
    }

    /// The code's text, as the body carries it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The code of a provider error kind (`ErrorKind::code` names the same text: a test
    /// holds the two together).
    pub fn of_kind(kind: ErrorKind) -> ProblemCode {
        match kind {
            ErrorKind::InvalidRequest => ValidationFailed,
            ErrorKind::AmountNotRepresentable => AmountNotRepresentable,
            ErrorKind::CurrencyNotSupported => CurrencyNotSupported,
            ErrorKind::AmountExceedsRefundable => AmountExceedsRefundable,
            ErrorKind::AmountInvalid => AmountInvalid,
            ErrorKind::NothingRefundable => NothingRefundable,
            ErrorKind::PartiallyApplied => RefundPartiallyApplied,
            ErrorKind::Unsupported => UnsupportedOperation,
            ErrorKind::NotFound => NotFound,
            ErrorKind::Rejected => ProviderRejected,
            ErrorKind::Unauthorized => ProviderUnauthorized,
            ErrorKind::RateLimited => ProviderRateLimited,
            ErrorKind::Unavailable => ProviderUnavailable,
            ErrorKind::Timeout => ProviderTimeout,
            ErrorKind::BadResponse => ProviderBadResponse,
        }
    }

    /// The status of a problem with this code; `choice` decides for a code with several
    /// statuses, and must be one of them.
    pub fn status(self, choice: Option<u16>) -> u16 {
        match (self.statuses(), choice) {
            ([only], _) => *only,
            (several, Some(chosen)) if several.contains(&chosen) => chosen,
            (several, _) => {
                debug_assert!(false, "{self:?} needs one of {several:?}, got {choice:?}");
                several[0]
            }
        }
    }

    /// The codes a problem answered with `status` can carry (the document's enum for it).
    pub fn for_status(status: u16) -> Vec<&'static str> {
        Self::matching(|s| s == status)
    }

    /// The codes a problem answered with any status of a class (`4` for `4XX`) can carry.
    pub fn for_class(class: u16) -> Vec<&'static str> {
        Self::matching(|s| s / 100 == class)
    }

    fn matching(status: impl Fn(u16) -> bool) -> Vec<&'static str> {
        Self::iter()
            .filter(|c| c.statuses().iter().any(|s| status(*s)))
            .map(|c| c.as_str())
            .collect()
    }
}

/// The `code` of one entry of a problem's `errors[]` (a batch item or an uploaded line at
/// fault): a problem code, or one that only a single item can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldCode {
    Problem(ProblemCode),
    MalformedRow,
    UnknownColumn,
    DuplicateColumn,
    MissingColumn,
    DuplicateTarget,
}

impl FieldCode {
    /// The code of a domain fault.
    pub fn of(kind: FaultKind) -> FieldCode {
        match kind {
            FaultKind::Invalid => FieldCode::Problem(ValidationFailed),
            FaultKind::MalformedJson => FieldCode::Problem(MalformedJson),
            FaultKind::UnknownProvider => FieldCode::Problem(UnknownProvider),
            FaultKind::ProviderForbidden => FieldCode::Problem(ProviderForbidden),
            FaultKind::Provider(kind) => FieldCode::Problem(ProblemCode::of_kind(kind)),
            FaultKind::MalformedRow => FieldCode::MalformedRow,
            FaultKind::UnknownColumn => FieldCode::UnknownColumn,
            FaultKind::DuplicateColumn => FieldCode::DuplicateColumn,
            FaultKind::MissingColumn => FieldCode::MissingColumn,
            FaultKind::DuplicateTarget => FieldCode::DuplicateTarget,
        }
    }

    /// The code's text, as the body carries it.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldCode::Problem(code) => code.as_str(),
            FieldCode::MalformedRow => "malformed_row",
            FieldCode::UnknownColumn => "unknown_column",
            FieldCode::DuplicateColumn => "duplicate_column",
            FieldCode::MissingColumn => "missing_column",
            FieldCode::DuplicateTarget => "duplicate_target",
        }
    }

    /// Every code an item can carry, each once (the document's enum for `errors[].code`).
    /// `FaultKind` has no data but a provider's error kind, so this is every fault: the
    /// kinds without data listed here (the match in `of` is exhaustive), then each
    /// provider kind.
    pub fn all() -> Vec<&'static str> {
        let plain = [
            FaultKind::Invalid,
            FaultKind::MalformedJson,
            FaultKind::MalformedRow,
            FaultKind::UnknownColumn,
            FaultKind::DuplicateColumn,
            FaultKind::MissingColumn,
            FaultKind::DuplicateTarget,
            FaultKind::UnknownProvider,
            FaultKind::ProviderForbidden,
        ];
        let mut codes = Vec::new();
        for kind in plain
            .into_iter()
            .chain(ErrorKind::iter().map(FaultKind::Provider))
        {
            let code = FieldCode::of(kind).as_str();
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
        codes
    }
}

impl Serialize for FieldCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_serializes_as_its_text_and_all_lists_each_once() {
        for code in ProblemCode::iter() {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::Value::from(code.as_str())
            );
            assert_eq!(ProblemCode::iter().filter(|c| *c == code).count(), 1);
        }
    }

    #[test]
    fn each_provider_kind_has_the_code_the_provider_crate_names() {
        for kind in ErrorKind::iter() {
            assert_eq!(ProblemCode::of_kind(kind).as_str(), kind.code());
        }
    }
}
