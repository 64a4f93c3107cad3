//! The refund endpoints: create, get by id, list by target.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use refund_provider::{Refund, RefundId, Target};
use serde::Serialize;
use utoipa::ToSchema;

use super::body::read_json;
use super::problem::{ApiError, Problem};
use super::refund_input::CreateRefundBody;
use super::AppState;
use crate::instances::Instance;
use crate::traffic::client_limit::policy_item;
use crate::traffic::lookup_cache::CacheStatus;

#[derive(Serialize, ToSchema)]
pub struct RefundList {
    pub data: Vec<Refund>,
}

#[utoipa::path(post, path = "/v1/refunds", tag = "refunds",
    request_body = CreateRefundBody,
    responses(
        (status = 201, body = Refund, description = "The refund, as the vendor reports it"),
        (status = "4XX", body = Problem, content_type = "application/problem+json", description = "Bad input, or refused by the vendor"),
        (status = "5XX", body = Problem, content_type = "application/problem+json",
            description = "The vendor failed; `outcome` says whether it may have applied the refund"),
    ))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    let body: CreateRefundBody = read_json(&headers, body, state.body_limit).await?;
    let instance = instance(&state, &body.provider, Some("/provider"), None)?;
    let capabilities = instance.provider.capabilities();
    if !capabilities.create {
        return Err(ApiError::Provider(
            refund_provider::ProviderError::unsupported(format!(
                "`{}` ({}) cannot create refunds",
                instance.name, instance.kind
            )),
        ));
    }
    let request = body.into_request(capabilities)?;
    let result = instance.provider.create(&request).await;
    // Whatever happened, lookups cached for this target may now be stale.
    state
        .lookups
        .invalidate_target(&instance.name, &request.target);
    let mut refund = result.map_err(ApiError::CreateFailed)?;
    refund.metadata = request.metadata;
    refund.raw = None;
    let response = (StatusCode::CREATED, Json(refund)).into_response();
    Ok(with_provider_policy(instance, response))
}

#[utoipa::path(get, path = "/v1/refunds/{id}", tag = "refunds",
    params(("id" = String, Path, description = "A refund id from a create or list"),
           ("include" = Option<String>, Query, description = "`raw` adds the vendor's payload")),
    responses(
        (status = 200, body = Refund),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = "5XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = parse_query(query.as_deref(), &["include"])?;
    let include_raw = include_raw(&params)?;
    let id = RefundId::from_string(id);
    let not_found = || ApiError::NotFound(format!("no refund has the id `{id}`"));
    let (instance_name, vendor_ref) = id.decode_vendor().ok_or_else(not_found)?;
    let instance = state
        .instances
        .get(instance_name.as_str())
        .ok_or_else(not_found)?;
    if !instance.provider.capabilities().get {
        return Err(ApiError::Provider(
            refund_provider::ProviderError::unsupported(format!(
                "`{}` ({}) cannot look refunds up",
                instance.name, instance.kind
            )),
        ));
    }
    let (mut refund, cache) = state
        .lookups
        .get(instance, &vendor_ref, wants_live(&headers))
        .await?;
    if !include_raw {
        refund.raw = None;
    }
    Ok(lookup_response(instance, cache, Json(refund)))
}

#[utoipa::path(get, path = "/v1/refunds", tag = "refunds",
    params(("provider" = String, Query, description = "Provider instance"),
           ("order" = Option<String>, Query), ("payment" = Option<String>, Query),
           ("ticket" = Option<String>, Query), ("venue" = Option<String>, Query),
           ("booking" = Option<String>, Query), ("event" = Option<String>, Query),
           ("include" = Option<String>, Query, description = "`raw` adds the vendor's payloads")),
    responses(
        (status = 200, body = RefundList, description = "The refunds the vendor knows for that target"),
        (status = "4XX", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    const PARAMS: &[&str] = &[
        "provider", "order", "payment", "ticket", "venue", "booking", "event", "include",
    ];
    let params = parse_query(query.as_deref(), PARAMS)?;
    let include_raw = include_raw(&params)?;
    let provider = single(&params, "provider")?
        .ok_or_else(|| ApiError::parameter("provider", "`provider` is required"))?;
    let instance = instance(&state, &provider, None, Some("provider"))?;
    if !instance.provider.capabilities().list {
        return Err(ApiError::Provider(
            refund_provider::ProviderError::unsupported(format!(
                "`{}` ({}) cannot list refunds",
                instance.name, instance.kind
            )),
        ));
    }
    let target = Target {
        order: single(&params, "order")?,
        payments: all(&params, "payment"),
        tickets: all(&params, "ticket"),
        venue: single(&params, "venue")?,
        booking: single(&params, "booking")?,
        event: single(&params, "event")?,
        all_for_event: false,
    };
    if target == Target::default() {
        return Err(ApiError::parameter(
            "order",
            format!(
                "name a target: one of {:?}",
                instance.provider.capabilities().list_target
            ),
        ));
    }
    let (mut refunds, cache) = state
        .lookups
        .list(instance, &target, wants_live(&headers))
        .await
        .map_err(|e| {
            // Target pointers are body pointers; for a list the field is a query parameter.
            match e
                .pointer
                .as_deref()
                .and_then(|p| p.strip_prefix("/target/"))
            {
                Some(field) => ApiError::parameter(field.trim_end_matches('s'), e.message),
                None => ApiError::Provider(e),
            }
        })?;
    if !include_raw {
        refunds.iter_mut().for_each(|r| r.raw = None);
    }
    Ok(lookup_response(
        instance,
        cache,
        Json(RefundList { data: refunds }),
    ))
}

/// `Cache-Control: no-cache` asks for a live lookup.
fn wants_live(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|d| d.trim().eq_ignore_ascii_case("no-cache"))
}

fn lookup_response(instance: &Instance, cache: CacheStatus, body: impl IntoResponse) -> Response {
    let mut response = with_provider_policy(instance, body.into_response());
    response.headers_mut().insert(
        HeaderName::from_static("cache-status"),
        HeaderValue::from_static(cache.header_value()),
    );
    response
}

/// Names the provider's own pace next to the client's limit, so the limits a client is
/// shown are never looser than what the vendor account allows.
fn with_provider_policy(instance: &Instance, mut response: Response) -> Response {
    if let Some((quota, window)) = instance.traffic.limit.policy() {
        if let Ok(v) = HeaderValue::from_str(&policy_item(instance.name.as_str(), quota, window)) {
            response
                .headers_mut()
                .insert(HeaderName::from_static("ratelimit-policy"), v);
        }
    }
    response
}

fn instance<'a>(
    state: &'a AppState,
    name: &str,
    pointer: Option<&str>,
    parameter: Option<&str>,
) -> Result<&'a Instance, ApiError> {
    state
        .instances
        .get(name)
        .ok_or_else(|| ApiError::UnknownProvider {
            name: name.to_string(),
            pointer: pointer.map(str::to_string),
            parameter: parameter.map(str::to_string),
        })
}

type Params = Vec<(String, String)>;

fn parse_query(query: Option<&str>, known: &[&str]) -> Result<Params, ApiError> {
    let params: Params = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    if let Some((name, _)) = params.iter().find(|(k, _)| !known.contains(&k.as_str())) {
        return Err(ApiError::parameter(
            name.clone(),
            format!("unknown parameter `{name}`; known: {}", known.join(", ")),
        ));
    }
    Ok(params)
}

fn single(params: &Params, name: &str) -> Result<Option<String>, ApiError> {
    let mut values = params
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone());
    let first = values.next();
    if values.next().is_some() {
        return Err(ApiError::parameter(
            name,
            format!("`{name}` may be given once"),
        ));
    }
    Ok(first.filter(|v| !v.is_empty()))
}

fn all(params: &Params, name: &str) -> Vec<String> {
    params
        .iter()
        .filter(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v.clone())
        .collect()
}

fn include_raw(params: &Params) -> Result<bool, ApiError> {
    match single(params, "include")?.as_deref() {
        None => Ok(false),
        Some("raw") => Ok(true),
        Some(other) => Err(ApiError::parameter(
            "include",
            format!("`include` accepts `raw`, not `{other}`"),
        )),
    }
}
