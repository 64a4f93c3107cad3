//! The one in-process `Transport` that answers a provider from recorded fixtures
//! (`fixtures/<vendor>/*.json`, format in `fixture.rs`), for the vendor crates' own tests.
//! Each request must match a fixture not used yet, by the rules of the gateway's replay
//! vendor (`fixture_match`): method, path, every listed query parameter and no
//! other, the headers that matter, and the JSON body (`{{any}}` matches anything, numbers
//! by value). It is answered with that fixture's recorded response; a request that matches
//! none fails the test with the differences from every unused fixture.
//!
//! The matching itself is the replay vendor's (`fixture_match`, one matcher for both), header
//! patterns included. Unlike the replay vendor nothing sleeps: a recorded `delay_ms` of at
//! least the `with_timeout` limit becomes `TransportError::Timeout { sent: true }`, as the
//! gateway's transport would report it, and a shorter one is answered at once.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method};
use serde_json::Value;

use crate::fixture::{Exchange, ExpectedRequest, Fault};
use crate::transport::{Transport, TransportError, VendorRequest, VendorResponse};

/// A request the transport was sent, relative to its base URL.
#[derive(Debug, Clone)]
pub struct SentRequest {
    pub method: Method,
    /// Path relative to the base URL (e.g. `/demo/orders/1269434/refunds`).
    pub path: String,
    /// Decoded query parameters.
    pub query: BTreeMap<String, String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl SentRequest {
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

struct State {
    /// Name, exchange, and whether it has answered.
    fixtures: Vec<(String, Exchange, bool)>,
    sent: Vec<SentRequest>,
}

pub struct FixtureTransport {
    base: String,
    timeout: Option<Duration>,
    state: Mutex<State>,
}

impl FixtureTransport {
    /// `base` is the base URL the provider was built with (fixture paths are relative to
    /// it); each fixture answers once.
    pub fn new(base: &str, fixtures: Vec<(String, Exchange)>) -> Self {
        FixtureTransport {
            base: base.trim_end_matches('/').to_string(),
            timeout: None,
            state: Mutex::new(State {
                fixtures: fixtures.into_iter().map(|(n, e)| (n, e, false)).collect(),
                sent: Vec::new(),
            }),
        }
    }

    /// `<dir>/<name>.json` for each of `names` (e.g. `dir` = the crate's
    /// `../../fixtures/<vendor>`); panics with the path on a missing or malformed file.
    pub fn load(base: &str, dir: impl AsRef<Path>, names: &[&str]) -> Self {
        let dir = dir.as_ref();
        let fixtures = names
            .iter()
            .map(|name| {
                let path = dir.join(format!("{name}.json"));
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("fixture {} cannot be read: {e}", path.display()));
                (name.to_string(), Exchange::parse(name, &text))
            })
            .collect();
        Self::new(base, fixtures)
    }

    /// Fixtures compiled into the test (`(name, include_str!(..))` pairs).
    pub fn from_texts(base: &str, texts: &[(&str, &str)]) -> Self {
        let fixtures = texts
            .iter()
            .map(|(name, text)| (name.to_string(), Exchange::parse(name, text)))
            .collect();
        Self::new(base, fixtures)
    }

    /// A recorded answer delayed by at least `limit` is a timeout after sending.
    pub fn with_timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// Every request sent so far, in order.
    pub fn sent(&self) -> Vec<SentRequest> {
        self.lock().sent.clone()
    }

    /// The paths of every request sent so far, in order.
    pub fn paths(&self) -> Vec<String> {
        self.lock().sent.iter().map(|r| r.path.clone()).collect()
    }

    /// How many requests with `method` were sent.
    pub fn sent_with(&self, method: &Method) -> usize {
        self.lock()
            .sent
            .iter()
            .filter(|r| r.method == method)
            .count()
    }

    /// The names of the fixtures that have not answered.
    pub fn unused(&self) -> Vec<String> {
        self.lock()
            .fixtures
            .iter()
            .filter(|(_, _, used)| !used)
            .map(|(name, _, _)| name.clone())
            .collect()
    }

    /// Panics unless every fixture answered exactly once.
    pub fn assert_all_used(&self) {
        let unused = self.unused();
        assert!(unused.is_empty(), "fixtures never requested: {unused:?}");
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn relative(&self, url: &str) -> (String, BTreeMap<String, String>) {
        let rest = url.strip_prefix(&self.base).unwrap_or_else(|| {
            panic!(
                "request to {url} is not under the fixtures' base URL {}",
                self.base
            )
        });
        match rest.split_once('?') {
            Some((path, query)) => (path.to_string(), decode_query(query)),
            None => (rest.to_string(), BTreeMap::new()),
        }
    }
}

#[async_trait::async_trait]
impl Transport for FixtureTransport {
    async fn send(&self, request: VendorRequest) -> Result<VendorResponse, TransportError> {
        let (path, query) = self.relative(&request.url);
        let sent = SentRequest {
            method: request.method.clone(),
            path,
            query,
            headers: request.headers.clone(),
            body: request.body.clone().unwrap_or_default(),
        };
        let (name, recorded) = {
            let mut state = self.lock();
            state.sent.push(sent.clone());
            let found = state
                .fixtures
                .iter()
                .position(|(_, e, used)| !used && diff(&e.request, &sent).is_empty());
            match found {
                Some(i) => {
                    state.fixtures[i].2 = true;
                    (
                        state.fixtures[i].0.clone(),
                        state.fixtures[i].1.response.clone(),
                    )
                }
                None => panic!("{}", explain_mismatch(&sent, &state.fixtures)),
            }
        };
        if let (Some(limit), Some(ms)) = (self.timeout, recorded.delay_ms) {
            if Duration::from_millis(ms) >= limit {
                return Err(TransportError::Timeout {
                    after: limit,
                    sent: true,
                });
            }
        }
        if recorded.fault == Some(Fault::Reset) {
            return Err(TransportError::Broken(format!(
                "connection reset by peer (fixture {name})"
            )));
        }
        Ok(recorded_response(&recorded))
    }
}

pub use crate::fixture_match::recorded_response;

/// Every way `sent` differs from `expected`, one line each; empty when it matches
/// (`fixture_match::diff_request`, the replay vendor's rules).
fn diff(expected: &ExpectedRequest, sent: &SentRequest) -> Vec<String> {
    let headers = crate::fixture_match::header_texts(&sent.headers);
    crate::fixture_match::diff_request(
        expected,
        &crate::fixture_match::RequestParts {
            method: sent.method.as_str(),
            path: &sent.path,
            query: &sent.query,
            headers: &headers,
            body: &sent.body,
        },
    )
}

fn explain_mismatch(sent: &SentRequest, fixtures: &[(String, Exchange, bool)]) -> String {
    let mut report = format!(
        "request {} {} matched no unused fixture",
        sent.method, sent.path
    );
    for (name, exchange, used) in fixtures {
        if *used {
            continue;
        }
        report.push_str(&format!("\n  against {name}:"));
        for line in diff(&exchange.request, sent) {
            report.push_str(&format!("\n    {line}"));
        }
    }
    if fixtures.iter().all(|(_, _, used)| *used) {
        report.push_str(" (every fixture has answered already)");
    }
    report
}

/// `application/x-www-form-urlencoded` pairs, decoded (`+` is a space, `%XX` a byte).
fn decode_query(query: &str) -> BTreeMap<String, String> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| Some(hex(bytes[i + 1])? * 16 + hex(bytes[i + 2])?))
            .flatten();
        match (bytes[i], escaped) {
            (_, Some(byte)) => {
                out.push(byte as u8);
                i += 2;
            }
            (b'+', None) => out.push(b' '),
            (b, None) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests;
