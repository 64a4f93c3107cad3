//! The replay server's admin API, under `/__replay/` so tests in any language can drive it:
//!
//! - `GET /__replay/requests`: every request received (admin requests aside), in order, with
//!   the values of secret-looking headers and body fields masked;
//! - `GET /__replay/state`: the state of each entity fixtures name (`Exchange::state`);
//! - `POST /__replay/reset`: forget received requests and mismatches, re-arm once-only
//!   fixtures, put every entity back in `started`;
//! - `POST /__replay/fixtures[?name=NAME]`: load one fixture (or a JSON array of fixtures) at
//!   run time; it answers after the fixtures already loaded.

use std::collections::BTreeSet;
use std::sync::Mutex;

use refund_provider::fixture::{Exchange, HeaderExpectation};
use refund_provider::{SandboxRequest, VendorResponse};
use serde_json::{json, Value};

use super::{ReceivedRequest, State};

/// What replaces a masked value.
pub const MASK: &str = "***";

pub fn answer(state: &Mutex<State>, request: &SandboxRequest, route: &str) -> VendorResponse {
    let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
    match (request.method.as_str(), route) {
        ("GET", "requests") => {
            let secret_headers = pattern_headers(&state);
            let listed: Vec<Value> = state
                .received
                .iter()
                .map(|r| masked(r, &secret_headers))
                .collect();
            reply(200, json!({ "requests": listed }))
        }
        ("GET", "state") => reply(200, json!({ "entities": state.entities })),
        ("POST", "reset") => {
            state.received.clear();
            state.mismatches.clear();
            state.entities.clear();
            for fixture in &mut state.fixtures {
                fixture.2 = false;
            }
            reply(
                200,
                json!({ "reset": true, "fixtures": state.fixtures.len() }),
            )
        }
        ("POST", "fixtures") => {
            let loaded = match parse_fixtures(&request.body) {
                Ok(loaded) => loaded,
                Err(e) => return reply(400, json!({ "error": e })),
            };
            let given = request.query.as_deref().and_then(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "name")
                    .map(|(_, v)| v.into_owned())
            });
            let mut names = Vec::new();
            for (i, exchange) in loaded.into_iter().enumerate() {
                let name = match (&given, i) {
                    (Some(n), 0) => n.clone(),
                    (Some(n), i) => format!("{n}#{i}"),
                    (None, _) => format!("runtime-{}", state.fixtures.len() + 1),
                };
                names.push(name.clone());
                let exchange = super::with_header_mode(exchange, state.headers);
                state.fixtures.push((name, exchange, false));
            }
            reply(
                201,
                json!({ "loaded": names, "fixtures": state.fixtures.len() }),
            )
        }
        _ => reply(
            404,
            json!({ "error": format!("no admin route {} {}{route}", request.method, super::ADMIN_PREFIX) }),
        ),
    }
}

fn parse_fixtures(body: &[u8]) -> Result<Vec<Exchange>, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let items = match value {
        Value::Array(items) => items,
        one => vec![one],
    };
    items
        .into_iter()
        .map(|item| {
            serde_json::from_value::<Exchange>(item)
                .map_err(|e| format!("fixture is malformed: {e}"))
        })
        .collect()
}

fn reply(status: u16, body: Value) -> VendorResponse {
    refund_provider::sandbox::json_response(status, &body)
}

/// Headers some loaded fixture expects by pattern: their values change per request or carry
/// a credential, so they are never listed.
fn pattern_headers(state: &State) -> BTreeSet<String> {
    state
        .fixtures
        .iter()
        .flat_map(|(_, e, _)| e.request.headers.iter())
        .filter(|(_, h)| matches!(h, HeaderExpectation::Matches { .. }))
        .map(|(name, _)| name.to_ascii_lowercase())
        .collect()
}

/// Whether a header or field name looks like it carries a credential.
pub fn secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "auth",
        "cookie",
        "token",
        "secret",
        "key",
        "sign",
        "session",
        "password",
        "passwd",
        "credential",
    ]
    .iter()
    .any(|word| name.contains(word))
}

fn masked(request: &ReceivedRequest, pattern_headers: &BTreeSet<String>) -> Value {
    let headers: serde_json::Map<String, Value> = request
        .headers
        .iter()
        .map(|(name, value)| {
            let shown = if pattern_headers.contains(name) || secret_name(name) {
                MASK.to_string()
            } else {
                value.clone()
            };
            (name.clone(), Value::String(shown))
        })
        .collect();
    let query: serde_json::Map<String, Value> = request
        .query
        .iter()
        .map(|(k, v)| {
            let shown = if secret_name(k) { MASK } else { v.as_str() };
            (k.clone(), Value::String(shown.to_string()))
        })
        .collect();
    let body = match request.json() {
        Some(json) => mask_body(json),
        None if request.body.is_empty() => Value::Null,
        None => Value::String(String::from_utf8_lossy(&request.body).into_owned()),
    };
    json!({
        "method": request.method,
        "path": request.path,
        "query": query,
        "headers": headers,
        "body": body,
    })
}

fn mask_body(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = if secret_name(&k) && !v.is_object() && !v.is_array() {
                        Value::String(MASK.to_string())
                    } else {
                        mask_body(v)
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(mask_body).collect()),
        other => other,
    }
}
