//! `POST /v1/refund-batches` as a stream: `text/csv` (a header row naming canonical fields)
//! or `application/x-ndjson` (one create body per line). The body is read as it arrives and
//! each row becomes a canonical create body, checked and staged by the service
//! (`Refunds::begin_intake`), so memory stays bounded whatever the upload's size. Faults
//! name the line, the column (CSV) and the JSON pointer; the idempotency key is claimed once
//! the whole upload has been read and checked, with the SHA-256 of its bytes.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use futures_util::{AsyncBufReadExt, AsyncReadExt, TryStreamExt};
use sha2::{Digest, Sha256};

use super::answer::Answer;
use super::batch_columns::Columns;
use super::batches::{answer_stored, forbidden_first, parse_item};
use super::idempotency::{self, Claimed};
use super::problem::{self, ApiError};
use super::{AppState, Caller};
use crate::service::batch_intake::{Intake, Place};
use crate::service::batches::new_batch_id;
use crate::service::error::{FaultKind, FieldFault};
use crate::service::ServiceError;

/// Bytes an upload may hold per allowed item: a row is far smaller, this bounds the body.
const BYTES_PER_ITEM: usize = 1024;
/// The longest NDJSON line (one create body with its metadata).
const MAX_LINE_BYTES: usize = 64 * 1024;

/// How a batch's body is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Ndjson,
}

impl Format {
    /// The body's format by its `Content-Type`.
    pub fn of(headers: &HeaderMap) -> Result<Format, ApiError> {
        let essence = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "text/csv" => Ok(Format::Csv),
            "application/x-ndjson" | "application/jsonl" => Ok(Format::Ndjson),
            "application/json" => Ok(Format::Json),
            e if e.ends_with("+json") => Ok(Format::Json),
            _ => Err(ApiError::UnsupportedBatchType),
        }
    }
}

/// The body as bytes read on demand, hashed as they pass and cut off past `limit`.
fn reader(
    body: Body,
    limit: usize,
    hasher: Arc<Mutex<Sha256>>,
) -> impl futures_util::AsyncBufRead + Unpin + Send {
    let mut seen = 0usize;
    body.into_data_stream()
        .map_err(|e| std::io::Error::other(BrokenBody(e.to_string())))
        .and_then(move |bytes| {
            seen += bytes.len();
            let over = seen > limit;
            if !over {
                hasher.lock().expect("hasher").update(&bytes);
            }
            futures_util::future::ready(if over {
                Err(std::io::Error::other(OverLimit))
            } else {
                Ok(bytes)
            })
        })
        .into_async_read()
}

#[derive(Debug, thiserror::Error)]
#[error("the upload is larger than its limit")]
struct OverLimit;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct BrokenBody(String);

/// An I/O error reading the body as the API answers it.
fn read_error(error: &std::io::Error, limit: usize) -> ApiError {
    match error.get_ref() {
        Some(inner) if inner.is::<OverLimit>() => ApiError::PayloadTooLarge(limit),
        Some(inner) => ApiError::MalformedBody(inner.to_string()),
        None => ApiError::MalformedBody(error.to_string()),
    }
}

/// Why reading stopped early.
enum Stop {
    Api(ApiError),
    Service(ServiceError),
}

impl From<ServiceError> for Stop {
    fn from(e: ServiceError) -> Self {
        Stop::Service(e)
    }
}

/// Takes a CSV or NDJSON batch whole, or refuses it whole.
pub async fn create(
    state: Arc<AppState>,
    client: Caller,
    headers: HeaderMap,
    body: Body,
    format: Format,
) -> Result<Response, ApiError> {
    let key = idempotency::key(&headers, state.idempotency_required)?;
    let service = &state.service;
    let limit = state
        .body_limit
        .max(service.batches.max_items.saturating_mul(BYTES_PER_ITEM));
    let hasher = Arc::new(Mutex::new(Sha256::new_with_prefix(format!("{format:?}\n"))));
    let mut input = reader(body, limit, hasher.clone());
    let id = new_batch_id();
    let mut intake = service.begin_intake(&client, &id, key.as_deref()).await?;
    let read = match format {
        Format::Csv => read_csv(&mut input, &mut intake, limit).await,
        Format::Ndjson => read_ndjson(&mut input, &mut intake, limit).await,
        Format::Json => unreachable!("JSON batches are read whole by batches::create"),
    };
    if let Err(stop) = read {
        intake.abandon().await;
        // Read what is left (up to the limit, kept nowhere) so the client, still sending,
        // gets the answer rather than a reset connection.
        let mut sink = [0u8; 16 * 1024];
        while matches!(input.read(&mut sink).await, Ok(n) if n > 0) {}
        return Err(match stop {
            Stop::Api(e) => e,
            Stop::Service(e) => e.into(),
        });
    }
    // An item naming an instance the client may not use makes the whole upload 403, as
    // for a JSON batch.
    let count = intake.finish().await.map_err(forbidden_first)?;
    let hash = hex::encode(hasher.lock().expect("hasher").clone().finalize());
    if let Some(key) = key.as_deref() {
        let claimed = idempotency::claim(service, &client, key, &hash, &id).await;
        let replay = match claimed {
            Err(e) => Some(Err(e)),
            Ok(Claimed::Fresh) => None,
            Ok(Claimed::Replayed(answer)) => Some(Ok(answer.into_response())),
            Ok(Claimed::TakenOver(previous)) => match previous {
                // The previous holder opened its batch before it died: that one stands.
                Some(previous) if service.has_batch(&client, &previous).await? => {
                    let report = service.batch(&client, &previous).await?;
                    let answer = Answer::json(problem::created(false), &report);
                    idempotency::store(service, &client, key, &answer).await;
                    Some(Ok(answer.into_response()))
                }
                _ => None,
            },
        };
        if let Some(answer) = replay {
            service.drop_intake(&id).await?;
            return answer;
        }
    }
    let opened = service.open_batch(&client, &id, count).await;
    answer_stored(service, &client, key.as_deref(), opened).await
}

/// A fault of a whole line (it could not be read as a row at all).
fn line_fault(
    index: usize,
    line: u64,
    column: Option<String>,
    kind: FaultKind,
    detail: String,
) -> FieldFault {
    FieldFault {
        pointer: format!("/items/{index}"),
        kind,
        detail,
        line: Some(line),
        column,
    }
}

async fn read_csv(
    input: &mut (impl futures_util::AsyncBufRead + Unpin + Send),
    intake: &mut Intake<'_>,
    limit: usize,
) -> Result<(), Stop> {
    let mut reader = csv_async::AsyncReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .create_reader(input);
    let header = match reader.headers().await {
        Ok(header) => header.clone(),
        Err(e) => return Err(Stop::Api(csv_error(&e, limit))),
    };
    let columns = Columns::from_header(&header).map_err(|fault| {
        Stop::Service(ServiceError::InvalidItems {
            faults: vec![fault],
            total: 1,
        })
    })?;
    let column_of = |pointer: &str| columns.column_of(pointer);
    let mut record = csv_async::StringRecord::new();
    loop {
        let index = intake.next_index();
        let read = reader.read_record(&mut record).await;
        let line = record.position().map_or(0, |p| p.line());
        let item = match read {
            Ok(false) => break,
            Ok(true) => columns
                .item(&record)
                .map_err(|(column, detail)| {
                    let pointer = column.pointer();
                    FieldFault {
                        pointer: format!("/items/{index}{pointer}"),
                        kind: FaultKind::Invalid,
                        detail,
                        line: Some(line),
                        column: Some(column.name()),
                    }
                })
                .and_then(|value| parse_item(index, &value)),
            Err(e) => match e.kind() {
                csv_async::ErrorKind::UnequalLengths {
                    pos,
                    expected_len,
                    len,
                } => Err(line_fault(
                    index,
                    pos.as_ref().map_or(line, |p| p.line()),
                    None,
                    FaultKind::MalformedRow,
                    format!("the header names {expected_len} columns; this row has {len}"),
                )),
                csv_async::ErrorKind::Utf8 { pos, err } => Err(line_fault(
                    index,
                    pos.as_ref().map_or(line, |p| p.line()),
                    Some(header.get(err.field()).unwrap_or_default().to_string()),
                    FaultKind::MalformedRow,
                    "the row is not UTF-8 text".into(),
                )),
                _ => return Err(Stop::Api(csv_error(&e, limit))),
            },
        };
        let line = item.as_ref().err().and_then(|f| f.line).unwrap_or(line);
        intake
            .push(
                item,
                Place {
                    line,
                    column_of: &column_of,
                },
            )
            .await?;
    }
    Ok(())
}

/// A CSV error that ends the reading: the body broke off or grew past its limit.
fn csv_error(error: &csv_async::Error, limit: usize) -> ApiError {
    match error.kind() {
        csv_async::ErrorKind::Io(io) => read_error(io, limit),
        other => ApiError::MalformedBody(format!("{other:?}")),
    }
}

async fn read_ndjson(
    input: &mut (impl futures_util::AsyncBufRead + Unpin + Send),
    intake: &mut Intake<'_>,
    limit: usize,
) -> Result<(), Stop> {
    let no_columns = |_: &str| None;
    let mut buf = Vec::with_capacity(4096);
    let mut line: u64 = 0;
    loop {
        buf.clear();
        let read = (&mut *input)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut buf)
            .await
            .map_err(|e| Stop::Api(read_error(&e, limit)))?;
        if read == 0 {
            break;
        }
        line += 1;
        let index = intake.next_index();
        let item = if buf.len() > MAX_LINE_BYTES && !buf.ends_with(b"\n") {
            // The rest of the overlong line is skipped, so the next line is read as one.
            loop {
                buf.clear();
                let n = (&mut *input)
                    .take(MAX_LINE_BYTES as u64)
                    .read_until(b'\n', &mut buf)
                    .await
                    .map_err(|e| Stop::Api(read_error(&e, limit)))?;
                if n == 0 || buf.ends_with(b"\n") {
                    break;
                }
            }
            Err(line_fault(
                index,
                line,
                None,
                FaultKind::MalformedJson,
                format!("a line holds at most {MAX_LINE_BYTES} bytes"),
            ))
        } else {
            let text = buf.trim_ascii();
            if text.is_empty() {
                continue;
            }
            ndjson_item(index, line, text)
        };
        intake
            .push(
                item,
                Place {
                    line,
                    column_of: &no_columns,
                },
            )
            .await?;
    }
    Ok(())
}

/// One NDJSON line as a create body, read as strictly as a JSON body.
fn ndjson_item(
    index: usize,
    line: u64,
    text: &[u8],
) -> Result<crate::service::create::NewRefund, FieldFault> {
    let json = super::strict_json::parse(text).map_err(|fault| {
        if fault.syntax {
            let column = serde_json::from_slice::<serde::de::IgnoredAny>(text)
                .err()
                .map(|e| e.column().to_string());
            line_fault(index, line, column, FaultKind::MalformedJson, fault.message)
        } else {
            FieldFault {
                pointer: format!("/items/{index}{}", fault.pointer),
                kind: FaultKind::Invalid,
                detail: fault.message,
                line: Some(line),
                column: None,
            }
        }
    })?;
    if !json.is_object() {
        return Err(line_fault(
            index,
            line,
            None,
            FaultKind::Invalid,
            "each line must be a JSON object (a create body)".into(),
        ));
    }
    super::strict_json::require_objects(&json, &["/target", "/amount"]).map_err(
        |(pointer, message)| FieldFault {
            pointer: format!("/items/{index}{pointer}"),
            kind: FaultKind::Invalid,
            detail: message,
            line: Some(line),
            column: None,
        },
    )?;
    parse_item(index, &json)
}
