//! Idempotency keys at the API (draft-ietf-httpapi-idempotency-key-header, Stripe's
//! semantics): a create or batch claims its key (scoped to the client) before it runs, and
//! its final rendered answer is stored and replayed to every later request with the same
//! key and body. A key whose holder died is taken over.

use std::time::Duration;

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};

use super::answer::Answer;
use super::problem::ApiError;
use crate::service::{Client, Refunds};
use crate::storage::idempotency::Claim;

/// What a request may do with its key.
pub enum Claimed {
    /// The key is new: go on.
    Fresh,
    /// The key's first request finished: send this again.
    Replayed(Answer),
    /// The key's holder died; the request owns the key now. The id the holder had claimed
    /// the key with, if any, tells what it may have done.
    TakenOver(Option<String>),
}

/// The `Idempotency-Key` header, checked.
pub fn key(headers: &HeaderMap, required: bool) -> Result<Option<String>, ApiError> {
    match headers.get("idempotency-key") {
        None if required => Err(ApiError::IdempotencyKeyMissing),
        None => Ok(None),
        Some(value) => {
            let key = value
                .to_str()
                .map_err(|_| ApiError::IdempotencyKeyInvalid)?;
            let ok = (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic());
            ok.then(|| Some(key.to_string()))
                .ok_or(ApiError::IdempotencyKeyInvalid)
        }
    }
}

/// SHA-256 of the request body in canonical form (keys sorted), so a retry with the same
/// content in another key order is still the same request.
pub fn request_hash(body: &serde_json::Value) -> String {
    fn canonical(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(map) => {
                let sorted: std::collections::BTreeMap<_, _> =
                    map.iter().map(|(k, v)| (k.clone(), canonical(v))).collect();
                serde_json::Value::Object(sorted.into_iter().collect())
            }
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(canonical).collect())
            }
            other => other.clone(),
        }
    }
    hex::encode(Sha256::digest(canonical(body).to_string().as_bytes()))
}

/// Claims `key` for a request whose body hashes to `hash`, on behalf of `id`.
pub async fn claim(
    service: &Refunds,
    client: &Client,
    key: &str,
    hash: &str,
    id: &str,
) -> Result<Claimed, ApiError> {
    let claim = service
        .storage
        .claim_key(
            client.name(),
            key,
            hash,
            id,
            service.lease().as_millis() as i64,
            &service.gateway_id,
        )
        .await
        .map_err(|e| ApiError::from(crate::service::ServiceError::from(e)))?;
    match claim {
        Claim::Fresh => Ok(Claimed::Fresh),
        Claim::Replay { status, body } => Ok(Claimed::Replayed(Answer {
            status: super::problem::stored(status),
            body: body.into_bytes(),
            replayed: true,
        })),
        Claim::Mismatch => {
            conflict_metric("reused");
            Err(ApiError::IdempotencyKeyReused)
        }
        Claim::InFlight { retry_after_ms } => {
            conflict_metric("in_flight");
            Err(ApiError::IdempotencyKeyInFlight(Duration::from_millis(
                retry_after_ms.max(0) as u64,
            )))
        }
        Claim::TakenOver { refund_id } => Ok(Claimed::TakenOver(refund_id)),
    }
}

/// `refund_gateway_idempotency_conflicts_total`: a key reused with another body
/// (`reused`, 422) or while its first request still runs (`in_flight`, 409).
fn conflict_metric(kind: &'static str) {
    metrics::counter!("refund_gateway_idempotency_conflicts_total", "kind" => kind).increment(1);
}

/// Stores the final answer for replays. A failure is logged: the answer still goes out,
/// and a retry of the key then finds it in flight until its lease ends.
pub async fn store(service: &Refunds, client: &Client, key: &str, answer: &Answer) {
    let stored = service
        .storage
        .finish_key(
            client.name(),
            key,
            answer.status.as_u16(),
            &String::from_utf8_lossy(&answer.body),
        )
        .await;
    if let Err(e) = stored {
        tracing::error!(error = %e, "could not store the answer for idempotent replays");
    }
}

/// Gives a key back when the request failed before anything reached a vendor, so the
/// client may retry it.
pub async fn release(service: &Refunds, client: &Client, key: &str) {
    if let Err(e) = service.storage.release_key(client.name(), key).await {
        tracing::warn!(error = %e, "could not release an idempotency key");
    }
}
