//! A create, made durable: claim the idempotency key, record the intent, call the vendor
//! once, record the outcome, store the answer for replays. A vendor is never called without
//! its intent row, and a create whose outcome is unknown is answered 202 with the refund in
//! status `unknown`, for the reconciler to settle.

use axum::http::StatusCode;
use refund_provider::{Outcome, ProviderError, RefundRequest, RefundStatus};
use sha2::{Digest, Sha256};

use super::answer::Answer;
use super::idempotency::{claim, lease, store, Claimed};
use super::new_refund_id;
use super::view::refund_of;
use crate::api::problem::ApiError;
use crate::api::AppState;
use crate::clients::ClientId;
use crate::instances::Instance;
use crate::storage::refunds::{Intent, Settlement};
use crate::storage::StorageError;

pub fn storage_unavailable(error: StorageError) -> ApiError {
    tracing::error!(error = %error, "ledger unavailable");
    ApiError::StorageUnavailable(format!("{error}; nothing was sent to the vendor"))
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

pub async fn create(
    state: &AppState,
    client: &ClientId,
    instance: &Instance,
    mut request: RefundRequest,
    key: Option<&str>,
    hash: &str,
) -> Result<Answer, ApiError> {
    let storage = &state.storage;
    let mut id = new_refund_id();
    if let Some(key) = key {
        match claim(state, client, key, hash, &id).await? {
            Claimed::Fresh => {}
            Claimed::Replayed(answer) => return Ok(answer),
            Claimed::TakenOver(refund_id) => {
                if let Some(answer) = take_over(state, client, key, refund_id.as_deref()).await? {
                    return Ok(answer);
                }
                // The previous holder died before recording an intent: nothing was sent.
                // Go on under the id it had claimed the key with.
                if let Some(previous) = refund_id {
                    id = previous;
                }
            }
        }
    }
    let intent = Intent {
        id: id.clone(),
        client: client.as_str().to_string(),
        provider: instance.name.to_string(),
        provider_kind: instance.kind.to_string(),
        target: request.target.clone(),
        amount: request.amount,
        reason: request.reason.clone(),
        metadata: request.metadata.clone(),
        idempotency_key: key.map(str::to_string),
        request_hash: Some(hash.to_string()),
        batch_id: None,
        in_flight_until: crate::storage::now_ms() + lease(state).as_millis() as i64,
    };
    if let Err(e) = storage.insert_intent(&intent).await {
        if let Some(key) = key {
            let _ = storage.release_key(client.as_str(), key).await;
        }
        return Err(storage_unavailable(e));
    }
    request.gateway_reference = Some(id.clone());
    let result = instance.provider.create(&request).await;
    // Whatever happened, lookups cached for this target may now be stale.
    state
        .lookups
        .invalidate_target(&instance.name, &request.target);
    let answer = record_outcome(state, &id, result).await;
    if let Some(key) = key {
        if let Err(e) = store(state, client, key, &answer).await {
            tracing::error!(error = %e, refund = %id, "could not store the answer for idempotent replays");
        }
    }
    Ok(answer)
}

/// The ledger's record of a vendor's answer to a create and, for a failure, its problem
/// (kept in the ledger, and the client's answer unless the outcome is unknown).
pub fn settlement_of(
    result: &Result<refund_provider::Refund, ProviderError>,
) -> (Settlement, Option<(StatusCode, Vec<u8>)>) {
    match result {
        Ok(refund) => (
            Settlement {
                status: refund.status,
                code: None,
                detail: None,
                refund: Some(refund.clone()),
                vendor_error: None,
                resolution_note: None,
            },
            None,
        ),
        Err(e) => {
            let problem = ApiError::CreateFailed(e.clone()).to_parts();
            let settlement = Settlement {
                status: if e.outcome == Outcome::Unknown {
                    RefundStatus::Unknown
                } else {
                    RefundStatus::Failed
                },
                code: Some(e.kind.code().to_string()),
                detail: Some(e.message.clone()),
                refund: None,
                vendor_error: serde_json::from_slice(&problem.1).ok(),
                resolution_note: None,
            };
            (settlement, Some(problem))
        }
    }
}

/// Records the vendor's answer and builds the client's.
async fn record_outcome(
    state: &AppState,
    id: &str,
    result: Result<refund_provider::Refund, ProviderError>,
) -> Answer {
    let (settlement, problem) = settlement_of(&result);
    if let Err(e) = state.storage.settle(id, &settlement).await {
        // The row keeps its lease and becomes `unknown` when it runs out: never lost.
        tracing::error!(error = %e, refund = %id, "could not record a vendor outcome");
    }
    let vendor_view = result.as_ref().ok().cloned();
    match (result, problem) {
        (Err(e), Some((status, body))) if e.outcome != Outcome::Unknown => Answer { status, body, replayed: false },
        _ => match state.storage.get_refund(id).await {
            Ok(Some(row)) => {
                let status = if row.status == RefundStatus::Unknown { StatusCode::ACCEPTED } else { StatusCode::CREATED };
                Answer {
                    status,
                    body: serde_json::to_vec(&refund_of(&row)).unwrap_or_default(),
                    replayed: false,
                }
            }
            // The ledger cannot be read back: answer with what the vendor said, under our id.
            _ => match vendor_view {
                Some(mut refund) => {
                    refund.id = refund_provider::RefundId::from_string(id.to_string());
                    refund.raw = None;
                    Answer {
                        status: StatusCode::CREATED,
                        body: serde_json::to_vec(&refund).unwrap_or_default(),
                        replayed: false,
                    }
                }
                None => Answer::of_error(&ApiError::StorageUnavailable(format!(
                    "the outcome of refund {id} is unknown and could not be read back from the ledger; look it up later"
                ))),
            },
        },
    }
}

/// A key whose holder died: if it had recorded an intent, the vendor may have been called,
/// so the refund is `unknown` (for the reconciler) and that is the answer, never a resend.
async fn take_over(
    state: &AppState,
    client: &ClientId,
    key: &str,
    refund_id: Option<&str>,
) -> Result<Option<Answer>, ApiError> {
    let Some(refund_id) = refund_id else {
        return Ok(None);
    };
    let storage = &state.storage;
    let Some(row) = storage
        .get_refund(refund_id)
        .await
        .map_err(storage_unavailable)?
    else {
        return Ok(None);
    };
    if row.status == RefundStatus::Pending {
        let interrupted = Settlement {
            status: RefundStatus::Unknown,
            code: Some("interrupted".into()),
            detail: Some("the gateway stopped before the vendor's answer was recorded".into()),
            refund: None,
            vendor_error: None,
            resolution_note: None,
        };
        storage
            .settle(refund_id, &interrupted)
            .await
            .map_err(storage_unavailable)?;
    }
    let row = storage
        .get_refund(refund_id)
        .await
        .map_err(storage_unavailable)?
        .unwrap_or(row);
    let status = if row.status == RefundStatus::Unknown {
        StatusCode::ACCEPTED
    } else {
        StatusCode::CREATED
    };
    let body = serde_json::to_vec(&refund_of(&row)).unwrap_or_default();
    let answer = Answer {
        status,
        body,
        replayed: false,
    };
    store(state, client, key, &answer)
        .await
        .map_err(storage_unavailable)?;
    Ok(Some(answer))
}
