//! Paylogic's refund `status` and `direct_refund_status` to the canonical status. Paylogic
//! publishes neither list (vendors.md [?]), so both tables are Decisions, kept here and
//! nowhere else; any value not in them is `unknown`, never guessed.

use refund_provider::RefundStatus;

/// Decision (vendors.md): `requested`/`pending`/`processing` -> pending;
/// `completed`/`refunded`/`processed` -> succeeded; `failed`/`rejected` -> failed;
/// `cancelled`/`canceled` -> canceled; anything else (or none) -> unknown.
pub fn refund_status(status: Option<&str>) -> RefundStatus {
    match status {
        Some("requested" | "pending" | "processing") => RefundStatus::Pending,
        Some("completed" | "refunded" | "processed") => RefundStatus::Succeeded,
        Some("failed" | "rejected") => RefundStatus::Failed,
        Some("cancelled" | "canceled") => RefundStatus::Canceled,
        _ => RefundStatus::Unknown,
    }
}

/// Where the direct (payment-provider) refund of the money stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectStage {
    /// The vendor sent no `direct_refund_status`.
    Absent,
    NotInitiated,
    InProgress,
    Completed,
    Failed,
    Canceled,
    Unknown,
}

/// Decision (vendors.md lists only `not_initiated`): `not_initiated` is its own stage;
/// otherwise the vocabulary of the status Decision, plus `initiated`:
/// `initiated`/`requested`/`pending`/`processing` -> in progress;
/// `completed`/`refunded`/`processed` -> completed; `failed`/`rejected` -> failed;
/// `cancelled`/`canceled` -> canceled; anything else -> unknown.
pub fn direct_stage(direct: Option<&str>) -> DirectStage {
    match direct {
        None => DirectStage::Absent,
        Some("not_initiated") => DirectStage::NotInitiated,
        Some("initiated" | "requested" | "pending" | "processing") => DirectStage::InProgress,
        Some("completed" | "refunded" | "processed") => DirectStage::Completed,
        Some("failed" | "rejected") => DirectStage::Failed,
        Some("cancelled" | "canceled") => DirectStage::Canceled,
        Some(_) => DirectStage::Unknown,
    }
}

/// Decision: the refund's `status` leads; the direct refund only holds back a success.
/// A refund the vendor calls done whose money transfer is still in progress is `pending`;
/// one whose transfer failed, was canceled or has a value we do not know is `unknown` (the
/// two values disagree or cannot be read, and only the vendor can settle it). A success
/// with no direct refund (absent or `not_initiated`: refunded another way) stays a success.
/// Returns the status and, when the direct refund changed it, a note saying why.
pub fn combine(status: Option<&str>, direct: Option<&str>) -> (RefundStatus, Option<String>) {
    let base = refund_status(status);
    if base != RefundStatus::Succeeded {
        return (base, None);
    }
    let direct_value = direct.unwrap_or_default();
    match direct_stage(direct) {
        DirectStage::Absent | DirectStage::NotInitiated | DirectStage::Completed => (base, None),
        DirectStage::InProgress => (
            RefundStatus::Pending,
            Some(format!(
                "Paylogic reports the refund done, but its direct refund is `{direct_value}`: \
                 pending until the money is returned"
            )),
        ),
        DirectStage::Failed | DirectStage::Canceled | DirectStage::Unknown => (
            RefundStatus::Unknown,
            Some(format!(
                "Paylogic reports the refund done, but its direct refund is `{direct_value}`: \
                 the outcome is unknown until Paylogic settles it"
            )),
        ),
    }
}

/// The vendor's raw values, both kept: `requested / direct: not_initiated`.
pub fn vendor_status(status: Option<&str>, direct: Option<&str>) -> Option<String> {
    match (status, direct) {
        (Some(s), Some(d)) => Some(format!("{s} / direct: {d}")),
        (Some(s), None) => Some(s.to_string()),
        (None, Some(d)) => Some(format!("direct: {d}")),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RefundStatus::*;

    #[test]
    fn every_status_of_the_decision_maps() {
        let table = [
            ("requested", Pending),
            ("pending", Pending),
            ("processing", Pending),
            ("completed", Succeeded),
            ("refunded", Succeeded),
            ("processed", Succeeded),
            ("failed", Failed),
            ("rejected", Failed),
            ("cancelled", Canceled),
            ("canceled", Canceled),
            ("on_hold", Unknown),
            ("Completed", Unknown),
            ("", Unknown),
        ];
        for (value, expected) in table {
            assert_eq!(refund_status(Some(value)), expected, "{value}");
        }
        assert_eq!(refund_status(None), Unknown);
    }

    #[test]
    fn every_direct_status_of_the_decision_maps() {
        use DirectStage as D;
        let table = [
            ("not_initiated", D::NotInitiated),
            ("initiated", D::InProgress),
            ("requested", D::InProgress),
            ("pending", D::InProgress),
            ("processing", D::InProgress),
            ("completed", D::Completed),
            ("refunded", D::Completed),
            ("processed", D::Completed),
            ("failed", D::Failed),
            ("rejected", D::Failed),
            ("cancelled", D::Canceled),
            ("canceled", D::Canceled),
            ("settled", D::Unknown),
        ];
        for (value, expected) in table {
            assert_eq!(direct_stage(Some(value)), expected, "{value}");
        }
        assert_eq!(direct_stage(None), D::Absent);
    }

    #[test]
    fn the_direct_refund_only_holds_back_a_success() {
        let cases = [
            (Some("requested"), Some("not_initiated"), Pending, false),
            (Some("requested"), Some("completed"), Pending, false),
            (Some("failed"), Some("completed"), Failed, false),
            (Some("cancelled"), Some("failed"), Canceled, false),
            (Some("mystery"), Some("completed"), Unknown, false),
            (None, None, Unknown, false),
            (Some("completed"), None, Succeeded, false),
            (Some("completed"), Some("not_initiated"), Succeeded, false),
            (Some("completed"), Some("completed"), Succeeded, false),
            (Some("refunded"), Some("processing"), Pending, true),
            (Some("completed"), Some("failed"), Unknown, true),
            (Some("completed"), Some("canceled"), Unknown, true),
            (Some("processed"), Some("settled"), Unknown, true),
        ];
        for (status, direct, expected, noted) in cases {
            let (got, note) = combine(status, direct);
            assert_eq!(got, expected, "{status:?} / {direct:?}");
            assert_eq!(note.is_some(), noted, "{status:?} / {direct:?}");
        }
    }

    #[test]
    fn vendor_status_keeps_both_values() {
        assert_eq!(
            vendor_status(Some("requested"), Some("not_initiated")).as_deref(),
            Some("requested / direct: not_initiated")
        );
        assert_eq!(
            vendor_status(Some("failed"), None).as_deref(),
            Some("failed")
        );
        assert_eq!(vendor_status(None, Some("x")).as_deref(), Some("direct: x"));
        assert_eq!(vendor_status(None, None), None);
    }
}
