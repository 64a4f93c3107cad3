//! A local stand-in for Stubbur: `POST /refund/process` and `POST /auth/credentials` on
//! an in-memory event seeded from `fixtures/stubbur/refund-event-mixed.json`, with Stubbur's
//! auth rules and ServiceStack's error shapes. Refunds change its state, so a second refund
//! of the same orders comes back `Skipped`, as Stubbur reports it.

use std::collections::BTreeSet;
use std::sync::Mutex;

use refund_provider::fixture::Exchange;
use refund_provider::http::{HeaderValue, Method};
use refund_provider::rust_decimal::Decimal;
use refund_provider::sandbox::json_response;
use refund_provider::{Sandbox, SandboxRequest, VendorResponse};
use serde_json::json;

use crate::wire::{LoginRequest, RefundRequestWire, RefundResult, LOGIN_PATH, REFUND_PATH};

mod ledger;
#[cfg(test)]
mod tests;

use ledger::{Ledger, Order, Refusal, Ticket};

/// The static bearer token a sandbox instance sends (and the sandbox accepts).
pub const SANDBOX_TOKEN: &str = "stubbur-sandbox-token";
/// The one user of the sandbox's credentials login.
pub const SANDBOX_USERNAME: &str = "refund-bot@example.invalid";
pub const SANDBOX_PASSWORD: &str = "stubbur-sandbox-password";

const SEED: &str = include_str!("../../../fixtures/stubbur/refund-event-mixed.json");

pub struct StubburSandbox {
    state: Mutex<State>,
}

struct State {
    ledger: Ledger,
    /// Live `ss-id` session ids issued by the login.
    sessions: BTreeSet<String>,
    logins: u64,
}

impl StubburSandbox {
    /// The sandbox with the recorded event: from each outcome of the fixture, its order
    /// and tickets. `Refunded` outcomes give ticket prices (the amount split evenly over
    /// the tickets, the rest on the first); the `Skipped` order starts refunded; the
    /// `Failed` order's card refund is always declined.
    pub fn seeded() -> Self {
        let exchange = Exchange::parse("stubbur/refund-event-mixed.json", SEED);
        let result: RefundResult =
            serde_json::from_value(exchange.response_body().clone()).unwrap_or_default();
        let orders = result
            .outcomes
            .unwrap_or_default()
            .into_iter()
            .map(|o| {
                let status = o.status.as_deref().unwrap_or("").to_ascii_lowercase();
                let tokens = o.ticket_token_ids.unwrap_or_default();
                let seats = o.freed_seat_ids.unwrap_or_default();
                let amount = o.amount_refunded.unwrap_or_default();
                let count = Decimal::from(tokens.len().max(1));
                let each = (amount / count).trunc();
                let rest = amount - each * count;
                let tickets = tokens
                    .into_iter()
                    .enumerate()
                    .map(|(i, token)| Ticket {
                        token,
                        price: if i == 0 { each + rest } else { each },
                        seat: seats.get(i).copied(),
                        refunded: status == "skipped",
                    })
                    .collect();
                Order {
                    payment_reference: o.payment_reference.unwrap_or_default(),
                    payment_id: o.payment_id.unwrap_or_default(),
                    event_id: o.event_id.unwrap_or_default(),
                    event_name: o.event_name.unwrap_or_default(),
                    tickets,
                    card_fails: status == "failed",
                }
            })
            .collect();
        StubburSandbox {
            state: Mutex::new(State {
                ledger: Ledger {
                    orders,
                    next_txn: 0,
                },
                sessions: BTreeSet::new(),
                logins: 0,
            }),
        }
    }

    /// Ends every login session, as a session expiry at Stubbur would (for tests of the
    /// provider's renewal on 401).
    pub fn expire_sessions(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.sessions.clear();
        }
    }

    fn login(&self, state: &mut State, request: &SandboxRequest) -> VendorResponse {
        let Ok(body) = serde_json::from_slice::<LoginRequest>(&request.body) else {
            return ss_error(
                400,
                "SerializationException",
                "Could not read the request body",
                None,
            );
        };
        if body.user_name != SANDBOX_USERNAME || body.password != SANDBOX_PASSWORD {
            return ss_error(401, "Unauthorized", "Invalid UserName or Password", None);
        }
        state.logins += 1;
        let session = format!("sbxsess{:08}", state.logins);
        state.sessions.insert(session.clone());
        let mut response = json_response(
            200,
            &json!({"sessionId": session, "userName": SANDBOX_USERNAME, "responseStatus": {}}),
        );
        for cookie in [
            format!("ss-id={session}; path=/; samesite=strict; httponly"),
            format!(
                "ss-pid=sbxperm{:08}; path=/; samesite=strict; httponly",
                state.logins
            ),
        ] {
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                response.headers.append("set-cookie", v);
            }
        }
        response
    }

    fn authenticated(state: &State, request: &SandboxRequest) -> bool {
        let bearer = request.header("authorization") == Some(&format!("Bearer {SANDBOX_TOKEN}"));
        let session = request.header("cookie").is_some_and(|cookies| {
            cookies.split(';').any(|c| {
                c.trim()
                    .strip_prefix("ss-id=")
                    .is_some_and(|id| state.sessions.contains(id))
            })
        });
        bearer || session
    }

    fn refund(state: &mut State, request: &SandboxRequest) -> VendorResponse {
        if !Self::authenticated(state, request) {
            return ss_error(401, "Unauthorized", "Not Authenticated", None);
        }
        let Ok(body) = serde_json::from_slice::<RefundRequestWire>(&request.body) else {
            return ss_error(
                400,
                "SerializationException",
                "Could not read the request body",
                None,
            );
        };
        match state.ledger.process(&body) {
            Ok(result) => json_response(200, &serde_json::to_value(&result).unwrap_or_default()),
            Err(Refusal::BadArgument { field, message }) => {
                ss_error(400, "ArgumentException", &message, Some(field))
            }
            Err(Refusal::EventNotFound(id)) => {
                ss_error(404, "NotFound", &format!("Event {id} not found"), None)
            }
        }
    }
}

impl Sandbox for StubburSandbox {
    fn handle(&self, request: &SandboxRequest) -> VendorResponse {
        let Ok(mut state) = self.state.lock() else {
            return ss_error(500, "Exception", "sandbox state is poisoned", None);
        };
        let path = request.path.trim_end_matches('/');
        match (path, &request.method) {
            (LOGIN_PATH, &Method::POST) => self.login(&mut state, request),
            (REFUND_PATH, &Method::POST) => Self::refund(&mut state, request),
            (LOGIN_PATH | REFUND_PATH, method) => ss_error(
                405,
                "MethodNotAllowed",
                &format!("Could not find method named {method} on this route"),
                None,
            ),
            _ => ss_error(
                404,
                "NotFound",
                &format!("Handler for Request not found: {}", request.path),
                None,
            ),
        }
    }
}

/// ServiceStack's error body, with an optional field error.
fn ss_error(status: u16, code: &str, message: &str, field: Option<&str>) -> VendorResponse {
    let errors = match field {
        Some(field) => json!([{"errorCode": "Invalid", "fieldName": field, "message": message}]),
        None => json!([]),
    };
    json_response(
        status,
        &json!({"responseStatus": {"errorCode": code, "message": message, "errors": errors}}),
    )
}
