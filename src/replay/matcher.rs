//! Matching a received request against a fixture's expected request, and explaining a
//! mismatch field by field (JSON bodies are compared structurally, so the diff names paths).

use std::collections::BTreeMap;

use assert_json_diff::{assert_json_matches_no_panic, CompareMode, Config, NumericMode};
use bytes::Bytes;
use refund_provider::fixture::{ExpectedRequest, HeaderExpectation, RecordedResponse};
use refund_provider::{SandboxRequest, VendorResponse};
use serde_json::Value;

/// The placeholder that matches any JSON value in an expected body.
const ANY: &str = "{{any}}";

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
fn fill_placeholders(expected: &Value, actual: &Value) -> Value {
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

/// One field in which a request differs from a fixture, for near-miss ranking: `part` is
/// `method`, `path`, `query`, `header` or `body`; `field` names it (the query key, the header
/// name, the body's JSON pointer). Received header values are never kept: they may carry a
/// credential.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FieldDiff {
    pub part: &'static str,
    pub field: String,
    pub detail: String,
}

/// Every field in which `received` differs from `expected`, one entry each (a body differing
/// in two places counts twice); empty when it matches.
pub fn field_diffs(expected: &ExpectedRequest, received: &ReceivedRequest) -> Vec<FieldDiff> {
    let mut out = Vec::new();
    for line in diff_request(expected, received) {
        let (part, field) = if line.starts_with("method:") {
            ("method", String::new())
        } else if line.starts_with("path:") {
            ("path", String::new())
        } else if let Some(rest) = line.strip_prefix("query ") {
            (
                "query",
                rest.split(':').next().unwrap_or_default().to_string(),
            )
        } else if let Some(rest) = line.strip_prefix("header ") {
            (
                "header",
                rest.split(':').next().unwrap_or_default().to_string(),
            )
        } else {
            // The body: one entry per differing JSON pointer.
            let before = out.len();
            if let (Some(expected_body), Ok(actual)) = (
                &expected.body,
                serde_json::from_slice::<Value>(&received.body),
            ) {
                let filled = fill_placeholders(expected_body, &actual);
                body_diffs(&filled, &actual, String::new(), &mut out);
                for field in &mut out[before..] {
                    if credential_pointer(&field.field) {
                        field.detail = format!("body {}: {HIDDEN}", field.field);
                    }
                }
            }
            if out.len() == before {
                out.push(FieldDiff {
                    part: "body",
                    field: String::new(),
                    detail: line,
                });
            }
            continue;
        };
        out.push(FieldDiff {
            part,
            field,
            detail: line,
        });
    }
    out
}

/// Appends one `FieldDiff` per JSON pointer where `actual` differs from `expected`.
fn body_diffs(expected: &Value, actual: &Value, pointer: String, out: &mut Vec<FieldDiff>) {
    fn push(out: &mut Vec<FieldDiff>, pointer: &str, detail: String) {
        out.push(FieldDiff {
            part: "body",
            field: pointer.to_string(),
            detail: format!("body {}: {detail}", display_pointer(pointer)),
        })
    }
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, ev) in e {
                let child = format!("{pointer}/{}", escape_pointer(key));
                match a.get(key) {
                    Some(av) => body_diffs(ev, av, child, out),
                    None => out.push(FieldDiff {
                        part: "body",
                        field: child.clone(),
                        detail: format!("body {child}: expected {ev}, missing"),
                    }),
                }
            }
            for (key, av) in a.iter().filter(|(k, _)| !e.contains_key(*k)) {
                let child = format!("{pointer}/{}", escape_pointer(key));
                out.push(FieldDiff {
                    part: "body",
                    field: child.clone(),
                    detail: format!("body {child}: not expected, got {av}"),
                });
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                body_diffs(ev, av, format!("{pointer}/{i}"), out);
            }
            if e.len() != a.len() {
                push(
                    out,
                    &pointer,
                    format!("expected {} item(s), got {}", e.len(), a.len()),
                );
            }
        }
        (Value::Number(e), Value::Number(a)) if e.as_f64() == a.as_f64() => {}
        (e, a) if e == a => {}
        (e, a) => push(out, &pointer, format!("expected {e}, got {a}")),
    }
}

fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn display_pointer(pointer: &str) -> &str {
    if pointer.is_empty() {
        "(whole body)"
    } else {
        pointer
    }
}

/// What a report says instead of the values of a credential-named body field.
const HIDDEN: &str = "differs (a credential field: values not shown)";

/// Whether a body pointer names a credential (`/password`, `/auth/token`).
fn credential_pointer(pointer: &str) -> bool {
    pointer.split('/').any(super::admin::secret_name)
}

/// The matcher's diff lines, with the body's replaced by the field list when a credential
/// field differs: the JSON diff tool prints both values.
fn hide_credentials(diff: Vec<String>, fields: &[FieldDiff]) -> Vec<String> {
    let hidden = fields
        .iter()
        .any(|f| f.part == "body" && credential_pointer(&f.field));
    if !hidden {
        return diff;
    }
    diff.into_iter()
        .map(|line| {
            if line.starts_with("body") {
                fields
                    .iter()
                    .filter(|f| f.part == "body")
                    .map(|f| f.detail.clone())
                    .collect::<Vec<_>>()
                    .join("\n")
            } else {
                line
            }
        })
        .collect()
}

/// How close a fixture came to a request that matched nothing.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NearMiss {
    pub fixture: String,
    pub differing_fields: usize,
    pub fields: Vec<FieldDiff>,
    /// The matcher's own diff, one line each (the body as the JSON diff tool prints it).
    pub diff: Vec<String>,
}

/// How many near misses a report names.
pub const NEAR_MISSES: usize = 3;

/// The fixtures closest to `received`, closest first: fewest differing fields, then the same
/// path and method, then load order.
pub fn near_misses<'a>(
    received: &ReceivedRequest,
    fixtures: impl Iterator<Item = (&'a str, &'a ExpectedRequest)>,
) -> Vec<NearMiss> {
    let mut candidates: Vec<(usize, usize, NearMiss)> = fixtures
        .enumerate()
        .map(|(i, (name, expected))| {
            let fields = field_diffs(expected, received);
            let closeness = usize::from(expected.path == received.path) * 2
                + usize::from(expected.method.eq_ignore_ascii_case(&received.method));
            let diff = hide_credentials(diff_request(expected, received), &fields);
            let miss = NearMiss {
                fixture: name.to_string(),
                differing_fields: fields.len(),
                fields,
                diff,
            };
            (3 - closeness, i, miss)
        })
        .collect();
    candidates.sort_by_key(|(distance, i, miss)| (miss.differing_fields, *distance, *i));
    candidates
        .into_iter()
        .take(NEAR_MISSES)
        .map(|(_, _, miss)| miss)
        .collect()
}

/// A readable report of why `received` matched nothing: the diff against the closest
/// fixtures (`near_misses`), closest first.
pub fn explain_mismatch(received: &ReceivedRequest, near: &[NearMiss]) -> String {
    let mut report = format!(
        "request {} {} matched no fixture",
        received.method, received.path
    );
    for miss in near {
        report.push_str(&format!(
            "\n  against {} ({} differing field(s)):",
            miss.fixture, miss.differing_fields
        ));
        for line in &miss.diff {
            report.push_str(&format!("\n    {}", line.replace('\n', "\n    ")));
        }
    }
    if near.is_empty() {
        report.push_str(" (no fixtures loaded)");
    }
    report
}

/// The JSON body of the replay vendor's 599 answer to a request that matched nothing.
pub fn mismatch_body(received: &ReceivedRequest, near: &[NearMiss]) -> Value {
    serde_json::json!({
        "error": "no fixture matched",
        "request": {"method": received.method, "path": received.path},
        "closest": near,
    })
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
