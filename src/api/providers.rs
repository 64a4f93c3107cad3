//! `GET /v1/providers`: the configured instances and what each can do.

use std::sync::Arc;

use axum::extract::{Extension, State};
use axum::Json;
use refund_provider::Capabilities;
use serde::Serialize;
use utoipa::ToSchema;

use super::{AppState, Caller};
use crate::traffic::circuit::CircuitState;
use crate::traffic::outbound_limit::LimitState;

#[derive(Serialize, ToSchema)]
pub struct ProviderInfo {
    /// The instance name, as used in `provider` of requests.
    pub name: String,
    pub kind: String,
    /// Served by the built-in sandbox vendor (no real money).
    pub sandbox: bool,
    pub capabilities: Capabilities,
    /// Live traffic state: the outbound limiter and the circuit breaker.
    pub traffic: TrafficInfo,
}

#[derive(Serialize, ToSchema)]
pub struct TrafficInfo {
    pub rate_limit: LimitState,
    pub circuit: CircuitState,
}

#[derive(Serialize, ToSchema)]
pub struct ProviderList {
    pub data: Vec<ProviderInfo>,
}

#[utoipa::path(get, path = "/v1/providers", tag = "providers", operation_id = "listProviders", summary = "List the provider instances the client may use",
    responses((status = 200, body = ProviderList, description = "The provider instances the calling client may use")))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Extension(client): Extension<Caller>,
) -> Json<ProviderList> {
    let data = state
        .service
        .instances_for(&client)
        .map(|i| ProviderInfo {
            name: i.name.to_string(),
            kind: i.kind.to_string(),
            sandbox: i.sandbox,
            capabilities: i.provider.capabilities().clone(),
            traffic: TrafficInfo {
                rate_limit: i.traffic.limit.state(),
                circuit: i.traffic.circuit.state(),
            },
        })
        .collect();
    Json(ProviderList { data })
}
