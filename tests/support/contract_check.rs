//! Every answer the test helper receives is checked against the gateway's own served
//! OpenAPI document: its status must be documented for that method and route template, and
//! each of the API's own response headers it carries must be documented on that response.
//! So every test that goes through `TestGateway` proves the document complete for what it
//! exercised, and a route that answers an undocumented status fails the test that saw it.

use serde_json::Value;

/// The gateway's response headers a client may rely on: each must be documented where sent.
const CHECKED_HEADERS: &[&str] = &[
    "x-request-id",
    "retry-after",
    "idempotent-replayed",
    "ratelimit",
    "ratelimit-policy",
    "cache-status",
    "www-authenticate",
];

/// The document's path template matching `path` (`{x}` stands for one segment); literal
/// segments win over parameters, as the router's matching does.
fn template<'a>(doc: &'a Value, path: &str) -> Option<&'a str> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    doc["paths"]
        .as_object()?
        .keys()
        .filter_map(|t| {
            let parts: Vec<&str> = t.split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut literal = 0;
            for (p, s) in parts.iter().zip(&segments) {
                if p.starts_with('{') && p.ends_with('}') {
                    if s.is_empty() {
                        return None;
                    }
                } else if p == s {
                    literal += 1;
                } else {
                    return None;
                }
            }
            Some((literal, t.as_str()))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, t)| t)
}

/// Why this answer is not what the document promises, if it is not.
pub fn undocumented(
    doc: &Value,
    method: &str,
    path: &str,
    status: u16,
    headers: &reqwest::header::HeaderMap,
) -> Option<String> {
    let path = path.split('?').next().unwrap_or(path);
    // A path no route serves (404) or a method none answers (405) has no operation.
    let template = template(doc, path)?;
    let operation = doc["paths"][template].get(method.to_ascii_lowercase())?;
    let responses = &operation["responses"];
    let class = format!("{}XX", status / 100);
    let Some(response) = [status.to_string(), class, "default".into()]
        .iter()
        .find_map(|key| responses.get(key))
    else {
        let documented: Vec<&String> = responses
            .as_object()
            .map(|r| r.keys().collect())
            .unwrap_or_default();
        return Some(format!(
            "{method} {template} answered {status}, which its operation does not document (it documents {documented:?})"
        ));
    };
    let documented: Vec<String> = response["headers"]
        .as_object()
        .map(|h| h.keys().map(|k| k.to_ascii_lowercase()).collect())
        .unwrap_or_default();
    let missing: Vec<&&str> = CHECKED_HEADERS
        .iter()
        .filter(|h| headers.contains_key(**h) && !documented.iter().any(|d| d == *h))
        .collect();
    if !missing.is_empty() {
        return Some(format!(
            "{method} {template} {status} sent the undocumented header(s) {missing:?}"
        ));
    }
    None
}
