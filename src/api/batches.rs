//! The bulk refund endpoints.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::body::read_json;
use super::problem::{ApiError, Problem};
use super::query::Params;
use super::refunds::idempotency_key;
use super::AppState;
use crate::batches::report::{item_report, report, BatchReport, ItemReport};
use crate::batches::submit::{submit, CreateBatchBody};
use crate::clients::ClientId;
use crate::ledger::create::{request_hash, storage_unavailable};

/// Bytes allowed per batch item on top of the server's body limit.
const BYTES_PER_ITEM: usize = 1024;

#[utoipa::path(post, path = "/v1/refund-batches", tag = "batches",
    request_body = CreateBatchBody,
    params(("Idempotency-Key" = String, Header, description = "Unique per batch")),
    responses(
        (status = 202, body = BatchReport, description = "Stored; items are worked in the background"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "Refused whole: `errors` names every item at fault"),
    ))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Extension(client): Extension<ClientId>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers, state.idempotency_required)?;
    let limit = state
        .body_limit
        .max(state.batches.max_items.saturating_mul(BYTES_PER_ITEM));
    let (body, json): (CreateBatchBody, serde_json::Value) =
        read_json(&headers, body, limit).await?;
    let answer = submit(&state, &client, &body, key.as_deref(), &request_hash(&json)).await?;
    Ok(answer.into_response())
}

async fn load(state: &AppState, client: &ClientId, id: &str) -> Result<BatchReport, ApiError> {
    let batch = state
        .storage
        .get_batch(id)
        .await
        .map_err(storage_unavailable)?
        .filter(|batch| batch.client == client.as_str())
        .ok_or_else(|| ApiError::NotFound(format!("no batch `{id}`")))?;
    let items = state
        .storage
        .batch_items(id)
        .await
        .map_err(storage_unavailable)?;
    Ok(report(&batch, &items))
}

#[utoipa::path(get, path = "/v1/refund-batches/{id}", tag = "batches",
    params(("id" = String, Path)),
    responses((status = 200, body = BatchReport), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<Arc<AppState>>,
    Extension(client): Extension<ClientId>,
    Path(id): Path<String>,
) -> Result<Json<BatchReport>, ApiError> {
    Ok(Json(load(&state, &client, &id).await?))
}

#[utoipa::path(post, path = "/v1/refund-batches/{id}/cancel", tag = "batches",
    params(("id" = String, Path)),
    responses((status = 200, body = BatchReport, description = "No new item starts; items in flight finish"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn cancel(
    State(state): State<Arc<AppState>>,
    Extension(client): Extension<ClientId>,
    Path(id): Path<String>,
) -> Result<Json<BatchReport>, ApiError> {
    load(&state, &client, &id).await?;
    state
        .storage
        .cancel_batch(&id)
        .await
        .map_err(storage_unavailable)?;
    Ok(Json(load(&state, &client, &id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct ItemPage {
    pub data: Vec<ItemReport>,
    pub has_more: bool,
}

#[utoipa::path(get, path = "/v1/refund-batches/{id}/items", tag = "batches",
    params(("id" = String, Path),
           ("limit" = Option<i64>, Query, description = "1 to 100 (default 20)"),
           ("starting_after" = Option<i64>, Query, description = "The last `seq` of the previous page")),
    responses((status = 200, body = ItemPage), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn items(
    State(state): State<Arc<AppState>>,
    Extension(client): Extension<ClientId>,
    Path(id): Path<String>,
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
    state
        .storage
        .get_batch(&id)
        .await
        .map_err(storage_unavailable)?
        .filter(|batch| batch.client == client.as_str())
        .ok_or_else(|| ApiError::NotFound(format!("no batch `{id}`")))?;
    let mut rows = state
        .storage
        .batch_items_page(&id, after, limit + 1)
        .await
        .map_err(storage_unavailable)?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok(Json(ItemPage {
        data: rows.iter().map(item_report).collect(),
        has_more,
    }))
}
