//! The sandbox's state: a venue's booking invoices (seeded from the recorded
//! getInvoiceList fixture) and the refunds added to them, with iVvy's refund rules:
//! nothing refundable (24145), more than payable (24146), not positive (24147), only
//! partly applicable (24148, the refundable part is applied), invalid details (24149).

use std::str::FromStr;

use refund_provider::chrono::{DateTime, NaiveDateTime, Utc};
use refund_provider::fixture::Exchange;
use refund_provider::rust_decimal::Decimal;
use refund_provider::Currency;
use serde_json::{json, Map, Value};

use crate::errors::{
    AMOUNT_NOT_POSITIVE, INVALID_REFUND_DETAILS, INVOICE_NOT_FOUND, MORE_THAN_PAYABLE,
    NOTHING_REFUNDABLE, NOT_APPLIED_IN_FULL,
};
use crate::wire::REF_TYPE_VENUE_BOOKING;

const SEED: &str = include_str!("../../../../fixtures/ivvy/get-invoice-list-venue-2.json");
/// Refund ids continue from the doc example's (180).
const FIRST_REFUND_ID: i64 = 180;
const TIMESTAMP: &str = "%Y-%m-%d %H:%M:%S UTC";
/// iVvy's validation codes (parameter does not validate / is required).
const DOES_NOT_VALIDATE: i64 = 23016;
const IS_REQUIRED: i64 = 23017;

/// An iVvy error answer.
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxError {
    pub http: u16,
    pub error_code: i64,
    pub specific_code: Option<i64>,
    pub message: String,
}

impl SandboxError {
    pub fn new(http: u16, error_code: i64, message: &str) -> Self {
        SandboxError {
            http,
            error_code,
            specific_code: None,
            message: message.to_string(),
        }
    }

    pub fn specific(mut self, code: i64) -> Self {
        self.specific_code = Some(code);
        self
    }

    fn refund(code: i64, message: &str) -> Self {
        SandboxError::new(400, 400, message).specific(code)
    }

    pub fn body(&self) -> Value {
        let mut body = json!({"errorCode": self.error_code, "message": self.message});
        if let Some(code) = self.specific_code {
            body["specificCode"] = json!(code);
        }
        body
    }
}

struct Invoice {
    /// The invoice as seeded (summary fields), without `refunds`.
    fields: Map<String, Value>,
    id: i64,
    venue: i64,
    booking: i64,
    total: Decimal,
    paid: Decimal,
    refunds: Vec<Value>,
    refunded: Decimal,
}

pub struct Ledger {
    invoices: Vec<Invoice>,
    currency: Currency,
    next_refund_id: i64,
}

impl Ledger {
    pub fn seeded(currency: Currency) -> Self {
        let seed = Exchange::parse("ivvy/get-invoice-list-venue-2.json", SEED);
        let results = seed.response_body()["results"].as_array().cloned();
        let invoices = results
            .unwrap_or_default()
            .into_iter()
            .filter_map(|v| match v {
                Value::Object(mut fields) => {
                    fields.insert("currency".into(), json!(currency.code()));
                    Some(Invoice {
                        id: int(fields.get("id"))?,
                        venue: int(fields.get("venueId"))?,
                        booking: int(fields.get("refId"))?,
                        total: decimal(fields.get("totalCost"))?,
                        paid: decimal(fields.get("amountPaid"))?,
                        refunds: Vec::new(),
                        refunded: Decimal::ZERO,
                        fields,
                    })
                }
                _ => None,
            })
            .collect();
        Ledger {
            invoices,
            currency,
            next_refund_id: FIRST_REFUND_ID,
        }
    }

    /// `venue?action=addRefundToBooking`: spreads the amount over the booking's invoices in
    /// id order, each up to what was paid on it and not yet refunded.
    pub fn add_refund(&mut self, body: &Value, now: DateTime<Utc>) -> Result<Value, SandboxError> {
        let venue = required_int(body, "venueId")?;
        let booking = required_int(body, "bookingId")?;
        let invalid =
            || SandboxError::refund(INVALID_REFUND_DETAILS, "The refund details are invalid");
        let refund = body
            .get("refund")
            .and_then(Value::as_object)
            .ok_or_else(invalid)?;
        let refund_date = refund
            .get("refundDate")
            .and_then(Value::as_str)
            .ok_or_else(invalid)?;
        NaiveDateTime::parse_from_str(refund_date, TIMESTAMP).map_err(|_| invalid())?;
        let amount = match refund.get("amount") {
            Some(Value::Number(n)) => Decimal::from_str(&n.to_string()).map_err(|_| invalid())?,
            _ => return Err(invalid()),
        };
        if amount.normalize().scale() > self.currency.exponent() {
            return Err(invalid());
        }
        let notes = match refund.get("notes") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(invalid()),
        };
        if amount <= Decimal::ZERO {
            return Err(SandboxError::refund(
                AMOUNT_NOT_POSITIVE,
                "The refund amount must be greater than zero",
            ));
        }
        let mut booking_invoices: Vec<&mut Invoice> = self
            .invoices
            .iter_mut()
            .filter(|i| i.venue == venue && i.booking == booking)
            .collect();
        if booking_invoices.is_empty() {
            return Err(SandboxError::new(404, 404, "Booking not found"));
        }
        booking_invoices.sort_by_key(|i| i.id);
        let refunded: Decimal = booking_invoices.iter().map(|i| i.refunded).sum();
        let refundable = booking_invoices.iter().map(|i| i.paid).sum::<Decimal>() - refunded;
        let payable = booking_invoices.iter().map(|i| i.total).sum::<Decimal>() - refunded;
        if refundable <= Decimal::ZERO {
            return Err(SandboxError::refund(
                NOTHING_REFUNDABLE,
                "The booking does not have an amount that can be refunded",
            ));
        }
        if amount > payable {
            return Err(SandboxError::refund(
                MORE_THAN_PAYABLE,
                "Cannot refund more than the total amount payable on a booking",
            ));
        }
        let stamp = now.format(TIMESTAMP).to_string();
        let mut left = amount;
        let mut details = Vec::new();
        for invoice in booking_invoices {
            let take = left.min(invoice.paid - invoice.refunded);
            if take <= Decimal::ZERO {
                continue;
            }
            let id = self.next_refund_id;
            self.next_refund_id += 1;
            invoice.refunded += take;
            invoice.refunds.push(json!({
                "id": id, "invoiceId": invoice.id, "refundId": 0, "refundDate": refund_date,
                "amountRefunded": number(take), "notes": notes, "refundMethodId": null,
                "createdDate": stamp, "modifiedDate": stamp,
            }));
            details.push(json!({"invoiceId": invoice.id, "refundId": id}));
            left -= take;
        }
        if left > Decimal::ZERO {
            return Err(SandboxError::refund(
                NOT_APPLIED_IN_FULL,
                "The full refund amount could not be applied to the booking",
            ));
        }
        Ok(json!({"Success": true, "refundDetails": details}))
    }

    /// `invoice?action=getInvoice`.
    pub fn get_invoice(&self, body: &Value) -> Result<Value, SandboxError> {
        let id = required_int(body, "id")?;
        let invoice = self.invoices.iter().find(|i| i.id == id).ok_or_else(|| {
            SandboxError::new(404, 404, "Unable to find invoice").specific(INVOICE_NOT_FOUND)
        })?;
        let mut fields = self.summary(invoice);
        fields.insert("bookingId".into(), json!(invoice.booking));
        fields.insert("refunds".into(), Value::Array(invoice.refunds.clone()));
        Ok(Value::Object(fields))
    }

    /// `invoice?action=getInvoiceList` with `perPage`, `start` and the `venueId` and
    /// `refType` filters.
    pub fn invoice_list(&self, body: &Value) -> Result<Value, SandboxError> {
        let per_page = required_int(body, "perPage")?.clamp(1, 100) as usize;
        let start = required_int(body, "start")?.max(0) as usize;
        let filter = body.get("filter");
        let venue = filter.and_then(|f| int(f.get("venueId")));
        let ref_type = filter.and_then(|f| int(f.get("refType")));
        let matching: Vec<Value> = self
            .invoices
            .iter()
            .filter(|i| venue.is_none_or(|v| v == i.venue))
            .filter(|_| ref_type.is_none_or(|t| t == REF_TYPE_VENUE_BOOKING))
            .map(|i| Value::Object(self.summary(i)))
            .collect();
        let page: Vec<Value> = matching
            .iter()
            .skip(start)
            .take(per_page)
            .cloned()
            .collect();
        Ok(json!({
            "meta": {"totalResults": matching.len(), "start": start, "perPage": per_page, "count": page.len()},
            "results": page,
        }))
    }

    fn summary(&self, invoice: &Invoice) -> Map<String, Value> {
        let mut fields = invoice.fields.clone();
        let status = if invoice.refunded > Decimal::ZERO && invoice.refunded >= invoice.paid {
            Some(5)
        } else {
            None
        };
        if let Some(status) = status {
            fields.insert("currentStatus".into(), json!(status));
        }
        fields
    }
}

fn required_int(body: &Value, key: &str) -> Result<i64, SandboxError> {
    match body.get(key) {
        None | Some(Value::Null) => {
            Err(SandboxError::new(400, 400, &format!("'{key}' is required")).specific(IS_REQUIRED))
        }
        v => int(v).ok_or_else(|| {
            SandboxError::new(400, 400, &format!("'{key}' does not validate"))
                .specific(DOES_NOT_VALIDATE)
        }),
    }
}

fn int(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn decimal(value: Option<&Value>) -> Option<Decimal> {
    match value? {
        Value::Number(n) => Decimal::from_str(&n.to_string()).ok(),
        _ => None,
    }
}

/// A decimal as an iVvy JSON number.
fn number(value: Decimal) -> Value {
    serde_json::Number::from_str(&value.normalize().to_string())
        .map(Value::Number)
        .unwrap_or(Value::Null)
}
