//! Near misses: when a request matches no fixture, which fixtures came closest, ranked by
//! the fields in which they differ, each with its field-by-field diff (credentials never
//! shown), for the 599 answer, the log and `assert_clean`.

use refund_provider::fixture::ExpectedRequest;
use serde_json::Value;

use super::matcher::{diff_request, fill_placeholders, ReceivedRequest};

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
pub(super) const HIDDEN: &str = "differs (a credential field: values not shown)";

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
