//! Recording vendor traffic as fixtures (`refund-gateway record --out DIR`): a `Transport`
//! layer around each instance's HTTP transport writes every answered vendor exchange as a
//! fixture in the format of `fixtures/README.md`, named
//! `<instance>/<instance>-<NNN>-<method>-<status>.json`, so the recordings can be replayed
//! with `refund-gateway replay --once DIR`.
//!
//! Each instance folder is also ready for the shared contract suite
//! (`CONTRACT_FIXTURES=DIR cargo test --test contract shared`): a manifest (`manifest.rs`:
//! the instance with placeholder credentials) and, per canonical call served while
//! recording, a recorded case (`cases.rs`: the call, its fixtures in order, the answer).
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
//! An exchange the vendor received but never answered (a timeout, a reset connection) is
//! written as `fault: reset` (after a `delay_ms` longer than the instance's timeout for a
//! timeout), named `...-timeout.json` / `...-reset.json`, so replay reproduces it; one that
//! never reached the vendor (a refused connection, the gateway's own limits) is not.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use refund_provider::contract::recorded::MANIFEST;
use refund_provider::fixture::{Exchange, Fault, RecordedResponse};
use refund_provider::{InstanceName, Transport, TransportError, VendorRequest, VendorResponse};

use crate::config::InstanceSpec;

/// Where recordings go; one per `record` run, shared by every instance.
#[derive(Debug, Clone)]
pub struct Recorder {
    pub out: PathBuf,
    /// The instances to record (`--instance`); empty: all of them.
    pub instances: Vec<String>,
    /// Personal-data pointers of the config (`[fixtures] personal_data`), redacted besides
    /// each vendor's own.
    pub personal_data: Vec<String>,
    /// The canonical calls being recorded, with the fixtures each caused.
    pub cases: Arc<CaseLog>,
}

impl Recorder {
    /// Creates the output folder; every instance is recorded.
    pub fn new(out: impl Into<PathBuf>) -> std::io::Result<Recorder> {
        let out = out.into();
        std::fs::create_dir_all(&out)?;
        Ok(Recorder {
            out,
            instances: Vec::new(),
            personal_data: Vec::new(),
            cases: Arc::default(),
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

    /// `router`, recording the canonical calls it serves as cases (`cases.rs`).
    pub fn record_cases(&self, router: axum::Router) -> axum::Router {
        cases::layer(router, self.cases.clone())
    }
}

/// The recording layer of one instance.
pub struct RecordingTransport {
    pub inner: Arc<dyn Transport>,
    pub instance: InstanceName,
    pub kind: &'static str,
    /// The instance's vendor base URL: fixture paths are relative to its path.
    pub base_url: String,
    /// The instance's folder of the output.
    pub out: PathBuf,
    pub redactor: Arc<Redactor>,
    pub count: AtomicUsize,
    cases: Arc<CaseLog>,
}

impl RecordingTransport {
    /// Also writes the instance folder's manifest (`manifest.rs`).
    pub fn new(
        inner: Arc<dyn Transport>,
        recorder: &Recorder,
        spec: &InstanceSpec,
        kind: &'static str,
        base_url: String,
        redactor: Redactor,
    ) -> RecordingTransport {
        let instance = spec.name.clone();
        let out = recorder.out.join(instance.as_str());
        if let Err(e) = manifest::write(&out, spec, kind) {
            tracing::error!(%instance, error = %e, "cannot write the recording's manifest");
        }
        let redactor = Arc::new(redactor);
        recorder
            .cases
            .register(instance.as_str(), out.clone(), redactor.clone());
        RecordingTransport {
            inner,
            kind,
            base_url,
            count: AtomicUsize::new(last_number(&out, instance.as_str())),
            out,
            redactor,
            cases: recorder.cases.clone(),
            instance,
        }
    }

    fn write(
        &self,
        request: &VendorRequest,
        outcome: &Result<VendorResponse, TransportError>,
    ) -> std::io::Result<Option<PathBuf>> {
        let (recorded, what, label) = match outcome {
            Ok(response) => (
                self.redactor.response(response),
                format!("answered {}", response.status),
                response.status.to_string(),
            ),
            Err(error) => match unanswered(error) {
                Some(unanswered) => unanswered,
                // Nothing reached the vendor (a refused connection, our own limits).
                None => return Ok(None),
            },
        };
        let number = self.count.fetch_add(1, Ordering::SeqCst) + 1;
        let exchange = Exchange {
            description: format!(
                "{} {} {what} (recorded)",
                request.method,
                relative(&self.base_url, &request.url).0,
            ),
            source: recorded_source("refund-gateway record", &self.instance, self.kind),
            expires_after: None,
            state: None,
            request: self.redactor.request(&self.base_url, request),
            response: recorded,
        };
        let text = self.redactor.text(&exchange)?;
        let name = format!(
            "{}-{number:03}-{}-{label}.json",
            self.instance,
            request.method.as_str().to_ascii_lowercase(),
        );
        std::fs::create_dir_all(&self.out)?;
        let path = self.out.join(&name);
        std::fs::write(&path, text)?;
        if let Some(stem) = name.strip_suffix(".json") {
            self.cases.note(self.instance.as_str(), stem);
        }
        Ok(Some(path))
    }
}

/// How replay reproduces a request the vendor received but never answered: the connection
/// is closed unanswered (`fault: reset`), after twice the instance's timeout (at least a
/// second more) when the answer did not come in time. The status is a placeholder: no
/// answer is ever sent. `None` when the vendor cannot have received the request.
fn unanswered(error: &TransportError) -> Option<(RecordedResponse, String, String)> {
    let (delay_ms, what, label) = match error {
        TransportError::Timeout { after, sent: true } => {
            let ms = after.as_millis() as u64;
            (
                Some((ms * 2).max(ms + 1000)),
                format!("got no answer within {after:?}"),
                "timeout",
            )
        }
        TransportError::Broken(_) => (None, "lost its connection unanswered".into(), "reset"),
        _ => return None,
    };
    Some((
        RecordedResponse {
            status: 200,
            headers: BTreeMap::new(),
            body: None,
            body_text: None,
            fault: Some(Fault::Reset),
            delay_ms,
        },
        what,
        label.to_string(),
    ))
}

/// A recording's `source`: when (RFC 3339: `expires_after` counts from it), by what, and
/// from which instance.
pub fn recorded_source(by: &str, instance: &InstanceName, kind: &str) -> String {
    format!(
        "Recorded by `{by}` at {} from instance `{instance}` ({kind}); configured \
         secrets, credential headers, cookies, credential-named fields and personal data \
         redacted; times and credentials in the request matched by shape or {{{{any}}}}.",
        refund_provider::chrono::Utc::now()
            .to_rfc3339_opts(refund_provider::chrono::SecondsFormat::Secs, true),
    )
}

#[async_trait]
impl Transport for RecordingTransport {
    async fn send(&self, request: VendorRequest) -> Result<VendorResponse, TransportError> {
        let kept = request.clone();
        let result = self.inner.send(request).await;
        match self.write(&kept, &result) {
            Ok(Some(path)) => {
                tracing::info!(instance = %self.instance, file = %path.display(), "recorded")
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(instance = %self.instance, error = %e, "cannot write a recording")
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

/// Every `*.json` file of `dir` and of its instance folders (those holding a
/// `contract.toml`, as `record` writes them), sorted: recordings replay in the order they
/// were made.
pub fn recorded_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())) {
        if path.extension().is_some_and(|x| x == "json") && path.is_file() {
            files.push(path);
        } else if path.join(MANIFEST).is_file() {
            files.extend(
                std::fs::read_dir(&path)?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file()),
            );
        }
    }
    files.sort();
    Ok(files)
}

mod cases;
mod manifest;
mod redact;
pub use cases::CaseLog;
use redact::*;
mod redactor;
pub use redactor::Redactor;

#[cfg(test)]
mod tests;
