//! What a recording keeps of an exchange (`record`, and `fixtures verify --update` rewriting
//! an answer): the instance's secrets, credentials, per-run values and personal data removed
//! by the rules of `redact.rs`.

use std::collections::BTreeMap;

use refund_provider::fixture::{Exchange, ExpectedRequest, HeaderExpectation, RecordedResponse};
use refund_provider::secrecy::{ExposeSecret, SecretString};
use refund_provider::{VendorRequest, VendorResponse};
use serde_json::Value;

use super::redact::*;
use crate::fixtures::pointer::Pattern;
use crate::scrub::{Scrubber, REDACTED};

/// What a recording keeps of an exchange: the instance's secrets, credentials and personal
/// data removed (`record`, and `fixtures verify --update` rewriting an answer).
pub struct Redactor {
    /// Secrets long enough to be searched for in text.
    secrets: Vec<SecretString>,
    scrubber: Scrubber,
    /// Personal-data pointers of the answers (the vendor's and the config's).
    personal: Vec<Pattern>,
}

impl Redactor {
    pub fn new(secrets: Vec<SecretString>, personal_data: &[String]) -> Redactor {
        Redactor {
            scrubber: Scrubber::new(secrets.clone()),
            secrets: secrets
                .into_iter()
                .filter(|s| s.expose_secret().chars().count() >= 6)
                .collect(),
            personal: personal_data.iter().map(|p| Pattern::new(p)).collect(),
        }
    }

    /// The fixture's text; the last net: no configured secret leaves, whatever path it took.
    pub fn text(&self, exchange: &Exchange) -> std::io::Result<String> {
        let mut text =
            self.clean(&serde_json::to_string_pretty(exchange).map_err(std::io::Error::other)?);
        text.push('\n');
        Ok(text)
    }

    /// `text` without the instance's secrets.
    pub fn clean(&self, text: &str) -> String {
        let mut text = text.to_string();
        for secret in &self.secrets {
            text = text.replace(secret.expose_secret(), REDACTED);
        }
        text
    }

    /// A canonical answer as a recorded case keeps it: what differs per run (times, the
    /// ledger's ids) and what the fixtures do not keep (credentials, personal data) matched
    /// by `{{any}}`, as in a recorded request body.
    /// A value naming one of the ledger's ids is `{{any}}` as a whole: a fresh gateway
    /// without that ledger may name the same refund by its vendor id (`rf_...`).
    pub fn answer(&self, body: Value) -> Value {
        fn whole(value: Value) -> Value {
            match value {
                Value::String(s) if s.contains(refund_provider::fixture_match::REFUND_ID) => {
                    Value::String(ANY.to_string())
                }
                Value::Object(map) => {
                    Value::Object(map.into_iter().map(|(k, v)| (k, whole(v))).collect())
                }
                Value::Array(items) => Value::Array(items.into_iter().map(whole).collect()),
                other => other,
            }
        }
        whole(self.request_body(body))
    }

    /// The request as a fixture expects it.
    pub fn request(&self, base_url: &str, request: &VendorRequest) -> ExpectedRequest {
        let (path, query) = relative(base_url, &request.url);
        let query = query
            .into_iter()
            .map(|(k, v)| {
                let v = if self.holds_secret(&v) || crate::replay::secret_name(&k) {
                    REDACTED.to_string()
                } else {
                    v
                };
                (k, v)
            })
            .collect();
        let headers = request
            .headers
            .iter()
            .map(|(name, value)| {
                let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
                let secret = value.is_sensitive()
                    || crate::replay::secret_name(name.as_str())
                    || self.holds_secret(&text);
                // Trace context is new on every request (`GuardedTransport` writes it).
                let per_request = TIME.is_match(&text)
                    || matches!(name.as_str(), "traceparent" | "tracestate")
                    || BODY_DIGEST_HEADER.is_match(name.as_str())
                    || GATEWAY_ID.is_match(&text);
                let expectation = if secret || per_request {
                    HeaderExpectation::Matches {
                        matches: shape(&text),
                    }
                } else {
                    HeaderExpectation::Exact(text)
                };
                (name.as_str().to_string(), expectation)
            })
            .collect();
        let body = request
            .body
            .as_ref()
            .filter(|b| !b.is_empty())
            .and_then(|b| serde_json::from_slice::<Value>(b).ok())
            .map(|v| self.request_body(v));
        ExpectedRequest {
            method: request.method.to_string(),
            path,
            query,
            headers,
            header_match: None,
            body,
        }
    }

    /// The answer as a fixture records it.
    pub fn response(&self, response: &VendorResponse) -> RecordedResponse {
        // One value per header in the format: repeated headers (several `Set-Cookie`) are
        // folded with ", ", as the shipped fixtures do.
        let mut response_headers: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in response.headers.iter() {
            if SKIPPED_RESPONSE_HEADERS.contains(&name.as_str()) {
                continue;
            }
            let text = String::from_utf8_lossy(value.as_bytes());
            let text = if name.as_str() == "set-cookie" {
                COOKIE_VALUE
                    .replace_all(&text, format!("${{1}}${{2}}={PLACEHOLDER}"))
                    .into_owned()
            } else {
                self.scrubber.clean(&text)
            };
            response_headers
                .entry(name.as_str().to_string())
                .and_modify(|folded| {
                    folded.push_str(", ");
                    folded.push_str(&text);
                })
                .or_insert(text);
        }
        let (body_json, body_text) = match serde_json::from_slice::<Value>(&response.body) {
            Ok(json) => {
                let mut json = self.response_body(json);
                for pattern in &self.personal {
                    pattern.redact(&mut json, PERSONAL);
                }
                (Some(json), None)
            }
            Err(_) if response.body.is_empty() => (None, None),
            Err(_) => (
                None,
                Some(
                    self.scrubber
                        .clean(&String::from_utf8_lossy(&response.body)),
                ),
            ),
        };
        RecordedResponse {
            status: response.status,
            headers: response_headers,
            body: body_json,
            body_text,
            fault: None,
            delay_ms: None,
        }
    }

    fn holds_secret(&self, text: &str) -> bool {
        self.secrets
            .iter()
            .any(|s| text.contains(s.expose_secret()))
    }

    /// Credential-named fields, secrets and times become `{{any}}`, the gateway's own refund
    /// ids `{{refund_id}}`: replay checks the rest.
    fn request_body(&self, value: Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| {
                        let v = if (crate::replay::secret_name(&k) || personal_name(&k))
                            && !v.is_object()
                        {
                            Value::String(ANY.to_string())
                        } else {
                            self.request_body(v)
                        };
                        (k, v)
                    })
                    .collect(),
            ),
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| self.request_body(v)).collect())
            }
            Value::String(s) if self.holds_secret(&s) || TIME.is_match(&s) => {
                Value::String(ANY.to_string())
            }
            // The gateway's own ids are matched whatever they are, and `fixtures verify`
            // sends a fresh one.
            Value::String(s) if GATEWAY_ID.is_match(&s) => Value::String(
                GATEWAY_ID
                    .replace_all(&s, refund_provider::fixture_match::REFUND_ID)
                    .into_owned(),
            ),
            other => other,
        }
    }

    /// Credential-named fields are replaced, other strings scrubbed of secrets.
    fn response_body(&self, value: Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| {
                        let v = if crate::replay::secret_name(&k) && matches!(v, Value::String(_)) {
                            Value::String(PLACEHOLDER.to_string())
                        } else if personal_name(&k) && matches!(v, Value::String(_)) {
                            Value::String(PERSONAL.to_string())
                        } else {
                            self.response_body(v)
                        };
                        (k, v)
                    })
                    .collect(),
            ),
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| self.response_body(v)).collect())
            }
            Value::String(s) => Value::String(self.scrubber.clean(&s)),
            other => other,
        }
    }
}
