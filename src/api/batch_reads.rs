//! Reading batches beyond one report: a client's batches page by page, a batch's items
//! exported as CSV for the promoter's accounting (streamed page by page from the ledger),
//! and a batch's progress as server-sent events, read from the ledger each second so every
//! gateway sharing it shows the same numbers.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Extension, RawQuery, State};
use axum::http::{header, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::path_id::PathId;
use super::problem::{ApiError, Problem};
use super::query::Params;
use super::{AppState, Caller};
use crate::service::batch_progress::{BatchProgress, BatchSummary, ExportItem};
use crate::service::report::BatchStatus;

/// Items per ledger read while exporting.
const EXPORT_PAGE: i64 = 1000;
/// How often a progress stream reads the ledger.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);
/// A progress stream ends after this long (the page reconnects): shorter than the
/// server's idle timeout, which counts only what the client sends.
const STREAM_FOR: Duration = Duration::from_secs(45);

/// The export's columns.
const EXPORT_HEADER: [&str; 14] = [
    "seq",
    "provider",
    "order",
    "payment",
    "ticket",
    "venue",
    "booking",
    "event",
    "refund_id",
    "amount",
    "currency",
    "status",
    "vendor_reference",
    "failure_reason",
];

#[derive(Serialize, ToSchema)]
pub struct BatchPage {
    pub data: Vec<BatchSummary>,
    pub has_more: bool,
}

#[utoipa::path(get, path = "/v1/refund-batches", tag = "batches", operation_id = "listRefundBatches", summary = "List refund batches",
    params(("status" = Option<String>, Query, description = "`open`, `done` or `canceled`"),
           ("limit" = Option<i64>, Query, description = "1 to 100 (default 20)"),
           ("starting_after" = Option<String>, Query, description = "The last `id` of the previous page")),
    responses((status = 200, body = BatchPage, description = "The client's batches, newest first"),
              (status = 400, body = Problem, content_type = "application/problem+json", description = "A query parameter is invalid")))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Extension(client): Extension<Caller>,
    RawQuery(query): RawQuery,
) -> Result<Json<BatchPage>, ApiError> {
    let params = Params::parse(query.as_deref(), &["status", "limit", "starting_after"])?;
    let status = params.parsed(
        "status",
        |v| {
            ["open", "done", "canceled"]
                .contains(&v)
                .then(|| v.to_string())
        },
        "`open`, `done` or `canceled`",
    )?;
    let limit = params
        .parsed(
            "limit",
            |v| v.parse::<i64>().ok().filter(|n| (1..=100).contains(n)),
            "a number from 1 to 100",
        )?
        .unwrap_or(20);
    let after = params.parsed(
        "starting_after",
        |v| {
            (v.starts_with("rb_") && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                .then(|| v.to_string())
        },
        "a batch id",
    )?;
    let (data, has_more) = state
        .service
        .list_batches(&client, status.as_deref(), after.as_deref(), limit)
        .await?;
    Ok(Json(BatchPage { data, has_more }))
}

/// A cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, or a tab or carriage
/// return before one) starts with `'` instead, so opening the export cannot run text that
/// a client or a vendor wrote (OWASP's "CSV injection"). The gateway's own cells (numbers,
/// ids, statuses) never start so and are left as they are.
fn inert(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

fn export_row(item: &ExportItem) -> Vec<String> {
    let target = &item.request["target"];
    let text = |field: &str| inert(target[field].as_str().unwrap_or_default().to_string());
    let list = |field: &str| {
        target[field]
            .as_array()
            .map(|ids| {
                ids.iter()
                    .filter_map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .map(inert)
            .unwrap_or_default()
    };
    let (amount, currency) = item.amount.clone().unwrap_or_default();
    vec![
        item.seq.to_string(),
        item.provider.clone(),
        text("order"),
        list("payments"),
        list("tickets"),
        text("venue"),
        text("booking"),
        text("event"),
        item.refund_id.clone().unwrap_or_default(),
        amount,
        currency,
        item.status.clone(),
        inert(item.vendor_reference.clone().unwrap_or_default()),
        inert(item.failure_reason.clone().unwrap_or_default()),
    ]
}

/// Rows as CSV text.
async fn csv_text(rows: impl IntoIterator<Item = Vec<String>>) -> std::io::Result<Bytes> {
    let mut writer = csv_async::AsyncWriter::from_writer(Vec::new());
    for row in rows {
        writer.write_record(&row).await?;
    }
    let bytes = writer
        .into_inner()
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(Bytes::from(bytes))
}

#[utoipa::path(get, path = "/v1/refund-batches/{id}/items.csv", tag = "batches", operation_id = "exportRefundBatchItems", summary = "Export a refund batch's items as CSV",
    params(("id" = String, Path)),
    responses((status = 200, content_type = "text/csv", body = String,
               description = "Every item: seq, provider, target (order, payment, ticket, venue, booking, event), refund_id, amount, currency, status, vendor_reference, failure_reason. A text cell a spreadsheet would read as a formula (starting with =, +, -, @, tab or CR) starts with ' instead",
               headers(("content-disposition" = String, description = "attachment; filename=\"<id>-items.csv\""))),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn items_csv(
    State(state): State<Arc<AppState>>,
    Extension(client): Extension<Caller>,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    // The first page is read before answering: a batch that is not the client's is a 404,
    // not an empty file.
    let first = state
        .service
        .export_items(&client, &id, -1, EXPORT_PAGE)
        .await?;
    let stream = futures_util::stream::unfold(
        (Some(first), true, state, client, id.clone()),
        |(page, first_page, state, client, id)| async move {
            let page = match page {
                Some(page) => page,
                None => return None,
            };
            let last = page.last().map(|item| item.seq);
            let mut rows: Vec<Vec<String>> = Vec::with_capacity(page.len() + 1);
            if first_page {
                rows.push(EXPORT_HEADER.iter().map(|h| h.to_string()).collect());
            }
            rows.extend(page.iter().map(export_row));
            let chunk = csv_text(rows).await;
            let next = match last {
                Some(seq) if page.len() as i64 == EXPORT_PAGE => {
                    match state
                        .service
                        .export_items(&client, &id, seq, EXPORT_PAGE)
                        .await
                    {
                        Ok(next) => Some(next),
                        Err(e) => {
                            tracing::error!(error = %e, batch = %id, "export cut short: the ledger failed");
                            return Some((
                                Err(std::io::Error::other("the ledger failed")),
                                (None, false, state, client, id),
                            ));
                        }
                    }
                }
                _ => None,
            };
            Some((chunk, (next, false, state, client, id)))
        },
    );
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{id}-items.csv\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[utoipa::path(get, path = "/v1/refund-batches/{id}/events", tag = "batches", operation_id = "streamRefundBatchEvents", summary = "A refund batch's progress as server-sent events",
    params(("id" = String, Path)),
    responses((status = 200, content_type = "text/event-stream", body = BatchProgress,
               description = "`progress` events (data: the batch's progress as JSON) whenever it changes, read from the ledger each second; the stream ends when the batch is no longer open (after a last event) or after 45 s (reconnect)"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn events(
    State(state): State<Arc<AppState>>,
    Extension(client): Extension<Caller>,
    PathId(id): PathId,
) -> Result<Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let first = state.service.batch_progress(&client, &id).await?;
    let started = Instant::now();
    let stream = futures_util::stream::unfold(
        (Some(first), String::new(), false, state, client, id),
        move |(ready, last, ended, state, client, id)| async move {
            if ended {
                return None;
            }
            let mut progress = ready;
            loop {
                if progress.is_none() {
                    if started.elapsed() >= STREAM_FOR {
                        return None;
                    }
                    tokio::time::sleep(PROGRESS_EVERY).await;
                    match state.service.batch_progress(&client, &id).await {
                        Ok(p) => progress = Some(p),
                        Err(e) => {
                            tracing::warn!(error = %e, batch = %id, "progress stream ended: the ledger failed");
                            return None;
                        }
                    }
                }
                let current = progress.take().expect("read above");
                let json = serde_json::to_string(&current).unwrap_or_default();
                let finished = current.report.status != BatchStatus::Open;
                // Only changes are sent (rates change as items finish, so a working
                // batch sends each second); keep-alive comments fill the quiet.
                if json != last || finished {
                    let event = Event::default().event("progress").data(json.clone());
                    return Some((Ok(event), (None, json, finished, state, client, id)));
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
