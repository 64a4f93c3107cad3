//! `POST /v1/refund-quotes`: what a create with the same body would find and do, without
//! refunding. The body is a create's (validated by the same rules, pointers included); the
//! answer is read through the lookup cache and never stored as a refund.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use refund_provider::Quote;

use super::body::read_json;
use super::problem::{ApiError, Problem};
use super::refund_input::CreateRefundBody;
use super::refunds::{set_cache_status, wants_live, with_provider_policy};
use super::{AppState, Caller};

#[utoipa::path(post, path = "/v1/refund-quotes", tag = "refunds", operation_id = "createRefundQuote",
    summary = "Quote a refund without refunding",
    description = "Takes a create's body (`provider`, `target`, optional `amount`; `reason` and `metadata` are \
    validated and ignored) and answers, from the vendor's read endpoints only, what is paid, already refunded and \
    still refundable per line, what a create with this body would do (`create`), and what cannot be known in \
    advance (`cannot_know`). Nothing is refunded or stored; quotes are cached like lookups and dropped by a create \
    on the same target. No `Idempotency-Key` is needed.",
    request_body = CreateRefundBody,
    params(("Cache-Control" = Option<String>, Header, description = "`no-cache` reads the vendor now instead of answering a cached quote")),
    responses(
        (status = 200, body = Quote, description = "The quote",
            headers(("Cache-Status" = String, description = "RFC 9211: `hit` when the quote came from the cache"),
                    ("RateLimit-Policy" = Option<String>, description = "The provider instance's own pace, where it has one"))),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "The body is not JSON (`malformed_json`) or could not be read (`malformed_body`)"),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "No or an unknown API key, when clients are configured (`unauthorized`)"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "The client may not use this provider instance (`provider_forbidden`)"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "The vendor has no such target (`not_found`, pointer at the field)"),
        (status = 413, body = Problem, content_type = "application/problem+json", description = "Body larger than the server's limit (`payload_too_large`)"),
        (status = 415, body = Problem, content_type = "application/problem+json", description = "Not `application/json` (`unsupported_media_type`)"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "Bad input, with a `pointer`: `validation_failed` (a target this provider cannot take, a malformed amount), `unknown_provider`, or `currency_not_supported` (a vendor record in another currency)"),
        (status = 429, body = Problem, content_type = "application/problem+json", description = "The client's own rate limit (`rate_limited`)",
            headers(("Retry-After" = String, description = "Seconds to wait"))),
        (status = 501, body = Problem, content_type = "application/problem+json", description = "This provider cannot quote (`unsupported_operation`)"),
        (status = 502, body = Problem, content_type = "application/problem+json", description = "The vendor refused our credentials or answered something unreadable (`provider_unauthorized`, `provider_bad_response`, `provider_unavailable`)"),
        (status = 503, body = Problem, content_type = "application/problem+json", description = "The vendor or our limiter for it asks to slow down, or its circuit is open (`provider_rate_limited`, `provider_unavailable`)",
            headers(("Retry-After" = String, description = "Seconds to wait"))),
        (status = 504, body = Problem, content_type = "application/problem+json", description = "The vendor did not answer in time (`provider_timeout`), or the request ran past the server's timeout (`gateway_timeout`)"),
    ))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Extension(client): Extension<Caller>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (body, _): (CreateRefundBody, serde_json::Value) =
        read_json(&headers, body, state.body_limit, &["/target", "/amount"]).await?;
    let new = body.into_new()?;
    let provider = new.provider.clone();
    let service = &state.service;
    let (quote, cache) = service.quote(&client, new, wants_live(&headers)).await?;
    let mut response = Json(quote).into_response();
    set_cache_status(&mut response, cache);
    if let Some(instance) = service.instances.get(&provider) {
        response = with_provider_policy(instance, response);
    }
    Ok(response)
}
