//! A local stand-in for Ticketmatic (`sandbox = true`): orders seeded from the recorded
//! fixtures, the HMAC signature checked as the vendor does (sandbox keys, 30-minute `ts`
//! window), refunds applied by appending refund payments, and refunds beyond what is
//! refundable refused with the vendor's 400 error shape.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Mutex;

use refund_provider::chrono::{DateTime, Utc};
use refund_provider::fixture::Exchange;
use refund_provider::http::Method;
use refund_provider::rust_decimal::Decimal;
use refund_provider::sandbox::json_response;
use refund_provider::{Sandbox, SandboxRequest, VendorResponse};
use serde_json::{json, Value};

use crate::auth::{parse_authorization, signature, ts_is_fresh};
use crate::selection::refundable;
use crate::wire::Order;

/// The access key a sandbox instance signs with (not a secret: it only opens the sandbox).
pub const SANDBOX_ACCESS_KEY: &str = "sandbox-ticketmatic-access-key";
/// The secret key a sandbox instance signs with.
pub const SANDBOX_SECRET_KEY: &str = "sandbox-ticketmatic-secret-key";

/// The orders the sandbox starts with: the recorded reads of each.
const SEEDS: [(&str, &str); 2] = [
    (
        "get-order.json",
        include_str!("../../../fixtures/ticketmatic/get-order.json"),
    ),
    (
        "get-order-two-payments.json",
        include_str!("../../../fixtures/ticketmatic/get-order-two-payments.json"),
    ),
];

pub struct TicketmaticSandbox {
    account: String,
    state: Mutex<State>,
}

struct State {
    orders: BTreeMap<i64, Value>,
    next_payment_id: i64,
}

impl TicketmaticSandbox {
    /// A sandbox for `account`, seeded with the fixture orders.
    pub fn seeded(account: &str) -> Self {
        let mut orders = BTreeMap::new();
        let mut max_id = 0;
        for (name, text) in SEEDS {
            let order = Exchange::parse(name, text).response_body().clone();
            let parsed: Order = serde_json::from_value(order.clone())
                .unwrap_or_else(|e| panic!("fixture {name} holds no order: {e}"));
            max_id = parsed.payments.iter().map(|p| p.id).fold(max_id, i64::max);
            orders.entry(parsed.orderid).or_insert(order);
        }
        let state = State {
            orders,
            next_payment_id: max_id + 1,
        };
        TicketmaticSandbox {
            account: account.to_string(),
            state: Mutex::new(state),
        }
    }

    /// `handle` at a given time (tests pin the clock).
    pub fn handle_at(&self, request: &SandboxRequest, now: DateTime<Utc>) -> VendorResponse {
        let path = request.path.trim_end_matches('/');
        let Some((account, rest)) = path.trim_start_matches('/').split_once('/') else {
            return error(404, "Not found");
        };
        if let Err(message) = check_auth(request, account, now) {
            return error(401, message);
        }
        if account != self.account {
            return error(403, "The API key has no access to this account");
        }
        let segments: Vec<&str> = rest.split('/').collect();
        let order_id = match segments.as_slice() {
            ["orders", id] | ["orders", id, "refunds"] => id.parse::<i64>().ok(),
            _ => None,
        };
        let Some(order_id) = order_id else {
            return error(404, "Not found");
        };
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match (&request.method, segments.len()) {
            (&Method::GET, 2) => match state.orders.get(&order_id) {
                Some(order) => json_response(200, order),
                None => error(404, "Order not found"),
            },
            (&Method::POST, 3) => state.add_refund(order_id, &request.body, now),
            _ => error(405, "Method not allowed"),
        }
    }
}

impl Sandbox for TicketmaticSandbox {
    fn handle(&self, request: &SandboxRequest) -> VendorResponse {
        self.handle_at(request, Utc::now())
    }
}

/// The vendor's check: `TM-HMAC-SHA256 key=.. ts=.. sign=..` with the sandbox keys, signed
/// over `accesskey + account + ts`, `ts` within 30 minutes.
fn check_auth(
    request: &SandboxRequest,
    account: &str,
    now: DateTime<Utc>,
) -> Result<(), &'static str> {
    let header = request
        .header("authorization")
        .ok_or("Missing authorization")?;
    let auth = parse_authorization(header).ok_or("Malformed authorization header")?;
    if auth.key != SANDBOX_ACCESS_KEY {
        return Err("Unknown access key");
    }
    if !ts_is_fresh(auth.ts, now) {
        return Err("Timestamp is missing or too far from the current time");
    }
    if signature(SANDBOX_SECRET_KEY, auth.key, account, auth.ts) != auth.sign {
        return Err("Invalid signature");
    }
    Ok(())
}

impl State {
    fn add_refund(&mut self, order_id: i64, body: &[u8], now: DateTime<Utc>) -> VendorResponse {
        #[derive(serde::Deserialize)]
        struct AddRefunds {
            amount: Decimal,
            paymentid: i64,
        }
        let Some(stored) = self.orders.get_mut(&order_id) else {
            return error(404, "Order not found");
        };
        let Ok(add) = serde_json::from_slice::<AddRefunds>(body) else {
            return error(400, "Invalid request body: expected {amount, paymentid}");
        };
        let Ok(order) = serde_json::from_value::<Order>(stored.clone()) else {
            return error(500, "Internal server error");
        };
        let Some(payment) = order.payments.iter().find(|p| p.id == add.paymentid) else {
            return error(400, "Payment not found in this order");
        };
        if payment.refunds().is_some() {
            return error(400, "A refund payment cannot be refunded");
        }
        if add.amount <= Decimal::ZERO {
            return error(400, "Amount to refund must be greater than 0");
        }
        let Ok(left) = refundable(&order, payment) else {
            return error(500, "Internal server error");
        };
        if add.amount > left {
            return error(
                400,
                &format!(
                    "Amount to refund ({}) exceeds the refundable amount ({})",
                    add.amount,
                    left.normalize()
                ),
            );
        }
        let ts = now.format("%Y-%m-%d %H:%M:%S").to_string();
        let refund = json!({
            "id": self.next_payment_id, "orderid": order_id, "amount": number(-add.amount),
            "paidts": ts, "paymentmethodid": payment.paymentmethodid, "properties": null,
            "refundpaymentid": payment.id,
        });
        self.next_payment_id += 1;
        let paid = stored
            .get("amountpaid")
            .and_then(|v| serde_json::from_value::<Decimal>(v.clone()).ok());
        let total = stored
            .get("totalamount")
            .and_then(|v| serde_json::from_value::<Decimal>(v.clone()).ok());
        if let Some(obj) = stored.as_object_mut() {
            if let Some(paid) = paid {
                let paid = paid - add.amount;
                obj.insert("amountpaid".into(), number(paid));
                let status = match total {
                    Some(t) if paid < t => 0,
                    Some(t) if paid > t => 2,
                    _ => 1,
                };
                obj.insert("paymentstatus".into(), json!(status));
            }
            obj.insert("lastupdatets".into(), json!(ts));
            match obj.get_mut("payments").and_then(Value::as_array_mut) {
                Some(payments) => payments.push(refund),
                None => {
                    obj.insert("payments".into(), json!([refund]));
                }
            }
        }
        json_response(200, stored)
    }
}

fn number(d: Decimal) -> Value {
    serde_json::Number::from_str(&d.normalize().to_string()).map_or(Value::Null, Value::Number)
}

/// Ticketmatic's error body.
fn error(status: u16, message: &str) -> VendorResponse {
    json_response(
        status,
        &json!({"code": status, "message": message, "applicationcode": 0, "applicationdata": null}),
    )
}

#[cfg(test)]
mod tests;
