//! Reading a JSON request body: content type, size limit, syntax, and shape, each with its
//! own problem. Shape errors carry a JSON pointer to the field at fault (via
//! serde_path_to_error), including the field a "missing field" or "unknown field" names.

use axum::body::Body;
use axum::http::{header, HeaderMap};
use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

use super::problem::ApiError;
use super::strict_json;

/// The body as `T`, and as plain JSON (for hashing the request, e.g. for idempotency).
/// The document must be an object, and so must every place `objects` names (JSON
/// pointers, `*` for every array index): the places `T` reads as structs.
pub async fn read_json<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    objects: &[&str],
) -> Result<(T, serde_json::Value), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence != "application/json" && !essence.ends_with("+json") {
        return Err(ApiError::UnsupportedMediaType);
    }
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|e| body_error(e, limit))?;
    if bytes.is_empty() {
        return Err(ApiError::MalformedJson("the body is empty".into()));
    }
    // Syntax first, so broken JSON is never reported as a shape error; then what JSON
    // allows and we do not (a key twice, control characters in text).
    let json = strict_json::parse(&bytes).map_err(|fault| {
        if fault.syntax {
            ApiError::MalformedJson(fault.message)
        } else {
            ApiError::field(fault.pointer, fault.message)
        }
    })?;
    if !json.is_object() {
        return Err(ApiError::field("", "the body must be a JSON object"));
    }
    strict_json::require_objects(&json, objects)
        .map_err(|(pointer, message)| ApiError::field(pointer, message))?;
    let typed = serde_path_to_error::deserialize(&json).map_err(|e| {
        let message = e.inner().to_string();
        ApiError::field(pointer_of(e.path(), &message), strip_position(&message))
    })?;
    Ok((typed, json))
}

/// A body that could not be read: over the limit (413), or broken in transit, such as a
/// malformed chunked encoding (400).
fn body_error(error: axum::Error, limit: usize) -> ApiError {
    let inner = error.into_inner();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(inner.as_ref());
    while let Some(e) = cause {
        if e.is::<http_body_util::LengthLimitError>() {
            return ApiError::PayloadTooLarge(limit);
        }
        cause = e.source();
    }
    ApiError::MalformedBody(inner.to_string())
}

/// RFC 6901 pointer of a serde path, extended by the field a message names.
pub fn pointer_of(path: &serde_path_to_error::Path, message: &str) -> String {
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } => pointer.push_str(&format!("/{}", escape(key))),
            Segment::Enum { variant } => pointer.push_str(&format!("/{}", escape(variant))),
            Segment::Unknown => {}
        }
    }
    for prefix in ["missing field `", "unknown field `", "duplicate key `"] {
        if let Some(rest) = message.strip_prefix(prefix) {
            if let Some(field) = rest.split('`').next() {
                if !pointer.ends_with(&format!("/{}", escape(field))) {
                    pointer.push_str(&format!("/{}", escape(field)));
                }
            }
        }
    }
    pointer
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// serde_json appends " at line 1 column 42"; the pointer says where, more usefully.
pub fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}
