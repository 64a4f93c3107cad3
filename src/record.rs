//! Recording vendor traffic as fixtures (`refund-gateway record --out DIR`): a `Transport`
//! layer around each instance's HTTP transport writes every answered vendor exchange as a
//! fixture in the format of `fixtures/README.md`, named
//! `<instance>-<NNN>-<method>-<status>.json`, so the recordings can be replayed with
//! `refund-gateway replay --once DIR`.
//!
//! Redaction happens before anything touches disk:
//! - every configured secret value of the instance (`scrub::configured_secrets`), wherever it
//!   appears (headers, query, bodies), and credential-shaped text (`scrub::Scrubber`);
//! - request headers carrying credentials (authorization, cookies, API keys, signatures, any
//!   header the provider marked sensitive or whose value holds a secret) become
//!   `{"matches": "<regex of the value's shape>"}`, so replay still checks their form;
//!   time-valued headers become a shape too, so a recording replays tomorrow;
//! - request body fields named like credentials (`password`, `token`, ...), time values and
//!   strings holding one of the gateway's own refund ids (`rfg_...`, new every run)
//!   become `"{{any}}"`; response fields named like credentials and `set-cookie` values are
//!   replaced (a token the gateway then sends back is matched by shape);
//! - personal data known by field name (`PERSONAL_FIELD`: people's names, emails, phones,
//!   postal addresses, bank accounts, birth dates): `REDACTED` in answers, `{{any}}` in
//!   requests.
//!
//! Exchanges that got no answer (connect failures, timeouts, resets) are not written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use refund_provider::fixture::{Exchange, ExpectedRequest, HeaderExpectation, RecordedResponse};
use refund_provider::secrecy::{ExposeSecret, SecretString};
use refund_provider::{InstanceName, Transport, TransportError, VendorRequest, VendorResponse};
use serde_json::Value;

use crate::scrub::{Scrubber, REDACTED};

/// Where recordings go; one per `record` run, shared by every instance.
#[derive(Debug, Clone)]
pub struct Recorder {
    pub out: PathBuf,
    /// The instances to record (`--instance`); empty: all of them.
    pub instances: Vec<String>,
}

impl Recorder {
    /// Creates the output folder; every instance is recorded.
    pub fn new(out: impl Into<PathBuf>) -> std::io::Result<Recorder> {
        let out = out.into();
        std::fs::create_dir_all(&out)?;
        Ok(Recorder {
            out,
            instances: Vec::new(),
        })
    }

    /// Records only these instances.
    pub fn only(mut self, instances: Vec<String>) -> Recorder {
        self.instances = instances;
        self
    }

    pub fn records(&self, instance: &str) -> bool {
        self.instances.is_empty() || self.instances.iter().any(|i| i == instance)
    }
}

/// The recording layer of one instance.
pub struct RecordingTransport {
    pub inner: Arc<dyn Transport>,
    pub instance: InstanceName,
    pub kind: &'static str,
    /// The instance's vendor base URL: fixture paths are relative to its path.
    pub base_url: String,
    pub out: PathBuf,
    pub secrets: Vec<SecretString>,
    pub scrubber: Scrubber,
    pub count: AtomicUsize,
}

impl RecordingTransport {
    pub fn new(
        inner: Arc<dyn Transport>,
        recorder: &Recorder,
        instance: InstanceName,
        kind: &'static str,
        base_url: String,
        secrets: Vec<SecretString>,
    ) -> RecordingTransport {
        RecordingTransport {
            inner,
            kind,
            base_url,
            out: recorder.out.clone(),
            scrubber: Scrubber::new(secrets.clone()),
            secrets: secrets
                .into_iter()
                .filter(|s| s.expose_secret().chars().count() >= 6)
                .collect(),
            count: AtomicUsize::new(last_number(&recorder.out, instance.as_str())),
            instance,
        }
    }

    fn write(
        &self,
        request: &VendorRequest,
        response: &VendorResponse,
    ) -> std::io::Result<PathBuf> {
        let number = self.count.fetch_add(1, Ordering::SeqCst) + 1;
        let exchange = self.exchange(request, response);
        let mut text = serde_json::to_string_pretty(&exchange).map_err(std::io::Error::other)?;
        // The last net: no configured secret leaves, whatever path it took.
        for secret in &self.secrets {
            text = text.replace(secret.expose_secret(), REDACTED);
        }
        text.push('\n');
        let name = format!(
            "{}-{number:03}-{}-{}.json",
            self.instance,
            request.method.as_str().to_ascii_lowercase(),
            response.status
        );
        let path = self.out.join(name);
        std::fs::write(&path, text)?;
        Ok(path)
    }

    fn exchange(&self, request: &VendorRequest, response: &VendorResponse) -> Exchange {
        let (path, query) = relative(&self.base_url, &request.url);
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
            Ok(json) => (Some(self.response_body(json)), None),
            Err(_) if response.body.is_empty() => (None, None),
            Err(_) => (
                None,
                Some(
                    self.scrubber
                        .clean(&String::from_utf8_lossy(&response.body)),
                ),
            ),
        };
        Exchange {
            description: format!(
                "{} {path} answered {} (recorded)",
                request.method, response.status
            ),
            source: format!(
                "Recorded by `refund-gateway record` at {} from instance `{}` ({}); configured \
                 secrets, credential headers, cookies and credential-named fields redacted; \
                 times and credentials in the request matched by shape or {{{{any}}}}.",
                refund_provider::chrono::Utc::now()
                    .to_rfc3339_opts(refund_provider::chrono::SecondsFormat::Secs, true),
                self.instance,
                self.kind
            ),
            request: ExpectedRequest {
                method: request.method.to_string(),
                path,
                query,
                headers,
                body,
            },
            response: RecordedResponse {
                status: response.status,
                headers: response_headers,
                body: body_json,
                body_text,
                fault: None,
                delay_ms: None,
            },
        }
    }

    fn holds_secret(&self, text: &str) -> bool {
        self.secrets
            .iter()
            .any(|s| text.contains(s.expose_secret()))
    }

    /// Credential-named fields, secrets and times become `{{any}}`: replay checks the rest.
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
            Value::String(s)
                if self.holds_secret(&s) || TIME.is_match(&s) || GATEWAY_ID.is_match(&s) =>
            {
                Value::String(ANY.to_string())
            }
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

#[async_trait]
impl Transport for RecordingTransport {
    async fn send(&self, request: VendorRequest) -> Result<VendorResponse, TransportError> {
        let kept = request.clone();
        let result = self.inner.send(request).await;
        if let Ok(response) = &result {
            match self.write(&kept, response) {
                Ok(path) => {
                    tracing::info!(instance = %self.instance, file = %path.display(), "recorded")
                }
                Err(e) => {
                    tracing::error!(instance = %self.instance, error = %e, "cannot write a recording")
                }
            }
        }
        result
    }
}

/// The highest `NNN` of `<instance>-<NNN>-...json` already in `dir` (0 if none): a second
/// run into the same folder continues the numbering instead of overwriting.
fn last_number(dir: &Path, instance: &str) -> usize {
    let prefix = format!("{instance}-");
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let rest = name.strip_prefix(&prefix)?;
            let (number, tail) = rest.split_once('-')?;
            (tail.ends_with(".json") && number.chars().all(|c| c.is_ascii_digit()))
                .then(|| number.parse::<usize>().ok())
                .flatten()
        })
        .max()
        .unwrap_or(0)
}

/// Every `*.json` file of `dir`, sorted (recordings replay in the order they were made).
pub fn recorded_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Ok(files)
}

mod redact;
use redact::*;

#[cfg(test)]
mod tests;
