//! The bulk refund endpoints: parse the batch and its items, claim the idempotency key,
//! hand the batch to the service, render its report.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Extension, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::answer::Answer;
use super::batch_upload::{self, Format};
use super::body::{pointer_of, read_json, strip_position};
use super::idempotency::{self, Claimed};
use super::path_id::PathId;
use super::problem::{self, ApiError, Problem};
use super::query::Params;
use super::refund_input::CreateRefundBody;
use super::{AppState, Caller};
use crate::service::batches::new_batch_id;
use crate::service::create::NewRefund;
use crate::service::error::{FaultKind, FieldFault};
use crate::service::report::{BatchReport, ItemReport};
use crate::service::ServiceError;

/// Bytes allowed per batch item on top of the server's body limit.
const BYTES_PER_ITEM: usize = 1024;
/// Items a JSON body (read whole, unlike CSV and NDJSON) may hold.
const JSON_MAX_ITEMS: usize = 10_000;

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

/// One item parsed as a create body would be, its faults rooted under `/items/<index>`.
pub(super) fn parse_item(index: usize, item: &serde_json::Value) -> Result<NewRefund, FieldFault> {
    let fault = |error: ApiError| {
        let (pointer, detail) = match error {
            ApiError::Validation {
                message, pointer, ..
            } => (pointer.unwrap_or_default(), message),
            other => (String::new(), other.to_string()),
        };
        FieldFault {
            pointer: format!("/items/{index}{pointer}"),
            kind: FaultKind::Invalid,
            detail,
            ..Default::default()
        }
    };
    serde_path_to_error::deserialize::<_, CreateRefundBody>(item)
        .map_err(|e| {
            let message = e.inner().to_string();
            fault(ApiError::field(
                pointer_of(e.path(), &message),
                strip_position(&message),
            ))
        })?
        .into_new()
        .map_err(fault)
}

#[utoipa::path(post, path = "/v1/refund-batches", tag = "batches", operation_id = "createRefundBatch", summary = "Create a refund batch",
    request_body(description = "A JSON body (up to 10,000 items, read whole); or, streamed item by item, a CSV file whose header names canonical fields (`provider`, `order`, `payment`, `ticket`, `venue`, `booking`, `event`, `amount`, `currency`, `reason`, `metadata.<key>`; `|` separates several payments or tickets) or NDJSON (one create body per line), up to `batches.max_items` (100,000)",
        content(
            (CreateBatchBody = "application/json"),
            (String = "text/csv"),
            (String = "application/x-ndjson"),
        )),
    params(("Idempotency-Key" = String, Header, description = "Unique per batch")),
    responses(
        (status = 202, body = BatchReport, description = "Stored; items are worked in the background"),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "The body is not JSON, or broke off in transit"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "An item names a provider instance this client may not use"),
        (status = 413, body = Problem, content_type = "application/problem+json", description = "More items than `batches.max_items` (`too_many_items`, with `max_items`), or a body over its byte limit"),
        (status = 415, body = Problem, content_type = "application/problem+json", description = "Not JSON, CSV or NDJSON"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "Refused whole: `errors` names the first 100 items at fault, with `line` and `column` for an uploaded file"),
    ))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Extension(client): Extension<Caller>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let format = Format::of(&headers)?;
    if format != Format::Json {
        return batch_upload::create(state, client, headers, body, format).await;
    }
    let key = idempotency::key(&headers, state.idempotency_required)?;
    let service = &state.service;
    // A JSON body is read whole: it stays at the size it always had; stadium-sized
    // batches come as CSV or NDJSON, which are streamed.
    let limit = state.body_limit.max(
        service
            .batches
            .max_items
            .min(JSON_MAX_ITEMS)
            .saturating_mul(BYTES_PER_ITEM),
    );
    let (body, json): (CreateBatchBody, serde_json::Value) = read_json(
        &headers,
        body,
        limit,
        &["/items/*", "/items/*/target", "/items/*/amount"],
    )
    .await?;
    if body.items.len() > JSON_MAX_ITEMS {
        return Err(ApiError::field(
            "/items",
            format!("a JSON body holds up to {JSON_MAX_ITEMS} items; send larger batches as text/csv or application/x-ndjson"),
        ));
    }
    let parsed = body
        .items
        .iter()
        .enumerate()
        .map(|(index, item)| parse_item(index, item))
        .collect();
    let items = service
        .check_batch(&client, parsed)
        .map_err(forbidden_first)?;
    let mut id = new_batch_id();
    if let Some(key) = key.as_deref() {
        let hash = idempotency::request_hash(&json);
        match idempotency::claim(service, &client, key, &hash, &id).await? {
            Claimed::Fresh => {}
            Claimed::Replayed(answer) => return Ok(answer.into_response()),
            Claimed::TakenOver(previous) => {
                // The previous holder died; the batch is stored whole or not at all.
                if let Some(previous) = previous {
                    if service.has_batch(&client, &previous).await? {
                        let report = service.batch(&client, &previous).await?;
                        let answer = Answer::json(problem::created(false), &report);
                        idempotency::store(service, &client, key, &answer).await;
                        return Ok(answer.into_response());
                    }
                    id = previous;
                }
            }
        }
    }
    let stored = service
        .store_batch(&client, &id, key.as_deref(), &items)
        .await;
    answer_stored(service, &client, key.as_deref(), stored).await
}

/// The 202 of a stored batch, kept under its idempotency key; a batch that could not be
/// stored releases the key, so a retry with it is not a replay of nothing.
pub(super) async fn answer_stored(
    service: &crate::service::Refunds,
    client: &Caller,
    key: Option<&str>,
    stored: Result<BatchReport, ServiceError>,
) -> Result<Response, ApiError> {
    let report = match stored {
        Ok(report) => report,
        Err(e) => {
            if let Some(key) = key {
                idempotency::release(service, client, key).await;
            }
            return Err(e.into());
        }
    };
    let answer = Answer::json(problem::created(false), &report);
    if let Some(key) = key {
        idempotency::store(service, client, key, &answer).await;
    }
    Ok(answer.into_response())
}

/// A batch naming an instance the client may not use is forbidden whole (403), not merely
/// invalid: the answer names the first such item.
pub(super) fn forbidden_first(error: ServiceError) -> ApiError {
    if let ServiceError::InvalidItems { faults, .. } = &error {
        if let Some(fault) = faults
            .iter()
            .find(|f| f.kind == FaultKind::ProviderForbidden)
        {
            return ApiError::ProviderForbidden {
                name: fault.detail.clone(),
                pointer: Some(fault.pointer.clone()),
                parameter: None,
            };
        }
    }
    error.into()
}

#[utoipa::path(get, path = "/v1/refund-batches/{id}", tag = "batches", operation_id = "getRefundBatch", summary = "Get a refund batch",
    params(("id" = String, Path)),
    responses((status = 200, body = BatchReport), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<Arc<AppState>>,
    Extension(client): Extension<Caller>,
    PathId(id): PathId,
) -> Result<Json<BatchReport>, ApiError> {
    Ok(Json(state.service.batch(&client, &id).await?))
}

#[utoipa::path(post, path = "/v1/refund-batches/{id}/cancel", tag = "batches", operation_id = "cancelRefundBatch", summary = "Cancel a refund batch",
    params(("id" = String, Path)),
    responses((status = 200, body = BatchReport, description = "No new item starts; items in flight finish"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn cancel(
    State(state): State<Arc<AppState>>,
    Extension(client): Extension<Caller>,
    PathId(id): PathId,
) -> Result<Json<BatchReport>, ApiError> {
    Ok(Json(state.service.cancel_batch(&client, &id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct ItemPage {
    pub data: Vec<ItemReport>,
    pub has_more: bool,
}

#[utoipa::path(get, path = "/v1/refund-batches/{id}/items", tag = "batches", operation_id = "listRefundBatchItems", summary = "List a refund batch's items",
    params(("id" = String, Path),
           ("limit" = Option<i64>, Query, description = "1 to 100 (default 20)"),
           ("starting_after" = Option<i64>, Query, description = "The last `seq` of the previous page")),
    responses((status = 200, body = ItemPage), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn items(
    State(state): State<Arc<AppState>>,
    Extension(client): Extension<Caller>,
    PathId(id): PathId,
    RawQuery(query): RawQuery,
) -> Result<Json<ItemPage>, ApiError> {
    let params = Params::parse(query.as_deref(), &["limit", "starting_after"])?;
    let limit = params
        .parsed(
            "limit",
            |v| v.parse::<i64>().ok().filter(|n| (1..=100).contains(n)),
            "a number from 1 to 100",
        )?
        .unwrap_or(20);
    let after = params
        .parsed("starting_after", |v| v.parse::<i64>().ok(), "an item `seq`")?
        .unwrap_or(-1);
    let (data, has_more) = state
        .service
        .batch_items(&client, &id, after, limit)
        .await?;
    Ok(Json(ItemPage { data, has_more }))
}
