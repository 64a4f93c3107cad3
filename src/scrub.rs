//! Vendor words are scrubbed before the gateway keeps or shows them. Some vendors echo the
//! request in their error text, so a vendor message could carry the instance's own
//! credentials, a session cookie or a signature header back to a client and into the
//! ledger. Every text a provider returns (error messages, refund notes and reasons, the
//! raw payload) passes through `Scrubber`: each configured secret value of the instance is
//! removed, anything shaped like an auth header, cookie or key assignment loses its value,
//! and a message is cut to a length a person reads.
//!
//! `ScrubbedProvider` applies it as a decorator around each instance's provider (as the
//! guarded transport wraps its transport), so no vendor crate has to remember it.

use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use refund_provider::secrecy::{ExposeSecret, SecretString};
use refund_provider::{
    Capabilities, Forecast, Provider, ProviderError, Quote, Refund, RefundRequest, Target,
    VendorRef,
};
use regex::Regex;

/// What stands where a secret was.
pub const REDACTED: &str = "[redacted]";
/// Longest vendor message kept, in characters.
pub const MAX_MESSAGE_CHARS: usize = 500;
/// Secrets shorter than this are not searched for: they would match ordinary words.
const MIN_SECRET_CHARS: usize = 6;

/// `Name: value` / `name=value` pairs whose value is a credential, and bare bearer tokens.
static CREDENTIAL_SHAPED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)((?:proxy-)?authorization|x-api-key|api[-_]?key|apikey|api[-_]?secret|access[-_]?key|secret[-_]?key|set-cookie|cookie|session(?:id|[-_]?token)?|token|password|passwd|secret|signature|sign)(["']?\s*[:=]\s*["']?)((?:bearer|basic|digest|tm-hmac-sha256|iws1-hmac-sha256)\s+)?[^\s"',;&}]+"#,
    )
    .expect("the credential pattern compiles")
});
static BEARER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
        .expect("the bearer pattern compiles")
});

/// Removes credentials from vendor text.
#[derive(Default)]
pub struct Scrubber {
    secrets: Vec<SecretString>,
}

impl Scrubber {
    pub fn new(secrets: Vec<SecretString>) -> Scrubber {
        let secrets = secrets
            .into_iter()
            .filter(|s| s.expose_secret().chars().count() >= MIN_SECRET_CHARS)
            .collect();
        Scrubber { secrets }
    }

    /// The text without credentials (any length).
    pub fn clean(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            if out.contains(secret.expose_secret()) {
                out = out.replace(secret.expose_secret(), REDACTED);
            }
        }
        let out = CREDENTIAL_SHAPED.replace_all(&out, format!("$1$2{REDACTED}"));
        BEARER
            .replace_all(&out, format!("$1 {REDACTED}"))
            .into_owned()
    }

    /// A message: without credentials, and no longer than `MAX_MESSAGE_CHARS`.
    pub fn message(&self, text: &str) -> String {
        let clean = self.clean(text);
        match clean.char_indices().nth(MAX_MESSAGE_CHARS) {
            Some((cut, _)) => format!("{}…", &clean[..cut]),
            None => clean,
        }
    }

    fn json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => *s = self.clean(s),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.json(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.json(v)),
            _ => {}
        }
    }

    pub fn error(&self, mut e: ProviderError) -> ProviderError {
        e.message = self.message(&e.message);
        if let Some(vendor) = e.vendor.as_mut() {
            vendor.message = self.message(&vendor.message);
            vendor.code = vendor.code.as_deref().map(|c| self.message(c));
        }
        e
    }

    pub fn refund(&self, mut r: Refund) -> Refund {
        let message = |t: &mut Option<String>| *t = t.as_deref().map(|t| self.message(t));
        message(&mut r.reason);
        message(&mut r.vendor_reason);
        message(&mut r.vendor_status);
        r.notes = r.notes.iter().map(|n| self.message(n)).collect();
        for line in &mut r.lines {
            message(&mut line.message);
            message(&mut line.description);
        }
        if let Some(raw) = r.raw.as_mut() {
            self.json(raw);
        }
        r
    }
}

impl Scrubber {
    /// A quote with the vendor's words scrubbed (they may echo what we sent).
    pub fn quote(&self, mut q: Quote) -> Quote {
        q.notes = q.notes.iter().map(|n| self.message(n)).collect();
        for line in &mut q.lines {
            line.description = line.description.as_deref().map(|t| self.message(t));
        }
        for unknown in &mut q.cannot_know {
            unknown.why = self.message(&unknown.why);
        }
        match &mut q.create {
            Forecast::Refused { message, .. } => *message = self.message(message),
            Forecast::VendorDecides { reason } => *reason = self.message(reason),
            Forecast::Refund { .. } => {}
        }
        q
    }
}

/// A provider whose every answer is scrubbed.
pub struct ScrubbedProvider {
    pub inner: Arc<dyn Provider>,
    pub scrubber: Scrubber,
}

#[async_trait]
impl Provider for ScrubbedProvider {
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }

    async fn create(&self, request: &RefundRequest) -> Result<Refund, ProviderError> {
        self.inner
            .create(request)
            .await
            .map(|r| self.scrubber.refund(r))
            .map_err(|e| self.scrubber.error(e))
    }

    async fn quote(&self, request: &RefundRequest) -> Result<Quote, ProviderError> {
        self.inner
            .quote(request)
            .await
            .map(|q| self.scrubber.quote(q))
            .map_err(|e| self.scrubber.error(e))
    }

    async fn get(&self, vendor_ref: &VendorRef) -> Result<Refund, ProviderError> {
        self.inner
            .get(vendor_ref)
            .await
            .map(|r| self.scrubber.refund(r))
            .map_err(|e| self.scrubber.error(e))
    }

    async fn list(&self, target: &Target) -> Result<Vec<Refund>, ProviderError> {
        self.inner
            .list(target)
            .await
            .map(|refunds| {
                refunds
                    .into_iter()
                    .map(|r| self.scrubber.refund(r))
                    .collect()
            })
            .map_err(|e| self.scrubber.error(e))
    }

    /// Not scrubbed: `fixtures verify` compares the answer, and redacts it as `record` does
    /// before writing any of it.
    async fn send_recorded(
        &self,
        call: refund_provider::RecordedCall,
    ) -> Result<refund_provider::VendorResponse, ProviderError> {
        self.inner
            .send_recorded(call)
            .await
            .map_err(|e| self.scrubber.error(e))
    }
}

/// The values of every `{ env = .. }` / `{ file = .. }` reference in an instance's vendor
/// settings: the secrets the vendor's words must never carry back.
pub fn configured_secrets(settings: &figment::value::Value) -> Vec<SecretString> {
    use figment::value::Value;
    let mut found = Vec::new();
    fn walk(value: &Value, found: &mut Vec<SecretString>) {
        match value {
            Value::Dict(_, dict) => {
                let reference = value
                    .deserialize::<refund_provider::SecretRef>()
                    .ok()
                    .filter(|_| dict.len() == 1);
                match reference.and_then(|r| r.resolve().ok()) {
                    Some(secret) => found.push(secret),
                    None => dict.values().for_each(|v| walk(v, found)),
                }
            }
            Value::Array(_, items) => items.iter().for_each(|v| walk(v, found)),
            _ => {}
        }
    }
    walk(settings, &mut found);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_configured_secrets_and_credential_shaped_text() {
        let scrubber = Scrubber::new(vec![
            SecretString::from("fv-live-key-123456".to_string()),
            SecretString::from("abc".to_string()),
        ]);
        let echoed = "bad request: X-Api-Key: fv-live-key-123456; Cookie: .Session=9f8e7d6c5b; \
                      Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.x.y, key fv-live-key-123456 unknown, \
                      {\"apiKey\": \"k-987654321\", \"password\":\"hunter2\"} abc stays";
        let clean = scrubber.message(echoed);
        for leaked in [
            "fv-live-key-123456",
            "9f8e7d6c5b",
            "eyJhbGciOiJIUzI1NiJ9",
            "k-987654321",
            "hunter2",
        ] {
            assert!(!clean.contains(leaked), "{leaked} in {clean}");
        }
        assert!(clean.contains("bad request"), "{clean}");
        assert!(
            clean.contains("abc stays"),
            "short secrets are not searched: {clean}"
        );
        let long = "x".repeat(2000);
        assert_eq!(
            scrubber.message(&long).chars().count(),
            MAX_MESSAGE_CHARS + 1
        );
    }

    #[test]
    fn a_quote_carries_no_echoed_secret() {
        use refund_provider::{Capabilities, InstanceName, QuoteLine, Unknowable};
        let secret = "tm-live-secret-987654";
        let scrubber = Scrubber::new(vec![SecretString::from(secret.to_string())]);
        let request = RefundRequest::default();
        let mut quote = Quote::new(
            &InstanceName::new("tm").unwrap(),
            "ticketmatic",
            &Capabilities::none(),
            &request,
        );
        let echo = format!("vendor said: key {secret} refused");
        quote.create = Forecast::Refused {
            code: "provider_rejected".into(),
            message: echo.clone(),
            pointer: None,
        };
        quote.notes.push(echo.clone());
        quote.cannot_know(Unknowable::VendorAcceptance, echo.clone());
        let mut line = QuoteLine::new(refund_provider::LineKind::Payment, "1");
        line.description = Some(echo);
        quote.lines.push(line);
        let text = serde_json::to_string(&scrubber.quote(quote)).unwrap();
        assert!(!text.contains(secret), "{text}");
        assert!(text.contains("vendor said"), "{text}");
    }
}
