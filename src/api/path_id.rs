//! The `{id}` of a route, read so that every bad id gets a problem+json answer: one that
//! is not valid UTF-8 once percent-decoded is a 400 naming the parameter (axum's own
//! rejection is plain text), and one holding a control character is simply not found
//! (it is never looked up, so it never reaches the database).

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use super::problem::ApiError;

pub struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) if id.chars().any(char::is_control) => Err(ApiError::NotFound(
                "no such id: ids never contain control characters".into(),
            )),
            Ok(Path(id)) => Ok(PathId(id)),
            Err(rejection) => Err(ApiError::parameter("id", rejection.body_text())),
        }
    }
}
