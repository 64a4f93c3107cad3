//! Ticketmatic's wire types, as far as refunds need them: the Order (read back after every
//! call), its payments, the `AddRefunds` body and the error body. Fields we do not use
//! are ignored, so the personal data an Order carries (names, addresses) is never parsed.

use refund_provider::rust_decimal::Decimal;
use refund_provider::vendor_decimal::{exact, exact_opt};
use serde::{Deserialize, Serialize};

/// An Order (`GET /{account}/orders/{id}`, and the answer of the refunds call).
#[derive(Debug, Clone, Deserialize)]
pub struct Order {
    pub orderid: i64,
    /// Absent on an order without payments.
    #[serde(default)]
    pub payments: Vec<Payment>,
    /// `"2014-09-26 15:24:36"`, UTC.
    #[serde(default)]
    pub lastupdatets: Option<String>,
    /// The tickets of the order (read for quotes: what each cost).
    #[serde(default)]
    pub tickets: Vec<OrderTicket>,
    /// The order fees (read for quotes).
    #[serde(default)]
    pub ordercosts: Vec<OrderCost>,
}

/// One ticket of an order: its id, price and service charge. Holder fields are not read.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OrderTicket {
    pub id: i64,
    #[serde(default, deserialize_with = "exact_opt")]
    pub price: Option<Decimal>,
    #[serde(default, deserialize_with = "exact_opt")]
    pub servicecharge: Option<Decimal>,
}

/// One order fee (`ordercosts[]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OrderCost {
    #[serde(deserialize_with = "exact")]
    pub amount: Decimal,
    #[serde(default)]
    pub servicechargedefinitionid: Option<i64>,
}

/// One payment of an order. A payment whose `refundpaymentid` is set is a refund of the
/// payment with that id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    pub id: i64,
    #[serde(default)]
    pub orderid: Option<i64>,
    /// A JSON number (`50.000000`), read exactly into a decimal from its text.
    #[serde(deserialize_with = "exact")]
    pub amount: Decimal,
    /// `"2015-04-07 07:00:00"`, UTC.
    #[serde(default)]
    pub paidts: Option<String>,
    #[serde(default)]
    pub paymentmethodid: Option<i64>,
    #[serde(default)]
    pub refundpaymentid: Option<i64>,
}

impl Payment {
    /// The payment this one refunds, if it is a refund payment.
    pub fn refunds(&self) -> Option<i64> {
        self.refundpaymentid
    }
}

/// The body of `POST /{account}/orders/{id}/refunds` (type `AddRefunds`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddRefunds {
    /// A JSON number in major units, built from the decimal's string (see `mapping`).
    pub amount: serde_json::Number,
    pub paymentid: i64,
}

/// Ticketmatic's error body: `{"code", "message", "applicationcode", "applicationdata"}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub code: Option<serde_json::Value>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub applicationcode: Option<serde_json::Value>,
    #[serde(default)]
    pub applicationdata: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_doc_example_payment_exactly() {
        let p: Payment = serde_json::from_str(
            r#"{ "id": 125, "orderid": 412, "amount": 50.000000, "paidts": "2015-04-07 07:00:00",
                 "paymentmethodid": 2, "properties": null, "refundpaymentid": null }"#,
        )
        .unwrap();
        assert_eq!(p.amount, Decimal::new(50, 0));
        assert_eq!(p.refunds(), None);
        let q: Payment =
            serde_json::from_str(r#"{"id": 126, "amount": -12.345678, "refundpaymentid": 125}"#)
                .unwrap();
        assert_eq!(q.amount, Decimal::new(-12_345_678, 6));
        assert_eq!(q.refunds(), Some(125));
    }

    #[test]
    fn orders_need_an_id() {
        assert!(serde_json::from_str::<Order>(r#"{"code": 400, "message": "x"}"#).is_err());
        let o: Order = serde_json::from_str(r#"{"orderid": 1}"#).unwrap();
        assert!(o.payments.is_empty());
    }
}
