//! The canonical HTTP API: routes, authentication, request parsing, idempotency keys, and
//! the one place errors become problem+json. Handlers are thin: parse and validate the
//! request, call the refund service (`crate::service::Refunds`) with the calling client,
//! render the answer.

pub mod answer;
pub mod auth;
pub mod batch_columns;
pub mod batch_reads;
pub mod batch_upload;
pub mod batches;
pub mod body;
pub mod client_limit;
pub mod conventions;
pub mod events;
pub mod idempotency;
pub mod metrics;
pub mod observe;
pub mod openapi;
pub mod pages;
pub mod path_id;
pub mod problem;
pub mod providers;
pub mod query;
pub mod quotes;
pub mod refund_actions;
pub mod refund_input;
pub mod refunds;
pub mod serve;
pub mod strict_json;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware;
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::config::OnUnavailable;
use crate::service::{Client, Refunds};
use auth::ClientKeys;
use client_limit::ClientLimiter;
use problem::ApiError;

/// What every handler can reach: the refund service and the API's own settings.
pub struct AppState {
    pub service: Arc<Refunds>,
    pub idempotency_required: bool,
    pub body_limit: usize,
    /// `GET /metrics` is served on the API's port (no separate `[metrics] listen`).
    pub metrics_on_api_port: bool,
    /// What `GET /openapi.json` serves: built once from the config (`openapi::document`).
    pub openapi: Arc<utoipa::openapi::OpenApi>,
    /// Shared budgets (`[coordination]`), whose Redis `/readyz` reports on.
    pub coordination: Option<Arc<crate::coordination::Coordination>>,
}

/// The calling client, put into each request's extensions by `auth::authenticate`.
pub type Caller = Arc<Client>;

pub fn router(
    state: Arc<AppState>,
    clients: Arc<ClientKeys>,
    client_limiter: Option<Arc<ClientLimiter>>,
) -> Router {
    let metrics_here = state.metrics_on_api_port;
    let routes = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/openapi.json", get(openapi::serve))
        .route("/v1/providers", get(providers::list))
        .route("/v1/refunds", get(refunds::list).post(refunds::create))
        .route("/v1/refunds/{id}", get(refunds::get))
        .route(
            "/v1/refunds/{id}/reconcile",
            post(refund_actions::reconcile),
        )
        .route("/v1/refunds/{id}/resolve", post(refund_actions::resolve))
        .route("/v1/refund-quotes", post(quotes::create))
        .route(
            "/v1/refund-batches",
            get(batch_reads::list).post(batches::create),
        )
        .route("/v1/refund-batches/{id}", get(batches::get))
        .route(
            "/v1/refund-batches/{id}/items.csv",
            get(batch_reads::items_csv),
        )
        .route("/v1/refund-batches/{id}/events", get(batch_reads::events))
        .route("/batches", get(pages::batches))
        .route("/batches/{id}", get(pages::batch))
        .route("/v1/refund-batches/{id}/items", get(batches::items))
        .route("/v1/refund-batches/{id}/cancel", post(batches::cancel))
        .route("/v1/events", get(events::list))
        .route("/v1/webhook-deliveries", get(events::deliveries))
        .route(
            "/v1/webhook-deliveries/{id}/redeliver",
            post(events::redeliver),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state);
    let routes = if metrics_here {
        routes.route("/metrics", get(metrics::serve))
    } else {
        routes
    };
    let routes = match client_limiter {
        Some(limiter) => routes.layer(middleware::from_fn_with_state(
            limiter,
            client_limit::enforce,
        )),
        None => routes,
    };
    // Outermost: the client is known before limits and handlers run; it also notes the
    // route template for the access log and metrics (`serve.rs` reports them at the edge).
    routes.layer(middleware::from_fn_with_state(clients, auth::authenticate))
}

/// The router of a separate metrics listener (`[metrics] listen`): `GET /metrics` only.
pub fn metrics_router() -> Router {
    Router::new()
        .route("/metrics", get(metrics::serve))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(observe::note_route))
}

/// Liveness: the process serves requests. (Vendor reachability is per provider.)
#[utoipa::path(get, path = "/healthz", tag = "meta", operation_id = "getHealth", summary = "Liveness probe", responses((status = 200, body = Health, description = "The gateway is up")))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        coordination: None,
    })
}

/// The gateway's health, as the probes answer it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
    /// With `[coordination]` only: `shared` while Redis answers, else `local_share` (each
    /// gateway keeps to its share of every limit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coordination: Option<&'static str>,
}

/// Readiness: the ledger answers and its migrations have run. 503 `not_ready` otherwise,
/// so a load balancer sends no refunds to a gateway that could not record them. With
/// `[coordination]`, Redis is asked too: without it a `refuse` gateway is not ready, a
/// `local_share` one is (on its share) and says so.
#[utoipa::path(get, path = "/readyz", tag = "meta", operation_id = "getReadiness", summary = "Readiness probe: the ledger (and Redis, with [coordination]) answers", responses(
    (status = 200, body = Health, description = "Ready to take refunds"),
    (status = 503, body = problem::Problem, content_type = "application/problem+json", description = "The ledger cannot be reached or is not migrated, or Redis cannot be reached with on_unavailable = refuse"),
))]
pub async fn readyz(State(state): State<Arc<AppState>>) -> Result<Json<Health>, ApiError> {
    if let Err(e) = state.service.storage.ready().await {
        tracing::warn!(error = %e, "not ready");
        return Err(ApiError::NotReady);
    }
    let coordination = match &state.coordination {
        None => None,
        Some(c) => match c.ping().await {
            Ok(()) => Some("shared"),
            Err(e) if c.on_unavailable() == OnUnavailable::LocalShare => {
                tracing::warn!(error = %e, "ready on this gateway's share of every limit");
                Some("local_share")
            }
            Err(e) => {
                tracing::warn!(error = %e, "not ready: vendor calls are refused without Redis");
                return Err(ApiError::NotReady);
            }
        },
    };
    Ok(Json(Health {
        status: "ok",
        coordination,
    }))
}

async fn not_found(request: Request) -> ApiError {
    ApiError::NotFound(format!(
        "no route for {} {}",
        request.method(),
        request.uri().path()
    ))
}

async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::MethodNotAllowed(format!(
        "{} is not allowed on {}",
        request.method(),
        request.uri().path()
    ))
}
