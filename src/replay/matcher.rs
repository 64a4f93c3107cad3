//! A received request, matched against a fixture's expected request by the core's one
//! matcher (`refund_provider::fixture_match`), and mismatches explained field by field
//! (`near_miss.rs`).

use std::collections::BTreeMap;

use bytes::Bytes;
use refund_provider::fixture::ExpectedRequest;
use refund_provider::fixture_match;
pub use refund_provider::fixture_match::{fill_placeholders, recorded_response};
use refund_provider::SandboxRequest;
use serde_json::Value;

pub use super::near_miss::{
    explain_mismatch, field_diffs, mismatch_body, near_misses, FieldDiff, NearMiss,
};

/// A request as the replay vendor received it (kept for the request log).
#[derive(Debug, Clone)]
pub struct ReceivedRequest {
    pub method: String,
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub headers: BTreeMap<String, String>,
    pub body: Bytes,
    pub at: std::time::Instant,
}

impl From<&SandboxRequest> for ReceivedRequest {
    fn from(r: &SandboxRequest) -> Self {
        let query = r
            .query
            .as_deref()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        let headers = refund_provider::fixture_match::header_texts(&r.headers);
        ReceivedRequest {
            method: r.method.to_string(),
            path: r.path.clone(),
            query,
            headers,
            body: r.body.clone(),
            at: crate::loopback::arrival().unwrap_or_else(std::time::Instant::now),
        }
    }
}

impl ReceivedRequest {
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

pub fn matches(expected: &ExpectedRequest, received: &ReceivedRequest) -> bool {
    diff_request(expected, received).is_empty()
}

/// Every way `received` differs from `expected`, one line each; empty when it matches
/// (the core's one matcher, `refund_provider::fixture_match`).
pub fn diff_request(expected: &ExpectedRequest, received: &ReceivedRequest) -> Vec<String> {
    fixture_match::diff_request(
        expected,
        &fixture_match::RequestParts {
            method: &received.method,
            path: &received.path,
            query: &received.query,
            headers: &received.headers,
            body: &received.body,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::near_miss::HIDDEN;

    fn expected(body: Value) -> ExpectedRequest {
        serde_json::from_value(serde_json::json!({
            "method": "POST", "path": "/demo/orders/1/refunds",
            "headers": {"authorization": {"matches": "^TM-HMAC-SHA256 "}},
            "body": body
        }))
        .unwrap()
    }

    fn received(body: &str, auth: &str) -> ReceivedRequest {
        ReceivedRequest {
            method: "POST".into(),
            path: "/demo/orders/1/refunds".into(),
            query: BTreeMap::new(),
            headers: BTreeMap::from([("authorization".to_string(), auth.to_string())]),
            body: Bytes::from(body.to_string()),
            at: std::time::Instant::now(),
        }
    }

    #[test]
    fn matches_with_placeholders_and_numeric_forms() {
        let e = expected(serde_json::json!({"amount": 10.0, "paymentid": 125, "ts": "{{any}}"}));
        assert!(matches(
            &e,
            &received(
                r#"{"amount":10,"paymentid":125,"ts":"x"}"#,
                "TM-HMAC-SHA256 key=a"
            )
        ));
    }

    #[test]
    fn near_misses_never_show_credential_field_values() {
        let e = expected(serde_json::json!({"user": "bot", "password": "right-pass-123"}));
        let r = received(
            r#"{"user":"bot","password":"wrong-pass-456"}"#,
            "TM-HMAC-SHA256 key=a",
        );
        let near = near_misses(&r, [("login", &e)].into_iter());
        let text = serde_json::to_string(&mismatch_body(&r, &near)).unwrap()
            + &explain_mismatch(&r, &near);
        assert_eq!(near[0].fields[0].field, "/password", "{text}");
        assert!(text.contains(HIDDEN), "{text}");
        for value in ["right-pass-123", "wrong-pass-456"] {
            assert!(!text.contains(value), "{value} shown: {text}");
        }
    }

    #[test]
    fn diff_names_the_field_and_hides_header_values() {
        let e = expected(serde_json::json!({"amount": 10.0, "paymentid": 125}));
        let diffs = diff_request(
            &e,
            &received(r#"{"amount":12,"paymentid":125}"#, "Basic c2VjcmV0"),
        );
        let text = diffs.join("\n");
        assert!(text.contains("amount"), "{text}");
        assert!(text.contains("header authorization"), "{text}");
        assert!(!text.contains("c2VjcmV0"), "{text}");
    }
}
