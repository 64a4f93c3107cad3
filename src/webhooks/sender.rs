//! One webhook request: the event's JSON, signed, POSTed to the endpoint's URL only (no
//! redirect is followed, so a receiver cannot send events elsewhere), within a timeout.

use std::time::Duration;

use crate::service::events::Event;

use super::Endpoint;

/// What the receiver made of one request.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// 2xx.
    Accepted(u16),
    /// 410: the endpoint is gone; nothing more is sent to it.
    Gone(u16),
    /// Any other status, or no answer (`status` is `None`): try again later.
    Refused { status: Option<u16>, error: String },
}

/// The HTTP client every delivery uses: no redirects, one timeout per request.
pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!(
            "refund-gateway-webhooks/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// Sends `event` to `endpoint`. The message id is the event's id, the same on every
/// retry, so a receiver can tell a repeat.
pub async fn send(http: &reqwest::Client, endpoint: &Endpoint, event: &Event) -> Outcome {
    let body = match serde_json::to_vec(event) {
        Ok(body) => body,
        Err(e) => {
            return Outcome::Refused {
                status: None,
                error: format!("the event could not be rendered: {e}"),
            }
        }
    };
    let timestamp = chrono::Utc::now().timestamp();
    let signature = match endpoint.signer.sign(&event.id, timestamp, &body) {
        Ok(s) => s,
        Err(error) => {
            return Outcome::Refused {
                status: None,
                error,
            }
        }
    };
    let sent = http
        .post(endpoint.url.clone())
        .header("content-type", "application/json")
        .header("webhook-id", &event.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) => {
            let status = response.status().as_u16();
            match status {
                200..=299 => Outcome::Accepted(status),
                410 => Outcome::Gone(status),
                300..=399 => Outcome::Refused {
                    status: Some(status),
                    error: "the receiver answered a redirect, which is not followed".into(),
                },
                _ => Outcome::Refused {
                    status: Some(status),
                    error: format!("the receiver answered HTTP {status}"),
                },
            }
        }
        Err(e) => Outcome::Refused {
            status: None,
            error: if e.is_timeout() {
                "the receiver did not answer in time".into()
            } else if e.is_connect() {
                "the receiver could not be reached".into()
            } else {
                "the request to the receiver failed".into()
            },
        },
    }
}
