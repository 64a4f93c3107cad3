//! Reading a JSON request body: content type, size limit, syntax, and shape, each with its
//! own problem. Shape errors carry a JSON pointer to the field at fault (via
//! serde_path_to_error), including the field a "missing field" or "unknown field" names.

use axum::body::Body;
use axum::http::{header, HeaderMap};
use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

use super::problem::ApiError;

/// The body as `T`, and as plain JSON (for hashing the request, e.g. for idempotency).
pub async fn read_json<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
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
        .map_err(|_| ApiError::PayloadTooLarge(limit))?;
    if bytes.is_empty() {
        return Err(ApiError::MalformedJson("the body is empty".into()));
    }
    // Syntax first, so broken JSON is never reported as a shape error.
    let json: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let typed = serde_path_to_error::deserialize(&json).map_err(|e| {
        let message = e.inner().to_string();
        ApiError::field(pointer_of(e.path(), &message), strip_position(&message))
    })?;
    Ok((typed, json))
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
    for prefix in ["missing field `", "unknown field `"] {
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
