//! A webhook receiver on loopback for the webhook tests: it records every request and
//! checks its Standard Webhooks signature with an implementation of its own (HMAC-SHA256
//! by `hmac` and `sha2`, base64 by `base64`), never the gateway's. It can answer slowly,
//! answer any status, or stop listening and come back on the same port.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::task::JoinHandle;

/// A signing secret in the scheme's form and its raw key.
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub body: serde_json::Value,
    /// The signature verified against the body, id and timestamp.
    pub verified: bool,
}

#[derive(Clone)]
struct Shared {
    received: Arc<Mutex<Vec<Received>>>,
    answer: Arc<Mutex<(u16, Duration)>>,
    key: Arc<Vec<u8>>,
}

pub struct Receiver {
    pub addr: SocketAddr,
    shared: Shared,
    task: Option<JoinHandle<()>>,
}

/// The Standard Webhooks signature, computed here: `v1,` and base64(HMAC-SHA256(key,
/// "{id}.{timestamp}.{body}")), compared with each of the header's space-separated values.
fn verify(key: &[u8], headers: &HeaderMap, body: &[u8]) -> bool {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(id), Some(timestamp), Some(signatures)) = (
        get("webhook-id"),
        get("webhook-timestamp"),
        get("webhook-signature"),
    ) else {
        return false;
    };
    let Ok(sent_at) = timestamp.parse::<i64>() else {
        return false;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    if (now - sent_at).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    signatures
        .split(' ')
        .any(|s| s.strip_prefix("v1,") == Some(expected.as_str()))
}

async fn receive(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let (status, delay) = *shared.answer.lock().unwrap();
    tokio::time::sleep(delay).await;
    let verified = verify(&shared.key, &headers, &body);
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    if (200..300).contains(&status) {
        shared
            .received
            .lock()
            .unwrap()
            .push(Received { id, body, verified });
    }
    StatusCode::from_u16(status).unwrap()
}

impl Receiver {
    pub async fn start() -> Receiver {
        Self::start_on("127.0.0.1:0".parse().unwrap()).await
    }

    async fn start_on(addr: SocketAddr) -> Receiver {
        let key = base64::engine::general_purpose::STANDARD
            .decode(SECRET.strip_prefix("whsec_").unwrap())
            .unwrap();
        let shared = Shared {
            received: Default::default(),
            answer: Arc::new(Mutex::new((200, Duration::ZERO))),
            key: Arc::new(key),
        };
        let mut receiver = Receiver {
            addr,
            shared,
            task: None,
        };
        receiver.listen().await;
        receiver
    }

    async fn listen(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .expect("receiver listens");
        self.addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(self.shared.clone());
        self.task = Some(tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        }));
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Answers `status` after `delay` from now on (only 2xx requests are recorded).
    pub fn answer(&self, status: u16, delay: Duration) {
        *self.shared.answer.lock().unwrap() = (status, delay);
    }

    /// Stops listening: connections are refused until `come_back`.
    pub fn go_down(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    /// Listens again on the same port.
    pub async fn come_back(&mut self) {
        for _ in 0..50 {
            if tokio::net::TcpListener::bind(self.addr).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.listen().await;
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Waits until `done` holds for what was received, or panics after `limit`.
    pub async fn until(
        &self,
        limit: Duration,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let start = std::time::Instant::now();
        loop {
            let got = self.received();
            if done(&got) {
                return got;
            }
            assert!(
                start.elapsed() < limit,
                "the receiver did not get what was expected in {limit:?}: {:#?}",
                got.iter()
                    .map(|r| (&r.id, &r.body["type"]))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Every received event's signature verified, and per refund, events in the order their
/// ids were given (each id may repeat: at least once), with no event missing between.
pub fn assert_signed_and_in_order(received: &[Received]) {
    assert!(
        received.iter().all(|r| r.verified),
        "every signature verifies: {:?}",
        received
            .iter()
            .filter(|r| !r.verified)
            .map(|r| &r.id)
            .collect::<Vec<_>>()
    );
    let mut seen: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for r in received {
        assert_eq!(
            r.body["id"].as_str(),
            Some(r.id.as_str()),
            "webhook-id is the event id"
        );
        if let Some(refund) = r.body["refund_id"].as_str() {
            let types = seen.entry(refund.to_string()).or_default();
            if types.last() != Some(&r.id) {
                types.push(r.id.clone());
            }
        }
    }
    for (refund, ids) in &seen {
        let mut unique = ids.clone();
        unique.dedup();
        let mut sorted = unique.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(unique, sorted, "refund {refund}: events in order");
    }
}
