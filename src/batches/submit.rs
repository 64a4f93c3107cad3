//! Accepting a batch: every item is checked as a create would be (and against the other
//! items: no target twice), the batch is refused whole naming every item at fault, or
//! stored whole with its items queued.

use std::collections::HashMap;

use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::report::report;
use crate::api::body::{pointer_of, strip_position};
use crate::api::problem::{ApiError, FieldError};
use crate::api::refund_input::CreateRefundBody;
use crate::api::AppState;
use crate::clients::ClientId;
use crate::ledger::answer::Answer;
use crate::ledger::create::storage_unavailable;
use crate::ledger::idempotency::{claim, store, Claimed};
use crate::storage::batches::NewItem;

/// How many item errors one answer lists at most.
const MAX_REPORTED_ERRORS: usize = 100;

/// `POST /v1/refund-batches` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBatchBody {
    /// Canonical create bodies (as for `POST /v1/refunds`), across provider instances; or a
    /// single vendor-native event-wide item (`target.event` + `all_for_event`) where the
    /// provider advertises `bulk`.
    #[schema(value_type = Vec<CreateRefundBody>)]
    pub items: Vec<serde_json::Value>,
}

/// A batch id: time-ordered, prefixed.
pub fn new_batch_id() -> String {
    format!("rb_{}", ulid::Ulid::new().to_string().to_ascii_lowercase())
}

/// Re-roots an error of one item's body under `/items/<index>`.
fn item_error(index: usize, error: ApiError) -> FieldError {
    let at = |pointer: Option<String>| format!("/items/{index}{}", pointer.unwrap_or_default());
    match error {
        ApiError::Validation {
            message, pointer, ..
        } => FieldError {
            pointer: at(pointer),
            code: "validation_failed".into(),
            detail: message,
        },
        ApiError::Provider(e) => FieldError {
            pointer: at(e.pointer.clone()),
            code: e.kind.code().into(),
            detail: e.message,
        },
        ApiError::UnknownProvider { name, .. } => FieldError {
            pointer: at(Some("/provider".into())),
            code: "unknown_provider".into(),
            detail: format!("no provider instance is named `{name}`"),
        },
        other => FieldError {
            pointer: at(None),
            code: "validation_failed".into(),
            detail: other.to_string(),
        },
    }
}

/// Checks every item; returns the items to store, or every error found.
fn validate(
    state: &AppState,
    items: &[serde_json::Value],
    max_items: usize,
) -> Result<Vec<NewItem>, ApiError> {
    if items.is_empty() || items.len() > max_items {
        return Err(ApiError::field(
            "/items",
            format!(
                "a batch holds 1 to {max_items} items; this one has {}",
                items.len()
            ),
        ));
    }
    let mut errors = Vec::new();
    let mut accepted = Vec::new();
    let mut targets: HashMap<String, usize> = HashMap::new();
    for (index, item) in items.iter().enumerate() {
        let checked = serde_path_to_error::deserialize::<_, CreateRefundBody>(item)
            .map_err(|e| {
                let message = e.inner().to_string();
                ApiError::field(pointer_of(e.path(), &message), strip_position(&message))
            })
            .and_then(|body| {
                let instance =
                    crate::api::refunds::instance(state, &body.provider, Some("/provider"), None)?;
                if !instance.provider.capabilities().create {
                    return Err(ApiError::Provider(
                        refund_provider::ProviderError::unsupported(format!(
                            "`{}` cannot create refunds",
                            instance.name
                        ))
                        .at("/provider"),
                    ));
                }
                let provider = instance.name.to_string();
                let request = body.into_request(instance.provider.capabilities())?;
                Ok((provider, request))
            });
        match checked {
            Ok((provider, request)) => {
                let key = format!(
                    "{provider}\u{0}{}",
                    serde_json::to_string(&request.target).unwrap_or_default()
                );
                if let Some(first) = targets.insert(key, index) {
                    errors.push(FieldError {
                        pointer: format!("/items/{index}/target"),
                        code: "duplicate_target".into(),
                        detail: format!("the same provider and target as /items/{first}: one refund per target per batch"),
                    });
                }
                accepted.push(NewItem {
                    provider,
                    body: item.to_string(),
                });
            }
            Err(e) => errors.push(item_error(index, e)),
        }
        if errors.len() >= MAX_REPORTED_ERRORS {
            break;
        }
    }
    if errors.is_empty() {
        Ok(accepted)
    } else {
        Err(ApiError::InvalidItems(errors))
    }
}

pub async fn submit(
    state: &AppState,
    client: &ClientId,
    body: &CreateBatchBody,
    key: Option<&str>,
    hash: &str,
) -> Result<Answer, ApiError> {
    let items = validate(state, &body.items, state.batches.max_items)?;
    let storage = &state.storage;
    let mut id = new_batch_id();
    if let Some(key) = key {
        match claim(state, client, key, hash, &id).await? {
            Claimed::Fresh => {}
            Claimed::Replayed(answer) => return Ok(answer),
            Claimed::TakenOver(previous) => {
                // The previous holder died; the batch is stored whole or not at all.
                if let Some(previous) = previous {
                    if storage
                        .get_batch(&previous)
                        .await
                        .map_err(storage_unavailable)?
                        .is_some()
                    {
                        return answer(state, client, &previous, key).await;
                    }
                    id = previous;
                }
            }
        }
    }
    if let Err(e) = storage
        .insert_batch(&id, client.as_str(), key, &items)
        .await
    {
        if let Some(key) = key {
            let _ = storage.release_key(client.as_str(), key).await;
        }
        return Err(storage_unavailable(e));
    }
    state.batch_work.notify_one();
    match key {
        Some(key) => answer(state, client, &id, key).await,
        None => current(state, &id).await,
    }
}

/// The batch's report as a 202, stored for replays.
async fn answer(
    state: &AppState,
    client: &ClientId,
    id: &str,
    key: &str,
) -> Result<Answer, ApiError> {
    let answer = current(state, id).await?;
    store(state, client, key, &answer)
        .await
        .map_err(storage_unavailable)?;
    Ok(answer)
}

async fn current(state: &AppState, id: &str) -> Result<Answer, ApiError> {
    let storage = &state.storage;
    let batch = storage
        .get_batch(id)
        .await
        .map_err(storage_unavailable)?
        .ok_or_else(|| ApiError::NotFound(format!("no batch `{id}`")))?;
    let items = storage.batch_items(id).await.map_err(storage_unavailable)?;
    Ok(Answer {
        status: StatusCode::ACCEPTED,
        body: serde_json::to_vec(&report(&batch, &items)).unwrap_or_default(),
        replayed: false,
    })
}
