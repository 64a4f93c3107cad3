//! Operator actions on refunds the gateway made: settle an unknown outcome now by a vendor
//! lookup, or resolve one by hand where the vendor cannot be read.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Extension, Path, State};
use axum::http::HeaderMap;
use axum::Json;
use refund_provider::{Refund, RefundStatus};
use serde::Deserialize;
use utoipa::ToSchema;

use super::body::read_json;
use super::problem::{ApiError, Problem};
use super::AppState;
use crate::clients::ClientId;
use crate::ledger;
use crate::ledger::create::storage_unavailable;
use crate::storage::refunds::{LedgerRow, Settlement};

async fn unknown_row(state: &AppState, client: &ClientId, id: &str) -> Result<LedgerRow, ApiError> {
    let row = state
        .storage
        .get_refund(id)
        .await
        .map_err(storage_unavailable)?
        .filter(|row| row.client == client.as_str())
        .ok_or_else(|| ApiError::NotFound(format!("the ledger has no refund `{id}`")))?;
    if row.status.is_final() {
        return Err(ApiError::Conflict(format!(
            "refund `{id}` is already {}; final statuses never change",
            crate::storage::refunds::status_str(row.status)
        )));
    }
    Ok(row)
}

async fn current(state: &AppState, client: &ClientId, id: &str) -> Result<Json<Refund>, ApiError> {
    let row = state
        .storage
        .get_refund(id)
        .await
        .map_err(storage_unavailable)?;
    let row = row
        .filter(|row| row.client == client.as_str())
        .ok_or_else(|| ApiError::NotFound(format!("the ledger has no refund `{id}`")))?;
    Ok(Json(ledger::view::refund_of(&row)))
}

#[utoipa::path(post, path = "/v1/refunds/{id}/reconcile", tag = "refunds",
    params(("id" = String, Path)),
    responses(
        (status = 200, body = Refund, description = "The refund after the lookup (still `unknown` if the vendor does not show it yet)"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Already final"),
    ))]
pub async fn reconcile(
    State(state): State<Arc<AppState>>,
    Extension(client): Extension<ClientId>,
    Path(id): Path<String>,
) -> Result<Json<Refund>, ApiError> {
    let row = unknown_row(&state, &client, &id).await?;
    if row.status == RefundStatus::Unknown {
        ledger::reconcile::settle(&state, &row).await?;
    }
    current(&state, &client, &id).await
}

/// `POST /v1/refunds/{id}/resolve` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    /// The status the operator established: `succeeded`, `partially_succeeded`, `failed` or `canceled`.
    pub status: RefundStatus,
    /// How it was established (kept with the refund).
    pub note: String,
}

#[utoipa::path(post, path = "/v1/refunds/{id}/resolve", tag = "refunds",
    params(("id" = String, Path)),
    request_body = ResolveBody,
    responses(
        (status = 200, body = Refund),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Already final"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn resolve(
    State(state): State<Arc<AppState>>,
    Extension(client): Extension<ClientId>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Refund>, ApiError> {
    let (body, _): (ResolveBody, _) = read_json(&headers, body, state.body_limit).await?;
    if !body.status.is_final() {
        return Err(ApiError::field(
            "/status",
            "resolve to a final status: succeeded, partially_succeeded, failed or canceled",
        ));
    }
    if body.note.trim().is_empty() || body.note.chars().count() > 1000 {
        return Err(ApiError::field(
            "/note",
            "say how the outcome was established (1 to 1000 characters)",
        ));
    }
    unknown_row(&state, &client, &id).await?;
    let settlement = Settlement {
        status: body.status,
        code: Some("resolved".into()),
        detail: Some("settled by an operator".into()),
        refund: None,
        vendor_error: None,
        resolution_note: Some(body.note),
    };
    if !state
        .storage
        .settle(&id, &settlement)
        .await
        .map_err(storage_unavailable)?
    {
        return Err(ApiError::Conflict(format!(
            "refund `{id}` became final meanwhile"
        )));
    }
    current(&state, &client, &id).await
}
