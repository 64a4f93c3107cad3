//! The replay vendor: serves recorded fixtures on loopback so the real gateway can be
//! driven against a vendor's recorded answers. Each request must match one of the fixtures
//! (method, path, query, the headers that matter, body); one that does not is answered
//! 599 with a JSON body ranking the closest fixtures (fewest differing fields first, each
//! with its field-by-field diff; `matcher::near_misses`), logged, and remembered, and
//! `assert_clean` fails the test with it. The request log is also the vendor-side evidence
//! for rate and exactly-once tests; `/__replay/` is the server's admin API (`admin.rs`).

mod admin;
pub use admin::secret_name;
mod matcher;
mod near_miss;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use refund_provider::fixture::{Exchange, Fault, HeaderMatch, STARTED};
use refund_provider::{SandboxRequest, VendorResponse};

use crate::loopback::{Handler, LoopbackServer};

pub use matcher::{diff_request, field_diffs, near_misses, FieldDiff, NearMiss, ReceivedRequest};

/// The replay server's own routes (`admin.rs`): no fixture path may start with it.
pub const ADMIN_PREFIX: &str = "/__replay/";

/// How fixtures are consumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    /// Each fixture answers once (tests: every expected call happens exactly once). A request
    /// is answered by the first fixture, in load order, that matches it and has not answered
    /// yet, so several fixtures for the same request are a scenario: they answer one after the
    /// other (a refund list empty, then holding the refund just made), and a further request
    /// gets 599. `POST /__replay/reset` re-arms them (`replay --once` on the command line).
    Once,
    /// Fixtures answer any number of times (the `replay` command for exploratory use).
    Always,
}

struct State {
    /// The run's header matching, for fixtures that name none.
    headers: HeaderMatch,
    fixtures: Vec<(String, Exchange, bool)>,
    /// The state of each entity fixtures name (`Exchange::state`); absent: `started`.
    entities: std::collections::BTreeMap<String, String>,
    received: Vec<ReceivedRequest>,
    mismatches: Vec<String>,
}

pub struct ReplayServer {
    server: LoopbackServer,
    state: Arc<Mutex<State>>,
}

impl ReplayServer {
    /// Loads fixture files (paths as given, e.g. `fixtures/ticketmatic/create.json`).
    pub fn load(paths: &[impl AsRef<Path>]) -> std::io::Result<Vec<(String, Exchange)>> {
        paths
            .iter()
            .map(|p| {
                let p = p.as_ref();
                let text = std::fs::read_to_string(p)?;
                let exchange: Exchange = serde_json::from_str(&text).map_err(|e| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("fixture {} is malformed: {e}", p.display()),
                    )
                })?;
                let name = p.display().to_string();
                let now = refund_provider::chrono::Utc::now();
                if let Some(warning) = crate::fixtures::expiry::warning(&name, &exchange, now) {
                    tracing::warn!(target: "replay", "{warning}");
                }
                Ok((name, exchange))
            })
            .collect()
    }

    pub async fn start(
        addr: SocketAddr,
        fixtures: Vec<(String, Exchange)>,
        reuse: Reuse,
    ) -> std::io::Result<Self> {
        Self::start_with_headers(addr, fixtures, reuse, HeaderMatch::Loose).await
    }

    /// `start`, matching headers in `headers` mode wherever a fixture names no mode of its
    /// own (`ExpectedRequest::header_match`), fixtures loaded at run time included.
    pub async fn start_with_headers(
        addr: SocketAddr,
        fixtures: Vec<(String, Exchange)>,
        reuse: Reuse,
        headers: HeaderMatch,
    ) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(State {
            headers,
            fixtures: fixtures
                .into_iter()
                .map(|(n, e)| (n, with_header_mode(e, headers), false))
                .collect(),
            entities: Default::default(),
            received: Vec::new(),
            mismatches: Vec::new(),
        }));
        let handler_state = state.clone();
        let handler: Handler = Arc::new(move |request| {
            let state = handler_state.clone();
            Box::pin(async move { respond(&state, request, reuse).await })
        });
        let server = LoopbackServer::start(addr, handler).await?;
        Ok(ReplayServer { server, state })
    }

    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// Every request received, in order.
    pub fn received(&self) -> Vec<ReceivedRequest> {
        self.lock().received.clone()
    }

    /// Requests that matched no fixture, each with its diff.
    pub fn mismatches(&self) -> Vec<String> {
        self.lock().mismatches.clone()
    }

    /// Fixtures that were never requested.
    pub fn unused(&self) -> Vec<String> {
        self.lock()
            .fixtures
            .iter()
            .filter(|(_, _, used)| !used)
            .map(|(name, _, _)| name.clone())
            .collect()
    }

    /// Panics with every mismatch's diff and every unused fixture.
    pub fn assert_clean(&self) {
        let mismatches = self.mismatches();
        let unused = self.unused();
        if !mismatches.is_empty() || !unused.is_empty() {
            panic!(
                "replay vendor was not used as recorded:\n{}{}",
                mismatches.join("\n"),
                if unused.is_empty() {
                    String::new()
                } else {
                    format!("\nfixtures never requested: {}", unused.join(", "))
                }
            );
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The fixture with the run's header mode, unless it names its own.
fn with_header_mode(mut exchange: Exchange, headers: HeaderMatch) -> Exchange {
    exchange.request.header_match.get_or_insert(headers);
    exchange
}

async fn respond(
    state: &Mutex<State>,
    request: SandboxRequest,
    reuse: Reuse,
) -> Option<VendorResponse> {
    if let Some(route) = request.path.strip_prefix(ADMIN_PREFIX) {
        return Some(admin::answer(state, &request, route));
    }
    let received = ReceivedRequest::from(&request);
    let chosen = {
        let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
        state.received.push(received.clone());
        let entities = &state.entities;
        let entity = |s: &refund_provider::fixture::EntityState| {
            s.entity_for(&received.path, &received.query, &received.body)
        };
        let allowed = |exchange: &Exchange| {
            exchange
                .state
                .as_ref()
                .is_none_or(|s| s.allows(entities.get(&entity(s)).map(String::as_str)))
        };
        let found = state.fixtures.iter().position(|(_, exchange, used)| {
            (reuse == Reuse::Always || !used)
                && allowed(exchange)
                && matcher::matches(&exchange.request, &received)
        });
        match found {
            Some(i) => {
                state.fixtures[i].2 = true;
                if let Some(s) = state.fixtures[i].1.state.clone() {
                    if let Some(next) = s.becomes.clone() {
                        let entity = s.entity_for(&received.path, &received.query, &received.body);
                        state.entities.insert(entity, next);
                    }
                }
                Ok(state.fixtures[i].1.response.clone())
            }
            None => {
                let near = matcher::near_misses(
                    &received,
                    state
                        .fixtures
                        .iter()
                        .map(|(n, e, _)| (n.as_str(), &e.request)),
                );
                // Fixtures the request matches but whose entity is in another state.
                let waiting: Vec<String> = state
                    .fixtures
                    .iter()
                    .filter(|(_, e, used)| {
                        (reuse == Reuse::Always || !used)
                            && !allowed(e)
                            && matcher::matches(&e.request, &received)
                    })
                    .filter_map(|(name, e, _)| {
                        let s = e.state.as_ref()?;
                        let entity = entity(s);
                        Some(format!(
                            "{name}: entity `{entity}` is `{}`, the fixture requires `{}`",
                            entities.get(&entity).map_or(STARTED, String::as_str),
                            s.requires.as_deref().unwrap_or_default()
                        ))
                    })
                    .collect();
                let mut report = matcher::explain_mismatch(&received, &near);
                let mut body = matcher::mismatch_body(&received, &near);
                if !waiting.is_empty() {
                    report.push_str(&format!(
                        "\nmatching fixtures waiting for another state: {}",
                        waiting.join("; ")
                    ));
                    body["waiting_for_state"] = serde_json::json!(waiting);
                }
                tracing::warn!(target: "replay", "{report}");
                state.mismatches.push(report);
                Err(body)
            }
        }
    };
    match chosen {
        Ok(recorded) => {
            if let Some(ms) = recorded.delay_ms {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            if recorded.fault == Some(Fault::Reset) {
                return None;
            }
            Some(matcher::recorded_response(&recorded))
        }
        Err(body) => {
            let mut headers = http::HeaderMap::new();
            headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            Some(VendorResponse {
                status: 599,
                headers,
                body: Bytes::from(body.to_string()),
            })
        }
    }
}
