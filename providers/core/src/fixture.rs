//! The recorded-exchange format of `fixtures/` (documented in `fixtures/README.md`): one
//! JSON file per vendor exchange, holding the request the gateway must send and the
//! response the vendor gave. The replay server and the sandboxes both read it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exchange {
    /// What this exchange shows.
    pub description: String,
    /// Where the recording comes from (which vendor doc example, what was changed or redacted).
    /// A recording says when it was made (`... at 2026-12-01T16:02:25Z ...`): the first
    /// RFC 3339 time in it is what `expires_after` counts from.
    pub source: String,
    /// How long the recording may be trusted (`"90d"`, `"12h"`): `fixtures verify` and
    /// `replay` warn about a fixture older than that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_after: Option<String>,
    /// Replay state per entity: this fixture answers only while its entity is in the state
    /// it requires, and moves the entity on (a refund list of one order changes after a
    /// refund on that order, while another order's list does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<EntityState>,
    pub request: ExpectedRequest,
    pub response: RecordedResponse,
}

/// WireMock's scenarios, one per entity. Every entity starts in `started`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityState {
    /// What the state belongs to, named as the fixtures name it (`"order 1269434"`), or
    /// taken from each request (`"order {{path.2}}"`: see `EntityState::entity_for`).
    pub entity: String,
    /// The state the entity must be in for this fixture to answer; none: any state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires: Option<String>,
    /// The state the entity is in after this fixture answered; none: unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub becomes: Option<String>,
}

/// The state every entity starts in.
pub const STARTED: &str = "started";

impl EntityState {
    /// The entity for a received request: `{{path.N}}` (the path's segment N, from 0),
    /// `{{query.NAME}}` and `{{body:/POINTER}}` (a JSON pointer into its body) are taken
    /// from the request, so one fixture (a read of any order) keeps a state per entity (per
    /// order); a reference the request does not have becomes empty.
    pub fn entity_for(&self, path: &str, query: &BTreeMap<String, String>, body: &[u8]) -> String {
        let mut out = String::new();
        let mut rest = self.entity.as_str();
        while let Some(start) = rest.find("{{") {
            let Some(len) = rest[start..].find("}}") else {
                break;
            };
            out.push_str(&rest[..start]);
            let reference = &rest[start + 2..start + len];
            out.push_str(&request_value(reference, path, query, body));
            rest = &rest[start + len + 2..];
        }
        out.push_str(rest);
        out
    }

    /// Whether the fixture may answer while its entity is in `current`.
    pub fn allows(&self, current: Option<&str>) -> bool {
        self.requires
            .as_deref()
            .is_none_or(|r| r == current.unwrap_or(STARTED))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedRequest {
    pub method: String,
    /// Path relative to the vendor base URL's path, e.g. `/demo/orders/1269434/refunds`.
    pub path: String,
    /// Query parameters that must be present with these values (decoded).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub query: BTreeMap<String, String>,
    /// Headers that matter (lower-case names). Others are ignored, unless `header_match`
    /// is `strict`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, HeaderExpectation>,
    /// `loose` (default): only the headers listed must match. `strict`: besides, the request
    /// may carry no other header (HTTP framing aside). Unset: the replay run's mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_match: Option<HeaderMatch>,
    /// The JSON body; the string `"{{any}}"` anywhere matches any value there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
}

/// How a fixture's headers are matched (`ExpectedRequest::header_match`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeaderMatch {
    /// Only the headers the fixture names are checked.
    #[default]
    Loose,
    /// Every header of the request must be one the fixture names (and match it).
    Strict,
}

/// A header value: exact, or a regular expression for values that change per request
/// (signatures over a timestamp). Secrets are never recorded: a pattern stands in for them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HeaderExpectation {
    Exact(String),
    Matches { matches: String },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedResponse {
    pub status: u16,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// A JSON body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    /// A non-JSON or broken body, sent verbatim (an HTML error page, truncated JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_text: Option<String>,
    /// Misbehaviour instead of (or before) an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
    /// Wait this long before answering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// Close the connection after reading the request, without answering.
    Reset,
}

impl Exchange {
    /// Parses a fixture file's text; panics with the file name on a malformed fixture,
    /// which is a bug in the repository, not a runtime condition.
    pub fn parse(name: &str, text: &str) -> Exchange {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("fixture {name} is malformed: {e}"))
    }

    /// The recorded JSON body, for sandboxes seeding their state.
    pub fn response_body(&self) -> &serde_json::Value {
        self.response
            .body
            .as_ref()
            .unwrap_or(&serde_json::Value::Null)
    }
}

/// The value a `{{...}}` reference of an entity names in a request (empty if absent).
fn request_value(
    reference: &str,
    path: &str,
    query: &BTreeMap<String, String>,
    body: &[u8],
) -> String {
    if let Some(n) = reference.strip_prefix("path.") {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        return n
            .parse::<usize>()
            .ok()
            .and_then(|n| segments.get(n))
            .map_or_else(String::new, |s| s.to_string());
    }
    if let Some(name) = reference.strip_prefix("query.") {
        return query.get(name).cloned().unwrap_or_default();
    }
    if let Some(pointer) = reference.strip_prefix("body:") {
        let body: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        return match body.pointer(pointer) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
    }
    String::new()
}
