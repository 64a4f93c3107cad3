//! Idempotency keys as creates and batches use them: claim a key (or replay its stored
//! answer, or refuse), and store the final answer.

use std::time::Duration;

use axum::http::StatusCode;

use super::answer::Answer;
use super::create::storage_unavailable;
use crate::api::problem::ApiError;
use crate::api::AppState;
use crate::clients::ClientId;
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

/// How long a claimed key may stay without its answer before its holder is taken for dead:
/// longer than any request can take.
pub fn lease(state: &AppState) -> Duration {
    state.request_timeout * 2
}

/// Claims `key` for a request whose body hashes to `hash`, on behalf of `id`.
pub async fn claim(
    state: &AppState,
    client: &ClientId,
    key: &str,
    hash: &str,
    id: &str,
) -> Result<Claimed, ApiError> {
    let claim = state
        .storage
        .claim_key(
            client.as_str(),
            key,
            hash,
            id,
            lease(state).as_millis() as i64,
        )
        .await
        .map_err(storage_unavailable)?;
    match claim {
        Claim::Fresh => Ok(Claimed::Fresh),
        Claim::Replay { status, body } => Ok(Claimed::Replayed(Answer {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body: body.into_bytes(),
            replayed: true,
        })),
        Claim::Mismatch => Err(ApiError::IdempotencyKeyReused),
        Claim::InFlight { retry_after_ms } => Err(ApiError::IdempotencyKeyInFlight(
            Duration::from_millis(retry_after_ms.max(0) as u64),
        )),
        Claim::TakenOver { refund_id } => Ok(Claimed::TakenOver(refund_id)),
    }
}

/// Stores the final answer for replays.
pub async fn store(
    state: &AppState,
    client: &ClientId,
    key: &str,
    answer: &Answer,
) -> Result<(), crate::storage::StorageError> {
    state
        .storage
        .finish_key(
            client.as_str(),
            key,
            answer.status.as_u16(),
            &String::from_utf8_lossy(&answer.body),
        )
        .await
}
