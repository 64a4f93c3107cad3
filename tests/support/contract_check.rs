//! Every answer the test helper receives is checked against the gateway's own served
//! OpenAPI document: its status must be documented for that method and route template, and
//! each of the API's own response headers it carries must be documented on that response,
//! and a problem+json answer's `code` must be one of the codes its response documents (and
//! each `errors[]` entry's one of those `FieldError` lists).
//! So every test that goes through `TestGateway` proves the document complete for what it
//! exercised, and a route that answers an undocumented status (or is missing from the
//! document) fails the test that saw it.

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
    body: &Value,
) -> Option<String> {
    let path = path.split('?').next().unwrap_or(path);
    let operation = template(doc, path)
        .and_then(|t| Some((t, doc["paths"][t].get(method.to_ascii_lowercase())?)));
    let Some((template, operation)) = operation else {
        // A path no route serves (404), a method none answers (405), the pages for people
        // (HTML, not the API) and CORS preflights have no operation. Anything else answered
        // is a route the document is missing.
        let pages = path == "/batches" || path.starts_with("/batches/");
        if matches!(status, 404 | 405) || pages || method.eq_ignore_ascii_case("options") {
            return None;
        }
        return Some(format!(
            "{method} {path} answered {status}, but the document has no operation for it"
        ));
    };
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
    let is_problem = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"));
    if is_problem {
        let code = body["code"].as_str().unwrap_or_default();
        let Some(schema) = response["content"]["application/problem+json"].get("schema") else {
            return Some(format!(
                "{method} {template} {status} answered problem+json, which that response does not document"
            ));
        };
        let mut enums = Vec::new();
        code_enums(doc, schema, &mut enums, 0);
        if enums.is_empty() {
            return Some(format!(
                "{method} {template} {status}: its problem schema documents no `code` enum"
            ));
        }
        if let Some(listed) = enums.iter().find(|e| !e.iter().any(|c| c == code)) {
            return Some(format!(
                "{method} {template} {status} answered the problem code `{code}`, which its response does not list (it lists {listed:?})"
            ));
        }
        // Each entry of `errors[]`: a code the document lists for an item at fault.
        let item_codes = &doc["components"]["schemas"]["FieldError"]["properties"]["code"]["enum"];
        for entry in body["errors"].as_array().into_iter().flatten() {
            let code = &entry["code"];
            if !item_codes.as_array().is_some_and(|c| c.contains(code)) {
                return Some(format!(
                    "{method} {template} {status} answered an item code {code}, which FieldError does not list ({item_codes})"
                ));
            }
        }
    }
    None
}

/// Every enum the schema (through `$ref`s and `allOf`) puts on a problem's `code`: a code
/// must be in each of them.
fn code_enums(doc: &Value, schema: &Value, enums: &mut Vec<Vec<String>>, depth: usize) {
    if depth > 8 {
        return;
    }
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        let target = &doc["components"]["schemas"][name];
        if let Some(values) = target["enum"].as_array() {
            enums.push(strings(values));
        }
        code_enums(doc, target, enums, depth + 1);
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        code_enums(doc, part, enums, depth + 1);
    }
    let code = &schema["properties"]["code"];
    if let Some(values) = code["enum"].as_array() {
        enums.push(strings(values));
    }
    if code.get("$ref").is_some() {
        code_enums(doc, code, enums, depth + 1);
    }
}

fn strings(values: &[Value]) -> Vec<String> {
    values
        .iter()
        .filter_map(|v| v.as_str().map(String::from))
        .collect()
}
