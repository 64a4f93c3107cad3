//! `GET /v1/events`: the calling client's refund and batch events, oldest first, followed
//! with a cursor; and the webhook deliveries of those events, with a redeliver action.

use std::sync::Arc;

use axum::extract::{Extension, RawQuery, State};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::path_id::PathId;
use super::problem::{ApiError, Problem};
use super::query::Params;
use super::{AppState, Caller};
use crate::service::events::{Delivery, Event};
use crate::storage::deliveries::{DeliveryFilter, DeliveryState};
use crate::storage::events::{EventFilter, EventType};

const MAX_PAGE: i64 = 100;
const DEFAULT_PAGE: i64 = 20;

#[derive(Serialize, ToSchema)]
pub struct EventList {
    pub data: Vec<Event>,
    /// More events follow: pass the last id as `starting_after`.
    pub has_more: bool,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    pub data: Vec<Delivery>,
    /// More (older) deliveries follow: pass the last id as `starting_after`.
    pub has_more: bool,
}

fn limit(params: &Params) -> Result<i64, ApiError> {
    Ok(params
        .parsed(
            "limit",
            |v| v.parse::<i64>().ok().filter(|n| (1..=MAX_PAGE).contains(n)),
            "a number from 1 to 100",
        )?
        .unwrap_or(DEFAULT_PAGE))
}

/// An id of the given prefix (`evt_`, `whd_`) and a ULID, or a 400 naming the parameter.
fn id_param(params: &Params, name: &str, prefix: &str) -> Result<Option<String>, ApiError> {
    params.parsed(
        name,
        |v| {
            v.strip_prefix(prefix)
                .filter(|rest| ulid::Ulid::from_string(rest).is_ok())
                .map(|_| v.to_ascii_lowercase())
        },
        &format!("an id such as `{prefix}01j...`"),
    )
}

#[utoipa::path(get, path = "/v1/events", tag = "events", operation_id = "listEvents", summary = "List events",
    description = "The calling client's refund and batch events, oldest first. Follow the feed by passing the last id seen as `starting_after`. Events are kept for `[events] retention` (30 days by default).",
    params(("type" = Option<Vec<String>>, Query, description = "Only these event types (repeat the parameter for several)"),
           ("refund" = Option<String>, Query, description = "Only this refund's events"),
           ("batch" = Option<String>, Query, description = "Only this batch's events (its milestones and its refunds')"),
           ("limit" = Option<i64>, Query, description = "1 to 100 (default 20)"),
           ("starting_after" = Option<String>, Query, description = "The last event id of the previous page")),
    responses(
        (status = 200, body = EventList),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "A bad parameter (`pointer` names it)"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json", description = "The ledger is unavailable"),
    ))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Extension(client): Extension<Caller>,
    RawQuery(query): RawQuery,
) -> Result<Json<EventList>, ApiError> {
    let params = Params::parse(
        query.as_deref(),
        &["type", "refund", "batch", "limit", "starting_after"],
    )?;
    let types = params.all("type");
    if let Some(bad) = types.iter().find(|t| EventType::parse(t).is_none()) {
        let known: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        return Err(ApiError::parameter(
            "type",
            format!("unknown event type `{bad}`; known: {}", known.join(", ")),
        ));
    }
    let filter = EventFilter {
        client: String::new(),
        types,
        refund_id: params.single("refund")?,
        batch_id: params.single("batch")?,
        starting_after: id_param(&params, "starting_after", "evt_")?,
    };
    let (data, has_more) = state
        .service
        .list_events(&client, filter, limit(&params)?)
        .await?;
    Ok(Json(EventList { data, has_more }))
}

#[utoipa::path(get, path = "/v1/webhook-deliveries", tag = "events", operation_id = "listWebhookDeliveries", summary = "List webhook deliveries",
    description = "Deliveries of the calling client's events to the `[[webhooks]]` endpoints, newest first.",
    params(("state" = Option<String>, Query, description = "`pending`, `delivered` or `failed`"),
           ("event" = Option<String>, Query, description = "Only this event's deliveries"),
           ("limit" = Option<i64>, Query, description = "1 to 100 (default 20)"),
           ("starting_after" = Option<String>, Query, description = "The last delivery id of the previous page")),
    responses(
        (status = 200, body = DeliveryList),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "A bad parameter (`pointer` names it)"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json", description = "The ledger is unavailable"),
    ))]
pub async fn deliveries(
    State(state): State<Arc<AppState>>,
    Extension(client): Extension<Caller>,
    RawQuery(query): RawQuery,
) -> Result<Json<DeliveryList>, ApiError> {
    let params = Params::parse(
        query.as_deref(),
        &["state", "event", "limit", "starting_after"],
    )?;
    let filter = DeliveryFilter {
        client: String::new(),
        state: params.parsed(
            "state",
            DeliveryState::parse,
            "`pending`, `delivered` or `failed`",
        )?,
        event_id: id_param(&params, "event", "evt_")?,
        starting_after: id_param(&params, "starting_after", "whd_")?,
    };
    let (data, has_more) = state
        .service
        .list_deliveries(&client, filter, limit(&params)?)
        .await?;
    Ok(Json(DeliveryList { data, has_more }))
}

#[utoipa::path(post, path = "/v1/webhook-deliveries/{id}/redeliver", tag = "events", operation_id = "redeliverWebhook", summary = "Send a webhook delivery again",
    description = "Sends the delivery again as soon as possible and retries it as long as a new one. An endpoint disabled by a 410 is enabled again.",
    params(("id" = String, Path, description = "A delivery id (`whd_...`)")),
    responses(
        (status = 200, body = Delivery, description = "The delivery, pending again"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "The client has no such delivery"),
        (status = 503, body = Problem, content_type = "application/problem+json", description = "The ledger is unavailable"),
    ))]
pub async fn redeliver(
    State(state): State<Arc<AppState>>,
    Extension(client): Extension<Caller>,
    PathId(id): PathId,
) -> Result<Json<Delivery>, ApiError> {
    Ok(Json(state.service.redeliver(&client, &id).await?))
}
