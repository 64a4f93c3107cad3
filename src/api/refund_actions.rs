//! Operator actions on refunds the gateway made: settle an unknown outcome now by a vendor
//! lookup, or resolve one by hand where the vendor cannot be read.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use axum::Json;
use refund_provider::{Refund, RefundStatus};
use serde::Deserialize;
use utoipa::ToSchema;

use super::body::read_json;
use super::path_id::PathId;
use super::problem::{ApiError, Problem};
use super::{AppState, Caller};

#[utoipa::path(post, path = "/v1/refunds/{id}/reconcile", tag = "refunds", operation_id = "reconcileRefund", summary = "Settle an unknown refund by a vendor lookup",
    params(("id" = String, Path)),
    responses(
        (status = 200, body = Refund, description = "The refund after the lookup (still `unknown` if the vendor does not show it yet)"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Already final"),
    ))]
pub async fn reconcile(
    State(state): State<Arc<AppState>>,
    Extension(client): Extension<Caller>,
    PathId(id): PathId,
) -> Result<Json<Refund>, ApiError> {
    Ok(Json(state.service.reconcile(&client, &id).await?))
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

#[utoipa::path(post, path = "/v1/refunds/{id}/resolve", tag = "refunds", operation_id = "resolveRefund", summary = "Resolve an unknown refund by hand",
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
    Extension(client): Extension<Caller>,
    PathId(id): PathId,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Refund>, ApiError> {
    let (body, _): (ResolveBody, _) = read_json(&headers, body, state.body_limit, &[]).await?;
    let refund = state
        .service
        .resolve(&client, &id, body.status, body.note)
        .await?;
    Ok(Json(refund))
}
