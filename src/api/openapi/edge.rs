//! What every operation can answer besides its handler's own results, added to the document
//! in one place because one place produces it: the edge (request id, the gateway's request
//! timeout), the client limit (429, `RateLimit` headers), authentication (401/403 with
//! `[[clients]]`), body and path parsing (400, 413, 415, 422), idempotency keys (409, 422,
//! `Idempotent-Replayed`), the ledger (503) and the vendor behind a lookup or create
//! (404, 409, 422, 429, 501, 502, 503, 504; `Cache-Status`). `tests/support` checks every
//! answer the tests receive against the served document, so a status or header missing
//! here fails the test that saw it.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ObjectBuilder, Ref, Type};
use utoipa::openapi::{ContentBuilder, RefOr, Response, ResponseBuilder};
use utoipa::Modify;

pub struct EdgeResponses;

/// Operations that reach a vendor (lookups, creates, reconciling).
const VENDOR: &[(&str, &str)] = &[
    ("get", "/v1/refunds"),
    ("post", "/v1/refunds"),
    ("get", "/v1/refunds/{id}"),
    ("post", "/v1/refunds/{id}/reconcile"),
];

/// Operations taking an `Idempotency-Key`.
const IDEMPOTENT: &[(&str, &str)] = &[("post", "/v1/refunds"), ("post", "/v1/refund-batches")];

/// Operations whose answers may come from the lookup cache.
const CACHED: &[(&str, &str)] = &[("get", "/v1/refunds"), ("get", "/v1/refunds/{id}")];

/// Never rate limited: the probes and this document (`client_limit::UNLIMITED`).
const PROBES: &[&str] = &["/healthz", "/readyz", "/openapi.json"];

impl Modify for EdgeResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut problem_statuses = std::collections::BTreeSet::new();
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [("get", item.get.as_mut()), ("post", item.post.as_mut())];
            for (method, operation) in operations {
                if let Some(operation) = operation {
                    complete(method, path, operation);
                    super::codes::narrow(operation, &mut problem_statuses);
                }
            }
        }
        super::codes::add_components(openapi, &problem_statuses);
    }
}

fn complete(method: &str, path: &str, op: &mut Operation) {
    let is = |list: &[(&str, &str)]| list.contains(&(method, path));
    let v1 = path.starts_with("/v1/");
    let limited = !PROBES.contains(&path);
    let has_body = method == "post" && path != "/v1/refund-batches/{id}/cancel";

    problem(op, 504, "The gateway's own request timeout ran out (`gateway_timeout`), or the vendor did not answer in time");
    problem(op, 500, "The gateway failed while answering, a bug logged under the request id (`internal_error`). A create may have reached the vendor: retry it with the same Idempotency-Key, never a new one");
    if path == "/metrics" {
        problem(
            op,
            404,
            "Metrics are served on a separate address (`[metrics] listen`)",
        );
    }
    if limited {
        problem(
            op,
            429,
            "Too many requests from this client (`rate_limited`)",
        );
    }
    if v1 {
        problem(
            op,
            401,
            "`[[clients]]` are configured and no valid API key was sent (`unauthorized`)",
        );
        problem(op, 403, "This client may not use the provider instance, or see the resource (`provider_forbidden`)");
        problem(op, 503, "The ledger, or the vendor, is unavailable right now; retry after the `Retry-After` seconds");
    }
    if path.contains('{') {
        problem(op, 400, "A path id that is not one of the gateway's ids");
        problem(op, 404, "No such resource for this client (`not_found`)");
    }
    if has_body {
        problem(
            op,
            400,
            "The body is not JSON, or a header is malformed (`malformed_json`, `malformed_body`)",
        );
        problem(
            op,
            413,
            "The body is larger than `[server] body_limit` (`payload_too_large`)",
        );
        problem(
            op,
            415,
            "The body is not `application/json` (`unsupported_media_type`)",
        );
        problem(
            op,
            422,
            "A field is invalid (`validation_failed` and others, with a JSON `pointer`)",
        );
    }
    if method == "get" && path == "/v1/refunds" {
        problem(
            op,
            400,
            "A query parameter is unknown or malformed (`validation_failed`, with its `parameter`)",
        );
        problem(
            op,
            422,
            "The query names no valid target for the provider (`validation_failed`)",
        );
    }
    if is(IDEMPOTENT) {
        problem(op, 400, "The `Idempotency-Key` header is missing or malformed (`idempotency_key_missing`, `idempotency_key_invalid`)");
        problem(op, 409, "A request with this `Idempotency-Key` is still running (`idempotency_key_in_flight`); retry after `Retry-After`");
        problem(
            op,
            422,
            "This `Idempotency-Key` was used with another body (`idempotency_key_reused`)",
        );
    }
    if is(VENDOR) {
        problem(op, 404, "The vendor knows no such target (`not_found`)");
        problem(
            op,
            409,
            "The vendor refuses the refund in its current state (`nothing_refundable`, `refund_partially_applied`)",
        );
        problem(
            op,
            422,
            "The vendor refuses the request's content (`provider_rejected` and others)",
        );
        problem(
            op,
            501,
            "The provider instance cannot do this (`unsupported_operation`)",
        );
        problem(op, 502, "The vendor refused our credentials, failed, or answered something the gateway cannot read (`provider_unauthorized`, `provider_unavailable`, `provider_bad_response`)");
        problem(op, 503, "The vendor, or the outbound limit for it, asks to slow down, or its circuit is open (`provider_rate_limited`, `provider_unavailable`)");
    }
    if path == "/v1/refunds/{id}/resolve" || path == "/v1/refund-batches/{id}/cancel" {
        problem(
            op,
            409,
            "The resource is already final (`refund_final` and others)",
        );
    }

    // Headers: each on the responses that can carry it.
    for (status, response) in op.responses.responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        header(response, "x-request-id", "The request's id (the client's `x-request-id` when valid, else a new ULID); also `request_id` in problem bodies");
        if limited {
            header(
                response,
                "ratelimit",
                "The client's, or the provider's, remaining quota (IETF draft `RateLimit`)",
            );
            header(
                response,
                "ratelimit-policy",
                "The quota policies that apply (IETF draft `RateLimit-Policy`)",
            );
        }
        if ["409", "429", "503"].contains(&status.as_str()) {
            header(
                response,
                "retry-after",
                "Seconds to wait before trying again",
            );
        }
        if status == "401" {
            header(response, "www-authenticate", "`Bearer`");
        }
        if is(IDEMPOTENT) {
            header(response, "idempotent-replayed", "`true` when this is the stored answer of an earlier request with the same `Idempotency-Key`");
        }
        if is(CACHED) {
            header(
                response,
                "cache-status",
                "Whether the vendor's answer came from the lookup cache (RFC 9211)",
            );
        }
    }
}

/// Adds a problem+json response for `status` unless the operation documents it already.
fn problem(op: &mut Operation, status: u16, description: &str) {
    let key = status.to_string();
    if op.responses.responses.contains_key(&key) {
        return;
    }
    let response: Response = ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build();
    op.responses.responses.insert(key, RefOr::T(response));
}

fn header(response: &mut Response, name: &str, description: &str) {
    response.headers.entry(name.to_string()).or_insert_with(|| {
        HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(Type::String))
            .description(Some(description))
            .build()
    });
}
