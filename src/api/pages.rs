//! The people-facing pages: `/batches` lists the client's batches and `/batches/{id}` shows
//! one batch's progress live. They are HTML, not HTTP API: each page is rendered here
//! around the batch id, with its style and script embedded in the binary (no build step,
//! no CDN), and reads everything else from the `/v1` API in the browser. With `[[clients]]`
//! configured the page asks for the API key once and keeps it in `sessionStorage` (this tab
//! only); the live feed (`/v1/refund-batches/{id}/events`) is read with `fetch` rather than
//! `EventSource`, so the key travels in the `Authorization` header like every other call,
//! never in a URL (which would land in access logs and history).

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::path_id::PathId;

const LAYOUT: &str = include_str!("pages/layout.html");
const STYLE: &str = include_str!("pages/page.css");
const SCRIPT: &str = include_str!("pages/progress.js");
const BATCH_BODY: &str = include_str!("pages/batch.html");
const BATCHES_BODY: &str = include_str!("pages/batches.html");

/// Text made safe inside HTML text and double-quoted attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, kind: &str, batch: &str, body: &str) -> Response {
    let html = LAYOUT
        .replace("{{style}}", STYLE)
        .replace("{{script}}", SCRIPT)
        .replace("{{body}}", body)
        .replace("{{title}}", &escape(title))
        .replace("{{page}}", kind)
        .replace("{{batch}}", &escape(batch));
    let mut response = html.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // Everything the page needs is in it or under this origin.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; form-action 'none'; frame-ancestors 'none'",
        ),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[utoipa::path(get, path = "/batches", tag = "pages", operation_id = "batchesPage", summary = "The batches page (HTML)",
    responses((status = 200, content_type = "text/html", body = String, description = "Lists the client's batches (read from `GET /v1/refund-batches` in the browser)",
               headers(("content-security-policy" = String), ("cache-control" = String)))))]
pub async fn batches() -> Response {
    page("Refund batches", "batches", "", BATCHES_BODY)
}

#[utoipa::path(get, path = "/batches/{id}", tag = "pages", operation_id = "batchPage", summary = "A batch's live progress page (HTML)",
    params(("id" = String, Path)),
    responses((status = 200, content_type = "text/html", body = String, description = "Totals, amounts refunded per currency, items by status, rate against each instance's limit, time left, failures, a cancel button; live from `GET /v1/refund-batches/{id}/events`",
               headers(("content-security-policy" = String), ("cache-control" = String))),
              (status = 400, body = super::problem::Problem, content_type = "application/problem+json", description = "The id is not UTF-8"),
              (status = 404, body = super::problem::Problem, content_type = "application/problem+json", description = "The id holds a control character")))]
pub async fn batch(PathId(id): PathId) -> Response {
    page(&format!("Batch {id}"), "batch", &id, BATCH_BODY)
}
