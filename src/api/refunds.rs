//! The refund endpoints: create, get by id, list (by vendor target, or the ledger).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Extension, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use refund_provider::chrono::DateTime;
use refund_provider::{Refund, RefundId, RefundStatus, Target};
use serde::Serialize;
use utoipa::ToSchema;

use super::answer::Answer;
use super::body::read_json;
use super::client_limit::policy_item;
use super::idempotency::{self, Claimed};
use super::path_id::PathId;
use super::problem::{self, ApiError, Problem};
use super::query::Params;
use super::refund_input::CreateRefundBody;
use super::{AppState, Caller};
use crate::instances::Instance;
use crate::service::create::Origin;
use crate::service::{new_refund_id, Client, ServiceError};
use crate::storage::refunds::LedgerFilter;
use crate::traffic::lookup_cache::CacheStatus;

const MAX_PAGE: i64 = 100;
const DEFAULT_PAGE: i64 = 20;

#[derive(Serialize, ToSchema)]
pub struct RefundList {
    pub data: Vec<Refund>,
    /// Ledger listings only: more refunds follow; pass the last id as `starting_after`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_more: Option<bool>,
}

#[utoipa::path(post, path = "/v1/refunds", tag = "refunds", operation_id = "createRefund", summary = "Create a refund",
    request_body = CreateRefundBody,
    params(("Idempotency-Key" = String, Header, description = "Unique per refund; a retry with the same key and body replays the first answer")),
    responses(
        (status = 201, body = Refund, description = "The refund, as the vendor reports it"),
        (status = 202, body = Refund, description = "The vendor may or may not have applied it: status `unknown`, settled later by a lookup. Do not resend."),
        (status = "4XX", body = Problem, content_type = "application/problem+json", description = "Bad input, refused by the vendor, or an idempotency conflict"),
        (status = "5XX", body = Problem, content_type = "application/problem+json", description = "The vendor or the ledger failed before the refund was applied"),
    ))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Extension(client): Extension<Caller>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let key = idempotency::key(&headers, state.idempotency_required)?;
    let (body, json): (CreateRefundBody, serde_json::Value) =
        read_json(&headers, body, state.body_limit, &["/target", "/amount"]).await?;
    let service = &state.service;
    let checked = service.check(&client, body.into_new()?)?;
    let instance = checked.instance;
    let hash = idempotency::request_hash(&json);
    let mut id = new_refund_id();
    if let Some(key) = key.as_deref() {
        match idempotency::claim(service, &client, key, &hash, &id).await? {
            Claimed::Fresh => {}
            Claimed::Replayed(answer) => {
                return Ok(with_provider_policy(instance, answer.into_response()))
            }
            Claimed::TakenOver(previous) => {
                // The previous holder died. If it had recorded its intent, the vendor may
                // have been called: its refund is the answer. Else go on under its id.
                if let Some(previous) = previous {
                    match service.resume(&client, &previous).await? {
                        Some(refund) => {
                            let answer = resumed_answer(&refund);
                            idempotency::store(service, &client, key, &answer).await;
                            return Ok(with_provider_policy(instance, answer.into_response()));
                        }
                        None => id = previous,
                    }
                }
            }
        }
    }
    let origin = Origin::Request {
        id,
        idempotency_key: key.as_deref(),
        request_hash: Some(&hash),
    };
    let answer = match service.create(&client, checked, origin).await {
        Ok(refund) => refund_answer(&refund),
        Err(e @ ServiceError::CreateFailed(_)) => Answer::of_error(&e.into()),
        Err(e) => {
            // Nothing reached the vendor (the intent could not be written): the key is
            // given back so the client may retry.
            if let Some(key) = key.as_deref() {
                idempotency::release(service, &client, key).await;
            }
            return Err(e.into());
        }
    };
    if let Some(key) = key.as_deref() {
        idempotency::store(service, &client, key, &answer).await;
    }
    Ok(with_provider_policy(instance, answer.into_response()))
}

/// 201 with the refund; 202 when its outcome is unknown (settled later by a lookup).
fn refund_answer(refund: &Refund) -> Answer {
    Answer::json(
        problem::created(refund.status != RefundStatus::Unknown),
        refund,
    )
}

/// The answer to a create whose first request died with its gateway: its refund as it
/// stands, or, when it was settled since as never applied, a problem saying so (never a
/// 201 for a refund that did not happen).
fn resumed_answer(refund: &Refund) -> Answer {
    if matches!(refund.status, RefundStatus::Failed | RefundStatus::Canceled) {
        return Answer::of_error(&ApiError::NotApplied {
            refund_id: refund.id.to_string(),
            message: refund
                .status_reason
                .as_ref()
                .map(|r| r.message.clone())
                .unwrap_or_else(|| "it ended without being applied".into()),
        });
    }
    refund_answer(refund)
}

#[utoipa::path(get, path = "/v1/refunds/{id}", tag = "refunds", operation_id = "getRefund", summary = "Get a refund",
    params(("id" = String, Path, description = "A refund id from a create or a list"),
           ("include" = Option<String>, Query, description = "`raw` adds the vendor's payload (vendor ids only)")),
    responses(
        (status = 200, body = Refund),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = "5XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(
    State(state): State<Arc<AppState>>,
    Extension(client): Extension<Caller>,
    PathId(id): PathId,
    RawQuery(query): RawQuery,
    WantsLive(live): WantsLive,
) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref(), &["include"])?;
    let include_raw = params.include_raw()?;
    let id = RefundId::from_string(id);
    let (found, cache) = state.service.get(&client, &id, live).await?;
    let instance = (!id.is_ledger())
        .then(|| state.service.instances.get(found.provider()))
        .flatten();
    let mut response = if include_raw {
        Json(found.into_refund()).into_response()
    } else {
        json_bytes(found.json_without_raw())
    };
    if let Some(cache) = cache {
        set_cache_status(&mut response, cache);
    }
    if let Some(instance) = instance {
        response = with_provider_policy(instance, response);
    }
    Ok(response)
}

const TARGET_PARAMS: &[&str] = &["order", "payment", "ticket", "venue", "booking", "event"];
const LEDGER_PARAMS: &[&str] = &[
    "status",
    "batch",
    "created_gte",
    "created_lt",
    "limit",
    "starting_after",
];

/// Every parameter `GET /v1/refunds` knows: `provider`, `include`, a target's, the ledger's
/// (made once, not per request).
static LIST_PARAMS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    ["provider", "include"]
        .iter()
        .chain(TARGET_PARAMS)
        .chain(LEDGER_PARAMS)
        .copied()
        .collect()
});

#[utoipa::path(get, path = "/v1/refunds", tag = "refunds", operation_id = "listRefunds", summary = "List refunds",
    params(("provider" = Option<String>, Query, description = "Provider instance (required with a target)"),
           ("order" = Option<String>, Query), ("payment" = Option<String>, Query),
           ("ticket" = Option<String>, Query), ("venue" = Option<String>, Query),
           ("booking" = Option<String>, Query), ("event" = Option<String>, Query),
           ("status" = Option<String>, Query, description = "Ledger listing: refund status"),
           ("batch" = Option<String>, Query, description = "Ledger listing: batch id"),
           ("created_gte" = Option<String>, Query, description = "Ledger listing: RFC 3339 time"),
           ("created_lt" = Option<String>, Query, description = "Ledger listing: RFC 3339 time"),
           ("limit" = Option<i64>, Query, description = "Ledger listing: 1 to 100 (default 20)"),
           ("starting_after" = Option<String>, Query, description = "Ledger listing: the last id of the previous page"),
           ("include" = Option<String>, Query, description = "`raw` adds the vendor's payloads")),
    responses(
        (status = 200, body = RefundList, description = "With a target: the refunds the vendor knows for it. Without: the refunds the gateway made, newest first"),
        (status = "4XX", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Extension(client): Extension<Caller>,
    RawQuery(query): RawQuery,
    WantsLive(live): WantsLive,
) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref(), &LIST_PARAMS)?;
    if TARGET_PARAMS.iter().any(|p| params.has(p)) {
        vendor_list(&state, &client, &params, live).await
    } else {
        ledger_list(&state, &client, &params).await
    }
}

async fn vendor_list(
    state: &AppState,
    client: &Client,
    params: &Params,
    live: bool,
) -> Result<Response, ApiError> {
    if let Some(p) = LEDGER_PARAMS.iter().find(|p| params.has(p)) {
        return Err(ApiError::parameter(
            *p,
            format!("`{p}` filters the ledger listing, not a vendor target's refunds"),
        ));
    }
    let include_raw = params.include_raw()?;
    let provider = params
        .single("provider")?
        .ok_or_else(|| ApiError::parameter("provider", "`provider` is required with a target"))?;
    let target = Target {
        order: params.single("order")?,
        payments: params.all("payment"),
        tickets: params.all("ticket"),
        venue: params.single("venue")?,
        booking: params.single("booking")?,
        event: params.single("event")?,
        all_for_event: false,
    };
    let service = &state.service;
    let (listing, cache) = service
        .list_target(client, &provider, &target, live)
        .await
        .map_err(|e| match e {
            // Target pointers are body pointers; for a list the field is a query parameter.
            ServiceError::Provider(e) => match e
                .pointer
                .as_deref()
                .and_then(|p| p.strip_prefix("/target/"))
            {
                Some(field) => ApiError::parameter(field.trim_end_matches('s'), e.message),
                None => ApiError::Provider(e),
            },
            other => ApiError::from_query(other),
        })?;
    let mut response = if include_raw {
        Json(RefundList {
            data: listing.refunds(),
            has_more: None,
        })
        .into_response()
    } else {
        // The same document as `RefundList` without `has_more`, from pre-rendered refunds.
        json_bytes(listing.document_without_raw())
    };
    set_cache_status(&mut response, cache);
    if let Some(instance) = service.instances.get(&provider) {
        response = with_provider_policy(instance, response);
    }
    Ok(response)
}

async fn ledger_list(
    state: &AppState,
    client: &Client,
    params: &Params,
) -> Result<Response, ApiError> {
    let time = |name: &str| {
        params.parsed(
            name,
            |v| {
                DateTime::parse_from_rfc3339(v)
                    .ok()
                    .map(|t| t.timestamp_millis())
            },
            "an RFC 3339 time",
        )
    };
    let filter = LedgerFilter {
        client: None,
        provider: params.single("provider")?,
        status: params.parsed(
            "status",
            |v| serde_json::from_value::<RefundStatus>(serde_json::json!(v)).ok(),
            "a refund status",
        )?,
        batch_id: params.single("batch")?,
        created_gte: time("created_gte")?,
        created_lt: time("created_lt")?,
        starting_after: params.single("starting_after")?,
    };
    let limit = params
        .parsed(
            "limit",
            |v| v.parse::<i64>().ok().filter(|n| (1..=MAX_PAGE).contains(n)),
            "a number from 1 to 100",
        )?
        .unwrap_or(DEFAULT_PAGE);
    let (data, has_more) = state.service.list_ledger(client, filter, limit).await?;
    Ok(Json(RefundList {
        data,
        has_more: Some(has_more),
    })
    .into_response())
}

/// A JSON answer from bytes rendered earlier.
fn json_bytes(body: bytes::Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `Cache-Control: no-cache` asks for a live lookup. An extractor reading the header in
/// place: taking the whole `HeaderMap` copies every header of every lookup.
pub struct WantsLive(pub bool);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for WantsLive {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(WantsLive(wants_live(&parts.headers)))
    }
}

pub(super) fn wants_live(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|d| d.trim().eq_ignore_ascii_case("no-cache"))
}

pub(super) fn set_cache_status(response: &mut Response, cache: CacheStatus) {
    response.headers_mut().insert(
        HeaderName::from_static("cache-status"),
        HeaderValue::from_static(cache.header_value()),
    );
}

/// Names the provider's own pace next to the client's limit, so the limits a client is
/// shown are never looser than what the vendor account allows.
pub(super) fn with_provider_policy(instance: &Instance, mut response: Response) -> Response {
    if let Some((quota, window)) = instance.traffic.limit.policy() {
        if let Ok(v) = HeaderValue::from_str(&policy_item(instance.name.as_str(), quota, window)) {
            response
                .headers_mut()
                .insert(HeaderName::from_static("ratelimit-policy"), v);
        }
    }
    response
}
