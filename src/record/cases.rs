//! Recorded cases (`refund_provider::contract::recorded`): while recording, which canonical
//! call caused which vendor exchanges, and what the gateway answered, so the shared
//! contract suite can replay the user's recordings and require the same answers.
//!
//! A layer around the HTTP router takes canonical refund calls (create, lookup by vendor
//! id or by target, quote) one at a time: while one is served, the recording transports
//! note the fixtures they write for its instance; when its answer is complete, the case
//! (`<out>/<instance>/cases/NNN-<phase>.json`) names them in order beside the canonical
//! request and the answer. Taking calls one at a time is what makes the link exact; a
//! recording session is a walk-through, not load. Exchanges the gateway makes on its own
//! (a reconciler's lookup) while a call of the same instance is served would be counted
//! with it; run `record` with a long `[reconcile] interval`.
//!
//! The answer is kept as the suite will see it from the redacted fixtures: values that
//! differ per run (the ledger's ids, times) and fields named like credentials or personal
//! data become `{{any}}`, configured secrets are removed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::{to_bytes, Body, HttpBody as _};
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use refund_provider::contract::recorded::{RecordedAnswer, RecordedCase};
use refund_provider::contract::CanonicalRequest;
use refund_provider::RefundId;
use serde_json::Value;

use super::Redactor;

/// The canonical calls being recorded, shared by the router layer and every instance's
/// recording transport.
#[derive(Default)]
pub struct CaseLog {
    /// One canonical call at a time.
    turn: tokio::sync::Mutex<()>,
    /// The call being served: its instance and the fixtures written for it so far.
    current: Mutex<Option<(String, Vec<String>)>>,
    /// Each recorded instance's folder and redactor.
    instances: Mutex<BTreeMap<String, (PathBuf, Arc<Redactor>)>>,
}

impl std::fmt::Debug for CaseLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaseLog")
            .field(
                "instances",
                &lock(&self.instances).keys().collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl CaseLog {
    /// An instance whose calls are recorded into `folder`.
    pub(super) fn register(&self, instance: &str, folder: PathBuf, redactor: Arc<Redactor>) {
        lock(&self.instances).insert(instance.to_string(), (folder, redactor));
    }

    /// A fixture `name` (without `.json`) was written for `instance`.
    pub(super) fn note(&self, instance: &str, name: &str) {
        if let Some((serving, fixtures)) = lock(&self.current).as_mut() {
            if serving == instance {
                fixtures.push(name.to_string());
            }
        }
    }

    /// Writes the case of a served call, if it caused vendor exchanges and has a JSON
    /// answer.
    fn write(
        &self,
        instance: &str,
        request: CanonicalRequest,
        fixtures: Vec<String>,
        status: u16,
        answer: &[u8],
    ) -> std::io::Result<Option<PathBuf>> {
        let Some((folder, redactor)) = lock(&self.instances).get(instance).cloned() else {
            return Ok(None);
        };
        let Ok(body) = serde_json::from_slice::<Value>(answer) else {
            return Ok(None);
        };
        if fixtures.is_empty() {
            return Ok(None);
        }
        let dir = folder.join("cases");
        std::fs::create_dir_all(&dir)?;
        let number = std::fs::read_dir(&dir)?.count() + 1;
        let phase = request.phase().name();
        let case = RecordedCase {
            description: format!(
                "{phase} answered {status}; recorded by `refund-gateway record` at {}",
                refund_provider::chrono::Utc::now()
                    .to_rfc3339_opts(refund_provider::chrono::SecondsFormat::Secs, true)
            ),
            request,
            fixtures,
            answer: RecordedAnswer {
                status,
                body: redactor.answer(body),
            },
        };
        let text = serde_json::to_string_pretty(&case).map_err(std::io::Error::other)?;
        let path = dir.join(format!("{number:03}-{phase}.json"));
        std::fs::write(&path, redactor.clean(&text) + "\n")?;
        Ok(Some(path))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The largest canonical request or answer recorded as a case (bytes).
const MAX_RECORDED: u64 = 8 << 20;

/// `router`, recording each canonical call it serves as a case of `log`.
pub fn layer(router: axum::Router, log: Arc<CaseLog>) -> axum::Router {
    router.layer(axum::middleware::from_fn_with_state(log, record_case))
}

async fn record_case(State(log): State<Arc<CaseLog>>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let call = matches!(
        (&parts.method, parts.uri.path()),
        (&Method::POST, "/v1/refunds" | "/v1/refund-quotes") | (&Method::GET, _)
    );
    // A body of unknown or excessive length goes through unrecorded (this layer sits
    // outside the router's own body limit, so it must not buffer without one).
    let small = |hint: hyper::body::SizeHint| hint.upper().is_some_and(|n| n <= MAX_RECORDED);
    if !call || !parts.uri.path().starts_with("/v1/refund") || !small(body.size_hint()) {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let bytes = to_bytes(body, MAX_RECORDED as usize)
        .await
        .unwrap_or_default();
    let Some((instance, canonical)) =
        canonical(&parts.method, parts.uri.path(), parts.uri.query(), &bytes)
    else {
        return next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
    };
    // The answer is read below as JSON: not compressed (the router compresses large
    // answers for clients that accept it).
    let mut parts = parts;
    parts.headers.remove(axum::http::header::ACCEPT_ENCODING);
    let _turn = log.turn.lock().await;
    *lock(&log.current) = Some((instance.clone(), Vec::new()));
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let fixtures = lock(&log.current)
        .take()
        .map(|(_, fixtures)| fixtures)
        .unwrap_or_default();
    if !small(response.body().size_hint()) {
        tracing::warn!(%instance, "an answer too large to record as a case");
        return response;
    }
    let (parts, body) = response.into_parts();
    let answer = to_bytes(body, MAX_RECORDED as usize)
        .await
        .unwrap_or_default();
    match log.write(
        &instance,
        canonical,
        fixtures,
        parts.status.as_u16(),
        &answer,
    ) {
        Ok(Some(path)) => tracing::info!(%instance, file = %path.display(), "recorded a case"),
        Ok(None) => {}
        Err(e) => tracing::error!(%instance, error = %e, "cannot write a recorded case"),
    }
    Response::from_parts(parts, Body::from(answer))
}

/// The instance and canonical request of a call the suite can replay: a create, a quote,
/// a lookup by target, or a lookup by a vendor id (a ledger id needs this run's ledger).
fn canonical(
    method: &Method,
    path: &str,
    query: Option<&str>,
    body: &[u8],
) -> Option<(String, CanonicalRequest)> {
    let without_provider = |body: &[u8]| {
        let mut value: Value = serde_json::from_slice(body).ok()?;
        let provider = value.as_object_mut()?.remove("provider")?;
        Some((provider.as_str()?.to_string(), value))
    };
    match (method, path) {
        (&Method::POST, "/v1/refunds") => {
            let (instance, body) = without_provider(body)?;
            Some((instance, CanonicalRequest::Create(body)))
        }
        (&Method::POST, "/v1/refund-quotes") => {
            let (instance, body) = without_provider(body)?;
            Some((instance, CanonicalRequest::Quote(body)))
        }
        (&Method::GET, "/v1/refunds") => {
            let mut params: BTreeMap<String, String> =
                url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                    .into_owned()
                    .collect();
            let instance = params.remove("provider")?;
            Some((instance, CanonicalRequest::List(params)))
        }
        (&Method::GET, _) => {
            let id = path.strip_prefix("/v1/refunds/")?;
            let id: RefundId = serde_json::from_value(Value::String(id.to_string())).ok()?;
            let (instance, vendor_ref) = id.decode_vendor()?;
            Some((
                instance.as_str().to_string(),
                CanonicalRequest::Get(vendor_ref.as_str().to_string()),
            ))
        }
        _ => None,
    }
}
