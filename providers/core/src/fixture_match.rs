//! The one request matcher of recorded fixtures, shared by the gateway's replay vendor
//! (`refund-gateway replay`, the contract tests) and the in-process `FixtureTransport` of
//! the vendor crates' tests: method, path, every listed query parameter and no other, the
//! headers that matter (exact, or `{"matches": <regex>}`; with `header_match: strict` no
//! other header either), and the JSON body (`{{any}}` matches anything, numbers by value).
//! A mismatch is explained one line per difference; a received header value is never
//! printed (it may carry a credential).

use std::collections::{BTreeMap, HashMap};
use std::sync::{LazyLock, Mutex};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use crate::fixture::{ExpectedRequest, HeaderExpectation, HeaderMatch, RecordedResponse};
use crate::transport::VendorResponse;

/// The placeholder that matches any JSON value in an expected body.
pub const ANY: &str = "{{any}}";

/// A placeholder inside an expected body string for one of the gateway's own refund ids
/// (`rfg_` and a ULID, new on every run): `"note": "refund {{refund_id}}"` matches a note
/// with any such id, and `fixtures verify` can fill in a fresh one when it sends the write
/// again (a whole `{{any}}` it could not).
pub const REFUND_ID: &str = "{{refund_id}}";

/// Whether `actual` is `expected` with each `{{refund_id}}` standing for a refund id.
pub fn refund_ids_match(expected: &str, actual: &str) -> bool {
    let pattern: Vec<String> = expected.split(REFUND_ID).map(regex::escape).collect();
    regex::Regex::new(&format!("^{}$", pattern.join("rfg_[0-9a-z]{26}")))
        .is_ok_and(|r| r.is_match(actual))
}

/// Headers of HTTP itself (and of the client library), never in a recording: strict header
/// matching does not ask for them.
pub const FRAMING: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "user-agent",
    "accept-encoding",
];

/// A request as received or sent, relative to the vendor base URL.
pub struct RequestParts<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// Decoded.
    pub query: &'a BTreeMap<String, String>,
    /// Lower-case names.
    pub headers: &'a BTreeMap<String, String>,
    pub body: &'a [u8],
}

/// A request's headers as the matcher reads them: by name, each value as text (lossy,
/// as a recording would show it). The replay vendor and the fixture transport both use it.
pub fn header_texts(headers: &HeaderMap) -> BTreeMap<String, String> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Every way `received` differs from `expected`, one line each (a body's differences as
/// one line starting with `body`); empty when it matches.
pub fn diff_request(expected: &ExpectedRequest, received: &RequestParts<'_>) -> Vec<String> {
    let mut diffs = Vec::new();
    if !expected.method.eq_ignore_ascii_case(received.method) {
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
        match serde_json::from_slice::<Value>(received.body) {
            Ok(actual) => {
                let mut lines = Vec::new();
                body_differences(expected_body, &actual, String::new(), &mut lines, false);
                if !lines.is_empty() {
                    diffs.push(format!("body:\n{}", lines.join("\n")));
                }
            }
            Err(_) => diffs.push(format!(
                "body: expected JSON, got {:?}",
                String::from_utf8_lossy(received.body)
            )),
        }
    }
    diffs
}

/// One line per JSON pointer where `actual` differs from `expected` (`{{any}}` matches
/// anything, numbers compare by value, objects may not have extra keys).
/// Here keys `actual` adds are allowed: a canonical answer that gained a field still keeps
/// every recorded one (used to compare the gateway's answers with recorded ones).
pub fn json_differences(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    body_differences(expected, actual, String::new(), &mut out, true);
    out
}

fn body_differences(
    expected: &Value,
    actual: &Value,
    at: String,
    out: &mut Vec<String>,
    extra_keys: bool,
) {
    let here = |at: &str| {
        if at.is_empty() {
            "/".to_string()
        } else {
            at.to_string()
        }
    };
    match (expected, actual) {
        (Value::String(s), _) if s == ANY => {}
        (Value::String(s), Value::String(a)) if s.contains(REFUND_ID) && refund_ids_match(s, a) => {
        }
        (Value::Object(e), Value::Object(a)) => {
            for (k, v) in e {
                let pointer = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                match a.get(k) {
                    Some(av) => body_differences(v, av, pointer, out, extra_keys),
                    None => out.push(format!("  {pointer}: expected {v}, missing")),
                }
            }
            for (k, v) in a.iter().filter(|(k, _)| !extra_keys && !e.contains_key(*k)) {
                out.push(format!("  {at}/{k}: not expected, got {v}"));
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (x, y)) in e.iter().zip(a).enumerate() {
                body_differences(x, y, format!("{at}/{i}"), out, extra_keys);
            }
        }
        (Value::Number(x), Value::Number(y)) if x.as_f64() == y.as_f64() => {}
        (x, y) if x == y => {}
        (x, y) => out.push(format!("  {}: expected {x}, got {y}", here(&at))),
    }
}

/// Replaces each `{{any}}` in `expected` by the value at the same place in `actual`.
pub fn fill_placeholders(expected: &Value, actual: &Value) -> Value {
    match (expected, actual) {
        (Value::String(s), a) if s == ANY => a.clone(),
        (Value::String(s), Value::String(a)) if s.contains(REFUND_ID) && refund_ids_match(s, a) => {
            Value::String(a.clone())
        }
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

/// The HTTP answer a fixture recorded (`{{now:<format>}}` strings filled with the time).
pub fn recorded_response(recorded: &RecordedResponse) -> VendorResponse {
    let mut headers = HeaderMap::new();
    for (name, value) in &recorded.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    }
    let body = match (&recorded.body_text, &recorded.body) {
        (Some(text), _) => Bytes::from(text.clone()),
        (None, Some(json)) => {
            headers
                .entry(http::header::CONTENT_TYPE)
                .or_insert(HeaderValue::from_static("application/json"));
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

/// Replaces each `"{{now:<strftime format>}}"` string with the current UTC time in that
/// format, so recorded answers can carry times relative to the request (a vendor refund
/// made "just now", for matching by time).
fn fill_times(value: &Value) -> Value {
    match value {
        Value::String(s) => match s.strip_prefix("{{now:").and_then(|r| r.strip_suffix("}}")) {
            Some(format) => Value::String(chrono::Utc::now().format(format).to_string()),
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

/// A fixture's header pattern, compiled once per process: compiling it per request made the
/// replay vendor spend most of its time in the regex compiler.
fn compiled(pattern: &str) -> Option<regex::Regex> {
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

    fn expected(value: Value) -> ExpectedRequest {
        serde_json::from_value(value).unwrap()
    }

    fn diff(expected: &ExpectedRequest, headers: &[(&str, &str)], body: &str) -> Vec<String> {
        let headers: BTreeMap<String, String> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        diff_request(
            expected,
            &RequestParts {
                method: "POST",
                path: "/r",
                query: &BTreeMap::new(),
                headers: &headers,
                body: body.as_bytes(),
            },
        )
    }

    #[test]
    fn header_patterns_are_matched_and_strict_mode_refuses_other_headers() {
        let mut e = expected(serde_json::json!({
            "method": "POST", "path": "/r",
            "headers": {"authorization": {"matches": "^Bearer [a-z]+$"}},
            "body": {"amount": 10.0, "at": "{{any}}"}
        }));
        let body = r#"{"amount": 10, "at": "now"}"#;
        let good = [
            ("authorization", "Bearer abc"),
            ("x-extra", "1"),
            ("host", "h"),
        ];
        assert!(diff(&e, &good, body).is_empty());
        let wrong = diff(&e, &[("authorization", "Basic c2VjcmV0")], body).join("\n");
        assert!(wrong.contains("header authorization"), "{wrong}");
        assert!(!wrong.contains("c2VjcmV0"), "{wrong}");
        e.header_match = Some(HeaderMatch::Strict);
        assert_eq!(
            diff(&e, &good, body),
            ["header x-extra: not expected (strict header matching)"]
        );
        let body_diff = diff(&e, &good[..1], r#"{"amount": 12, "at": 1, "more": true}"#);
        assert_eq!(
            body_diff,
            ["body:\n  /amount: expected 10.0, got 12\n  /more: not expected, got true"]
        );
    }
}
