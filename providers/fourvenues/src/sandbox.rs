//! A local, stateful stand-in for the Fourvenues Channel Manager API, for `sandbox = true`
//! instances: seeded with the recorded fixture tickets, it checks `X-Api-Key`, serves
//! `GET /auth` and `GET /tickets/{id}`, applies `PUT /tickets/{id}/refund`, and refuses a
//! refund beyond `total_price - refunded` with a vendor-style 400. For bulk demos and load
//! tests, any ticket id starting with `bulk-` exists too: a fresh copy of the never-refunded
//! seed ticket, made on first use.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Mutex;

use refund_provider::chrono::Utc;
use refund_provider::fixture::Exchange;
use refund_provider::http::Method;
use refund_provider::rust_decimal::Decimal;
use refund_provider::sandbox::json_response;
use refund_provider::{Sandbox, SandboxRequest, VendorResponse};
use serde_json::{json, Value};

/// The API key a sandbox instance sends and the sandbox accepts. Not a secret.
pub const SANDBOX_API_KEY: &str = "fourvenues-sandbox-key";

/// The channel the sandbox key belongs to (the doc example's channel id).
const SANDBOX_CHANNEL: &str = "5f8d0f8b9d2b3b0017b6d8a0";

/// The recorded tickets the sandbox starts with: one never refunded (16.1 EUR, so only an
/// explicit whole amount can be refunded), one partly refunded (6 of 16 EUR).
const SEEDS: [(&str, &str); 2] = [
    (
        "get-ticket-unrefunded",
        include_str!("../../../fixtures/fourvenues/get-ticket-unrefunded.json"),
    ),
    (
        "get-ticket-partly-refunded",
        include_str!("../../../fixtures/fourvenues/get-ticket-partly-refunded.json"),
    ),
];

/// Ticket ids with this prefix are made on first use from the never-refunded seed.
pub const BULK_TICKET_PREFIX: &str = "bulk-";

pub struct FourvenuesSandbox {
    tickets: Mutex<BTreeMap<String, Value>>,
    /// The never-refunded seed ticket, the template of `bulk-` tickets.
    template: Option<Value>,
}

impl FourvenuesSandbox {
    pub fn seeded() -> Self {
        let tickets = SEEDS
            .iter()
            .filter_map(|(name, text)| {
                let ticket = Exchange::parse(name, text).response_body()["data"].clone();
                let id = ticket["_id"].as_str()?.to_string();
                Some((id, ticket))
            })
            .collect();
        let template = Exchange::parse(SEEDS[0].0, SEEDS[0].1).response_body()["data"].clone();
        FourvenuesSandbox {
            tickets: Mutex::new(tickets),
            template: Some(template).filter(Value::is_object),
        }
    }

    /// The tickets, with `id` made from the template first when it is a `bulk-` id.
    fn tickets_with(&self, id: &str) -> std::sync::MutexGuard<'_, BTreeMap<String, Value>> {
        let mut tickets = self.tickets();
        if let (true, Some(template)) = (id.starts_with(BULK_TICKET_PREFIX), &self.template) {
            tickets.entry(id.to_string()).or_insert_with(|| {
                let mut ticket = template.clone();
                ticket["_id"] = json!(id);
                ticket
            });
        }
        tickets
    }

    fn tickets(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Value>> {
        self.tickets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn ticket(&self, id: &str) -> VendorResponse {
        match self.tickets_with(id).get(id) {
            Some(ticket) => ok(ticket.clone()),
            None => error(404, "Ticket not found"),
        }
    }

    fn refund(&self, id: &str, body: &[u8]) -> VendorResponse {
        let amount = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|b| b.get("amount").and_then(Value::as_i64));
        let amount = match amount {
            Some(a) if a > 0 => Decimal::from(a),
            _ => return error(400, "amount must be a positive integer"),
        };
        let mut tickets = self.tickets_with(id);
        let Some(ticket) = tickets.get_mut(id) else {
            return error(404, "Ticket not found");
        };
        let total = decimal(&ticket["total_price"]);
        let refunded = decimal(&ticket["refunded"]);
        if amount > total - refunded {
            return error(
                400,
                "The amount to refund exceeds the refundable amount of the ticket",
            );
        }
        let now = Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        ticket["refunded"] = number(refunded + amount);
        ticket["refunded_at"] = json!(now);
        let entry = json!({"channel_id": SANDBOX_CHANNEL, "amount": number(amount), "at": now});
        match ticket["refunds"].as_array_mut() {
            Some(refunds) => refunds.push(entry),
            None => ticket["refunds"] = json!([entry]),
        }
        ok(ticket.clone())
    }
}

impl Sandbox for FourvenuesSandbox {
    fn handle(&self, request: &SandboxRequest) -> VendorResponse {
        if request.header("x-api-key") != Some(SANDBOX_API_KEY) {
            return error(401, "Unauthorized");
        }
        let segments: Vec<&str> = request.path.trim_matches('/').split('/').collect();
        match (&request.method, segments.as_slice()) {
            (&Method::GET, ["auth"]) => json_response(
                200,
                &json!({"success": true, "data": {"message": "Authed", "channel": {"_id": SANDBOX_CHANNEL}}}),
            ),
            (&Method::GET, ["tickets", id]) => self.ticket(id),
            (&Method::PUT, ["tickets", id, "refund"]) => self.refund(id, &request.body),
            _ => error(404, "Not found"),
        }
    }
}

fn ok(ticket: Value) -> VendorResponse {
    json_response(200, &json!({"data": ticket, "success": true}))
}

fn error(status: u16, message: &str) -> VendorResponse {
    json_response(status, &json!({"success": false, "message": message}))
}

/// A JSON number as an exact decimal (0 when absent or unreadable).
fn decimal(value: &Value) -> Decimal {
    serde_json::from_value(value.clone()).unwrap_or(Decimal::ZERO)
}

fn number(value: Decimal) -> Value {
    serde_json::Number::from_str(&value.normalize().to_string())
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use refund_provider::http::HeaderMap;

    const A: &str = "5f8d0f8b9d2b3b0017b6d8a0";
    const B: &str = "5f8d0f8b9d2b3b0017b6d8b1";

    fn call(sandbox: &FourvenuesSandbox, method: Method, path: &str, body: &str) -> (u16, Value) {
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", SANDBOX_API_KEY.parse().unwrap());
        let response = sandbox.handle(&SandboxRequest {
            method,
            path: path.to_string(),
            query: None,
            headers,
            body: body.to_string().into_bytes().into(),
        });
        (
            response.status,
            serde_json::from_slice(&response.body).unwrap(),
        )
    }

    #[test]
    fn bulk_tickets_exist_on_first_use_and_keep_their_state() {
        let sandbox = FourvenuesSandbox::seeded();
        let (status, body) = call(&sandbox, Method::GET, "/tickets/bulk-17", "");
        assert_eq!(
            (status, body["data"]["_id"].as_str()),
            (200, Some("bulk-17"))
        );
        assert_eq!(body["data"]["refunded"], 0);
        let (status, _) = call(
            &sandbox,
            Method::PUT,
            "/tickets/bulk-17/refund",
            r#"{"amount": 16}"#,
        );
        assert_eq!(status, 200);
        let (status, _) = call(
            &sandbox,
            Method::PUT,
            "/tickets/bulk-17/refund",
            r#"{"amount": 1}"#,
        );
        assert_eq!(status, 400, "only 0.1 left");
        let (status, _) = call(&sandbox, Method::GET, "/tickets/other-17", "");
        assert_eq!(status, 404, "only the bulk- prefix is made up");
    }

    #[test]
    fn checks_the_api_key() {
        let sandbox = FourvenuesSandbox::seeded();
        let response = sandbox.handle(&SandboxRequest {
            method: Method::GET,
            path: format!("/tickets/{A}"),
            query: None,
            headers: HeaderMap::new(),
            body: Default::default(),
        });
        assert_eq!(response.status, 401);
        let (status, body) = call(&sandbox, Method::GET, "/auth", "");
        assert_eq!((status, &body["data"]["message"]), (200, &json!("Authed")));
    }

    #[test]
    fn serves_seeded_tickets_and_404s() {
        let sandbox = FourvenuesSandbox::seeded();
        let (status, body) = call(&sandbox, Method::GET, &format!("/tickets/{B}"), "");
        assert_eq!((status, &body["data"]["refunded"]), (200, &json!(6)));
        let (status, body) = call(&sandbox, Method::GET, "/tickets/nope", "");
        assert_eq!((status, &body["success"]), (404, &json!(false)));
        assert_eq!(call(&sandbox, Method::DELETE, "/tickets/x", "").0, 404);
    }

    #[test]
    fn applies_refunds_and_refuses_beyond_refundable() {
        let sandbox = FourvenuesSandbox::seeded();
        let path = format!("/tickets/{A}/refund");
        let (status, body) = call(&sandbox, Method::PUT, &path, r#"{"amount": 10}"#);
        assert_eq!(status, 200);
        assert_eq!(body["data"]["refunded"], json!(10));
        assert_eq!(body["data"]["refunds"][0]["amount"], json!(10));
        // 6.1 left: 7 is too much, 6 fits, then 0.1 is left and no whole amount fits.
        assert_eq!(
            call(&sandbox, Method::PUT, &path, r#"{"amount": 7}"#).0,
            400
        );
        let (status, body) = call(&sandbox, Method::PUT, &path, r#"{"amount": 6}"#);
        assert_eq!((status, &body["data"]["refunded"]), (200, &json!(16)));
        assert_eq!(
            call(&sandbox, Method::PUT, &path, r#"{"amount": 1}"#).0,
            400
        );
        for bad in [r#"{"amount": 1.5}"#, r#"{"amount": 0}"#, "{}", "garbage"] {
            assert_eq!(call(&sandbox, Method::PUT, &path, bad).0, 400, "{bad}");
        }
        let (_, body) = call(&sandbox, Method::GET, &format!("/tickets/{A}"), "");
        assert_eq!(body["data"]["refunds"].as_array().unwrap().len(), 2);
    }
}
