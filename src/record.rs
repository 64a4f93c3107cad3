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
use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use refund_provider::fixture::{Exchange, ExpectedRequest, HeaderExpectation, RecordedResponse};
use refund_provider::secrecy::{ExposeSecret, SecretString};
use refund_provider::{InstanceName, Transport, TransportError, VendorRequest, VendorResponse};
use regex::Regex;
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
                let per_request = TIME.is_match(&text)
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

const ANY: &str = "{{any}}";

/// What replaces a credential the vendor hands out (a session id, a token, a cookie value):
/// plain, so the gateway can still send it back when the recording is replayed, where the
/// request's header is matched by shape.
const PLACEHOLDER: &str = "redacted";

/// Response headers not worth replaying: framing and per-answer noise.
const SKIPPED_RESPONSE_HEADERS: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "date",
];

/// A time as vendors write them: ISO 8601 / SQL (`2026-12-01 16:02:25 UTC`,
/// `2026-12-01T16:02:25.123+01:00`) or an HTTP date (`Tue, 01 Dec 2026 16:02:25 GMT`).
static TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?(\.\d+)?( ?(Z|UTC|GMT|[+-]\d{2}:?\d{2}))?)?$",
        r"|^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$"
    ))
    .unwrap()
});
/// What replaces personal data in a vendor's answer (as in the shipped fixtures).
const PERSONAL: &str = "REDACTED";

/// Field names that hold personal data by default: people's names, emails, phones, postal
/// addresses, bank accounts, birth dates. Their string values are not recorded (answers:
/// `REDACTED`; requests: `{{any}}`).
static PERSONAL_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)^(first|last|middle|full|display|given|sur|holder|customer|contact|account_?holder)_?name$",
        r"|e_?mail|phone|mobile|^street|^address(_?line)?\d*$|^city$|^zip(_?code)?$|^post(al)?_?code$",
        r"|iban|bank_?account|birth|^dob$"
    ))
    .unwrap()
});

fn personal_name(key: &str) -> bool {
    PERSONAL_FIELD.is_match(&key.replace('-', "_"))
}

/// The gateway's own refund ids (`rfg_` + ULID), new on every run: a request carrying one
/// (a vendor reference, a note) is matched whatever the id.
static GATEWAY_ID: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"rfg_[0-9a-z]{26}").unwrap());
/// Headers computed from the body (which may hold a per-run value): matched by shape.
static BODY_DIGEST_HEADER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)md5|digest|sha\d*|hash|checksum").unwrap());
/// `name=value` pairs of a `Set-Cookie` value (attributes such as `path=/` included: harmless).
static COOKIE_VALUE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)(^|,\s*)([^=;,\s]+)=[^;,]*").unwrap());

/// The path relative to the base URL's path, and the decoded query.
fn relative(base_url: &str, url: &str) -> (String, Vec<(String, String)>) {
    let base_path = url::Url::parse(base_url)
        .map(|u| u.path().trim_end_matches('/').to_string())
        .unwrap_or_default();
    match url::Url::parse(url) {
        Ok(u) => {
            let path = u.path();
            let path = path.strip_prefix(&base_path).unwrap_or(path);
            let path = if path.is_empty() { "/" } else { path };
            (path.to_string(), u.query_pairs().into_owned().collect())
        }
        Err(_) => (url.to_string(), Vec::new()),
    }
}

/// A regular expression of a value's shape that does not contain the value: a leading
/// scheme word (`Bearer`, `TM-HMAC-SHA256`) and `name=` labels are kept, every value part
/// becomes a character class (`[0-9a-f]{64}` for hex, digits for times).
pub fn shape(value: &str) -> String {
    let tokens: Vec<&str> = value.split(' ').collect();
    let mut parts = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let scheme = i == 0
            && tokens.len() > 1
            && !token.is_empty()
            && token.len() <= 32
            && token.starts_with(|c: char| c.is_ascii_alphabetic())
            && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if scheme {
            parts.push(regex::escape(token));
            continue;
        }
        match token.split_once('=') {
            Some((label, rest))
                if !label.is_empty()
                    && label.len() <= 16
                    && label.chars().all(|c| c.is_ascii_alphabetic()) =>
            {
                parts.push(format!(
                    "{}={}",
                    regex::escape(label),
                    class(rest.trim_end_matches(',')) + if rest.ends_with(',') { "," } else { "" }
                ));
            }
            _ => parts.push(class(token)),
        }
    }
    format!("^{}$", parts.join(" "))
}

fn class(part: &str) -> String {
    if part.is_empty() {
        return String::new();
    }
    let n = part.len();
    if TIME.is_match(part) || part.chars().all(|c| c.is_ascii_digit()) {
        part.chars()
            .map(|c| {
                if c.is_ascii_digit() {
                    r"\d".to_string()
                } else {
                    regex::escape(&c.to_string())
                }
            })
            .collect()
    } else if n >= 16 && part.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')) {
        format!("[0-9a-f]{{{n}}}")
    } else if part
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        "[A-Za-z0-9_-]+".to_string()
    } else {
        r"\S+".to_string()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_keep_schemes_and_labels_but_never_values() {
        let auth = "TM-HMAC-SHA256 key=sandbox-ticketmatic-access-key ts=2026-12-01T15:50:00 sign=0123456789abcdef0123456789abcdef";
        let pattern = shape(auth);
        assert!(!pattern.contains("sandbox"), "{pattern}");
        assert!(pattern.starts_with("^TM\\-HMAC\\-SHA256 key="), "{pattern}");
        let re = Regex::new(&pattern).unwrap();
        assert!(re.is_match(auth));
        assert!(re.is_match("TM-HMAC-SHA256 key=other-key ts=2027-01-02T03:04:05 sign=fedcba9876543210fedcba9876543210"));
        assert!(!re.is_match("Basic abc"));
        let bearer = shape("Bearer paylogic-sandbox-token");
        assert_eq!(bearer, r"^Bearer [A-Za-z0-9_-]+$");
        assert!(Regex::new(&shape("2026-12-01 15:50:00"))
            .unwrap()
            .is_match("2030-01-01 00:00:00"));
    }

    #[test]
    fn times_as_vendors_write_them_are_recognised() {
        for time in [
            "2026-12-01",
            "2026-12-01 16:02:25",
            "2026-12-01 16:02:25 UTC",
            "2026-12-01T16:02:25Z",
            "2026-12-01T16:02:25.123+01:00",
            "Tue, 01 Dec 2026 16:02:25 GMT",
        ] {
            assert!(TIME.is_match(time), "{time}");
            let pattern = Regex::new(&shape(time)).unwrap();
            assert!(pattern.is_match(time), "{time}: {pattern}");
        }
        assert!(Regex::new(&shape("2026-12-01 16:02:25 UTC"))
            .unwrap()
            .is_match("2027-01-02 03:04:05 UTC"));
        for not_time in ["2026-12-01 and more", "order 2026-12-01", "20261201"] {
            assert!(!TIME.is_match(not_time), "{not_time}");
        }
    }

    #[test]
    fn numbering_continues_after_earlier_recordings() {
        let dir = std::env::temp_dir().join(format!("record-numbering-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in [
            "tm-001-get-200.json",
            "tm-012-post-201.json",
            "tm-extra-003-get-200.json",
            "other-040-get-200.json",
            "tm-099-notes.txt",
        ] {
            std::fs::write(dir.join(name), "{}").unwrap();
        }
        assert_eq!(last_number(&dir, "tm"), 12);
        assert_eq!(last_number(&dir, "absent"), 0);
        assert_eq!(last_number(&dir.join("missing"), "tm"), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn personal_fields_are_known_by_name() {
        for key in [
            "firstname",
            "lastName",
            "holderName",
            "holderEmail",
            "email",
            "phone_number",
            "street1",
            "city",
            "postalCode",
            "zip",
            "iban",
            "bankAccount",
            "dateOfBirth",
            "address",
            "addressLine2",
        ] {
            assert!(personal_name(key), "{key}");
        }
        for key in [
            "eventName",
            "ticketname",
            "amount",
            "status",
            "ipaddress",
            "paymentid",
        ] {
            assert!(!personal_name(key), "{key}");
        }
    }

    #[test]
    fn paths_are_relative_to_the_base_path() {
        let (path, query) = relative(
            "http://127.0.0.1:9/api/1/",
            "http://127.0.0.1:9/api/1/demo/orders/1?x=a%20b",
        );
        assert_eq!(path, "/demo/orders/1");
        assert_eq!(query, vec![("x".to_string(), "a b".to_string())]);
    }
}
