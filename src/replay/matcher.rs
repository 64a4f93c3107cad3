//! Matching a received request against a fixture's expected request, and explaining a
//! mismatch field by field (JSON bodies are compared structurally, so the diff names paths).

use std::collections::BTreeMap;

use assert_json_diff::{assert_json_matches_no_panic, CompareMode, Config, NumericMode};
use bytes::Bytes;
use refund_provider::fixture::{ExpectedRequest, HeaderExpectation, HeaderMatch, RecordedResponse};
use refund_provider::{SandboxRequest, VendorResponse};
use serde_json::Value;

/// The placeholder that matches any JSON value in an expected body.
const ANY: &str = "{{any}}";

/// Headers of HTTP itself (and of the client library), never in a recording: strict header
/// matching does not ask for them.
const FRAMING: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "user-agent",
    "accept-encoding",
];

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
        let headers = r
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        ReceivedRequest {
            method: r.method.to_string(),
            path: r.path.clone(),
            query,
            headers,
            body: r.body.clone(),
            at: std::time::Instant::now(),
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

/// Every way `received` differs from `expected`, one line each; empty when it matches.
pub fn diff_request(expected: &ExpectedRequest, received: &ReceivedRequest) -> Vec<String> {
    let mut diffs = Vec::new();
    if !expected.method.eq_ignore_ascii_case(&received.method) {
        diffs.push(format!(
            "method: expected {}, got {}",
            expected.method, received.method
        ));
    }
    if expected.path != received.path {
        diffs.push(format!(
            "path: expected {}, got {}",
            expected.path, received.path
        ));
    }
    for (key, value) in &expected.query {
        match received.query.get(key) {
            Some(v) if v == value => {}
            Some(v) => diffs.push(format!("query {key}: expected {value:?}, got {v:?}")),
            None => diffs.push(format!("query {key}: expected {value:?}, missing")),
        }
    }
    for key in received
        .query
        .keys()
        .filter(|k| !expected.query.contains_key(*k))
    {
        diffs.push(format!("query {key}: not expected"));
    }
    if expected.header_match == Some(HeaderMatch::Strict) {
        for name in received.headers.keys().filter(|name| {
            !expected.headers.contains_key(name.as_str()) && !FRAMING.contains(&name.as_str())
        }) {
            diffs.push(format!(
                "header {name}: not expected (strict header matching)"
            ));
        }
    }
    for (name, expectation) in &expected.headers {
        let got = received.headers.get(&name.to_ascii_lowercase());
        let ok = match (expectation, got) {
            (_, None) => false,
            (HeaderExpectation::Exact(v), Some(g)) => v == g,
            (HeaderExpectation::Matches { matches }, Some(g)) => {
                compiled(matches).is_some_and(|re| re.is_match(g))
            }
        };
        if !ok {
            // The received value is not printed: it may carry a credential.
            let want = match expectation {
                HeaderExpectation::Exact(v) => format!("{v:?}"),
                HeaderExpectation::Matches { matches } => format!("a value matching /{matches}/"),
            };
            let state = if got.is_some() {
                "a different value"
            } else {
                "nothing"
            };
            diffs.push(format!("header {name}: expected {want}, got {state}"));
        }
    }
    if let Some(expected_body) = &expected.body {
        match serde_json::from_slice::<Value>(&received.body) {
            Ok(actual) => {
                let expected_body = fill_placeholders(expected_body, &actual);
                let config =
                    Config::new(CompareMode::Strict).numeric_mode(NumericMode::AssumeFloat);
                if let Err(diff) = assert_json_matches_no_panic(&actual, &expected_body, config) {
                    diffs.push(format!("body:\n{diff}"));
                }
            }
            Err(_) => diffs.push(format!(
                "body: expected JSON, got {:?}",
                String::from_utf8_lossy(&received.body)
            )),
        }
    }
    diffs
}

/// Replaces each `{{any}}` in `expected` by the value at the same place in `actual`.
pub(super) fn fill_placeholders(expected: &Value, actual: &Value) -> Value {
    match (expected, actual) {
        (Value::String(s), a) if s == ANY => a.clone(),
        (Value::Object(e), Value::Object(a)) => Value::Object(
            e.iter()
                .map(|(k, v)| {
                    let filled = a
                        .get(k)
                        .map_or_else(|| v.clone(), |av| fill_placeholders(v, av));
                    (k.clone(), filled)
                })
                .collect(),
        ),
        (Value::Array(e), Value::Array(a)) => Value::Array(
            e.iter()
                .enumerate()
                .map(|(i, v)| {
                    a.get(i)
                        .map_or_else(|| v.clone(), |av| fill_placeholders(v, av))
                })
                .collect(),
        ),
        (e, _) => e.clone(),
    }
}

/// Replaces each `"{{now:<strftime format>}}"` string with the current UTC time in that
/// format, so recorded answers can carry times relative to the request (a vendor refund
/// made "just now", for matching by time).
fn fill_times(value: &Value) -> Value {
    match value {
        Value::String(s) => match s.strip_prefix("{{now:").and_then(|r| r.strip_suffix("}}")) {
            Some(format) => Value::String(
                refund_provider::chrono::Utc::now()
                    .format(format)
                    .to_string(),
            ),
            None => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(fill_times).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), fill_times(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The HTTP answer a fixture recorded.
pub fn recorded_response(recorded: &RecordedResponse) -> VendorResponse {
    let mut headers = http::HeaderMap::new();
    for (name, value) in &recorded.headers {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    }
    let body = match (&recorded.body, &recorded.body_text) {
        (_, Some(text)) => Bytes::from(text.clone()),
        (Some(json), None) => {
            headers
                .entry(http::header::CONTENT_TYPE)
                .or_insert(http::HeaderValue::from_static("application/json"));
            Bytes::from(fill_times(json).to_string())
        }
        (None, None) => Bytes::new(),
    };
    VendorResponse {
        status: recorded.status,
        headers,
        body,
    }
}

/// A fixture's header pattern, compiled once per process: compiling it per request made the
/// replay vendor spend most of its time in the regex compiler.
fn compiled(pattern: &str) -> Option<regex::Regex> {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    static PATTERNS: LazyLock<Mutex<HashMap<String, Option<regex::Regex>>>> =
        LazyLock::new(Default::default);
    let mut patterns = PATTERNS.lock().unwrap_or_else(|e| e.into_inner());
    patterns
        .entry(pattern.to_string())
        .or_insert_with(|| regex::Regex::new(pattern).ok())
        .clone()
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
