//! The canonical answer every provider must give for each shared fault, strict.

use refund_provider::contract::{Case, Phase, PlannedCase};
use refund_provider::fixture::Exchange;

use crate::support::ApiResponse;

/// What the canonical API must answer for a case.
enum Expected {
    /// A problem+json answer with this status and code.
    Problem { status: u16, code: &'static str },
    /// The vendor stated an error of its own (HTTP 200 with an error body): a 4xx problem
    /// whose code depends on what it said, but never `provider_bad_response` (its words
    /// were read, not taken for garbage).
    VendorError,
    /// A create the vendor may have applied: 202, the refund in status `unknown`.
    Unknown { code: &'static str },
}

fn expected(planned: &PlannedCase) -> Expected {
    use Expected::{Problem, Unknown};
    let create = planned.phase == Phase::Create;
    match planned.case {
        Case::Unauthorized | Case::Forbidden => Problem {
            status: 502,
            code: "provider_unauthorized",
        },
        Case::NotFound => Problem {
            status: 404,
            code: "not_found",
        },
        Case::RateLimited => Problem {
            status: 503,
            code: "provider_rate_limited",
        },
        Case::Html5xx if create => Unknown {
            code: "provider_unavailable",
        },
        Case::Html5xx => Problem {
            status: 502,
            code: "provider_unavailable",
        },
        Case::TruncatedJson if create => Unknown {
            code: "provider_bad_response",
        },
        Case::TruncatedJson => Problem {
            status: 502,
            code: "provider_bad_response",
        },
        Case::ConnectionReset | Case::ResetBeforeCreate => Problem {
            status: 502,
            code: "provider_unavailable",
        },
        Case::ResetAfterCreate => Unknown {
            code: "provider_unavailable",
        },
        Case::ErrorBody200 => Expected::VendorError,
        Case::Timeout if create => Unknown {
            code: "provider_timeout",
        },
        Case::Timeout => Problem {
            status: 504,
            code: "provider_timeout",
        },
    }
}

/// Every way the answer differs from the contract; empty when it keeps it.
pub(crate) fn check_answer(
    planned: &PlannedCase,
    fault: &Exchange,
    r: &ApiResponse,
) -> Vec<String> {
    let mut wrong = Vec::new();
    let mut want = |ok: bool, what: String| {
        if !ok {
            wrong.push(what);
        }
    };
    // The vendor's HTTP status is kept whenever the vendor answered.
    let vendor_status = match planned.case {
        Case::ConnectionReset
        | Case::ResetBeforeCreate
        | Case::ResetAfterCreate
        | Case::Timeout => None,
        _ => Some(fault.response.status),
    };
    let (status_field, message_field) = match expected(planned) {
        expectation @ (Expected::Problem { .. } | Expected::VendorError) => {
            let (ok, wanted) = match expectation {
                Expected::Problem { status, code } => (
                    r.status == status && r.code() == code,
                    format!("{status} {code}"),
                ),
                _ => (
                    (400..500).contains(&r.status)
                        && !r.code().is_empty()
                        && r.code() != "provider_bad_response",
                    "a 4xx problem with the vendor's own error (not provider_bad_response)".into(),
                ),
            };
            want(ok, format!("expected {wanted}, got {}", outline(r)));
            want(
                r.header("content-type") == Some("application/problem+json"),
                format!(
                    "expected content-type application/problem+json, got {:?}",
                    r.header("content-type")
                ),
            );
            if planned.phase == Phase::Create {
                want(
                    r.body["outcome"] == "not_applied",
                    format!(
                        "expected outcome not_applied (the vendor cannot have applied it), got {}",
                        r.body["outcome"]
                    ),
                );
            }
            if planned.case == Case::RateLimited {
                let recorded = fault
                    .response
                    .headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
                    .map(|(_, v)| v.trim().to_string());
                want(
                    r.header("retry-after").map(str::to_string) == recorded,
                    format!(
                        "expected Retry-After {recorded:?} as the vendor sent, got {:?}",
                        r.header("retry-after")
                    ),
                );
                want(
                    recorded.as_deref().and_then(|s| s.parse::<u64>().ok())
                        == r.body["retry_after"].as_u64(),
                    format!(
                        "expected retry_after {recorded:?} in the body, got {}",
                        r.body["retry_after"]
                    ),
                );
            }
            (&r.body["vendor_status"], &r.body["vendor_message"])
        }
        Expected::Unknown { code } => {
            want(
                r.status == 202 && r.body["status"] == "unknown",
                format!(
                    "expected 202 with the refund in status unknown (the vendor may have \
                     applied it), got {}",
                    outline(r)
                ),
            );
            want(
                r.body["id"]
                    .as_str()
                    .is_some_and(|id| id.starts_with("rfg_")),
                format!("expected the ledger's rfg_ id, got {}", r.body["id"]),
            );
            want(
                r.body["status_reason"]["code"] == code,
                format!(
                    "expected status_reason.code {code}, got {}",
                    r.body["status_reason"]["code"]
                ),
            );
            (
                &r.body["status_reason"]["vendor_status"],
                &r.body["status_reason"]["vendor_message"],
            )
        }
    };
    want(
        status_field.as_u64() == vendor_status.map(u64::from),
        format!(
            "expected vendor_status {}, got {status_field}",
            vendor_status.map_or("absent (the vendor never answered)".into(), |s| s
                .to_string())
        ),
    );
    if vendor_status.is_some() {
        want(
            message_field.as_str().is_some_and(|m| !m.trim().is_empty()),
            format!("expected the vendor's words in vendor_message, got {message_field}"),
        );
    }
    wrong
}

/// The status and code of a problem, or the status and refund status of a refund.
pub(crate) fn outline(r: &ApiResponse) -> String {
    if r.code().is_empty() {
        format!("{} with refund status {}", r.status, r.body["status"])
    } else {
        format!("{} {}", r.status, r.code())
    }
}
