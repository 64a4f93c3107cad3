//! A final answer to a create (a refund or a batch), as sent and as stored for idempotent
//! replays: the status and the rendered body.

use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::problem::{problem_response, ApiError};

pub struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
    pub replayed: bool,
}

impl Answer {
    pub fn is_problem(&self) -> bool {
        self.status.as_u16() >= 400
    }

    pub fn of_error(error: &ApiError) -> Answer {
        let (status, body) = error.to_parts();
        Answer {
            status,
            body,
            replayed: false,
        }
    }

    pub fn json(status: StatusCode, value: &impl Serialize) -> Answer {
        Answer {
            status,
            body: serde_json::to_vec(value).unwrap_or_default(),
            replayed: false,
        }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let replayed = self.replayed;
        let mut response = if self.is_problem() {
            problem_response(self.status, self.body)
        } else {
            let mut r = (self.status, self.body).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        };
        if replayed {
            response.headers_mut().insert(
                HeaderName::from_static("idempotent-replayed"),
                HeaderValue::from_static("true"),
            );
        }
        response
    }
}
