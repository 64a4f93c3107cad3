//! Fourvenues wire types: only the fields the provider reads. Every other ticket field
//! (holder name, email, phone, address, document number...) is personal data and is
//! deliberately not deserialised, so it cannot leak into a canonical refund.

use refund_provider::rust_decimal::Decimal;
use refund_provider::vendor_decimal::{exact, exact_opt, ExactDecimal};
use serde::{Deserialize, Serialize};

/// The envelope of every answer: `{"data": ..., "success": true}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Envelope<T> {
    /// Decision (vendors.md): the error body is undocumented; `success: false` is an error
    /// whatever the HTTP status, and a missing `success` is read as `true` when `data` is there.
    #[serde(default)]
    pub success: Option<bool>,
    #[serde(default = "Option::default")]
    pub data: Option<T>,
    #[serde(default)]
    pub message: Option<String>,
}

/// A ticket, as `GET /tickets/{id}` and `PUT /tickets/{id}/refund` return it.
#[derive(Debug, Clone, Deserialize)]
pub struct Ticket {
    /// Decision (vendors.md): ids are opaque strings (documented as integers, 24-hex in
    /// every example).
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(default)]
    pub event_id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// The rate the ticket was sold at; only its name is read (e.g. "Early Bird").
    #[serde(default)]
    pub price: Option<Rate>,
    #[serde(default)]
    pub payment_currency: Option<String>,
    /// What the buyer paid in all (price, fees, supplements, warranty), in whole currency
    /// units with decimals (e.g. `16.1`).
    #[serde(default, deserialize_with = "exact_opt")]
    pub total_price: Option<Decimal>,
    /// The ticket's fees by who charges them (`{"organization": 1.1, "discocil": 0.7}`),
    /// in whole currency units with decimals; read for quotes.
    #[serde(default, deserialize_with = "exact_fees")]
    pub fees: Option<std::collections::BTreeMap<String, Option<Decimal>>>,
    /// Refunded so far. `null` or absent means nothing yet.
    #[serde(default, deserialize_with = "exact_opt")]
    pub refunded: Option<Decimal>,
    /// Every refund applied to this ticket, oldest first. `null` is read as none.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub refunds: Vec<RefundEntry>,
}

/// A ticket's `price` object (the ticket rate).
#[derive(Debug, Clone, Deserialize)]
pub struct Rate {
    #[serde(default)]
    pub name: Option<String>,
}

/// One entry of a ticket's `refunds[]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefundEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    #[serde(deserialize_with = "exact")]
    pub amount: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// The body of `PUT /tickets/{id}/refund`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundBody {
    /// Whole currency units (see `mapping::vendor_amount`).
    pub amount: i64,
}

/// The fees map with every amount read exactly (see `vendor_decimal`).
type ExactFees = Option<std::collections::BTreeMap<String, Option<ExactDecimal>>>;

fn exact_fees<'de, D>(
    d: D,
) -> Result<Option<std::collections::BTreeMap<String, Option<Decimal>>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Ok(ExactFees::deserialize(d)?.map(|fees| {
        fees.into_iter()
            .map(|(who, fee)| (who, fee.map(|f| f.0)))
            .collect()
    }))
}

fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_numbers_become_exact_decimals() {
        let t: Ticket = serde_json::from_str(
            r#"{"_id": "a", "total_price": 16.1, "refunded": 10, "refunds": [{"amount": 10}]}"#,
        )
        .unwrap();
        let remaining = t.total_price.unwrap() - t.refunded.unwrap();
        assert_eq!(remaining.to_string(), "6.1");
        assert_eq!(t.refunds.len(), 1);
    }

    #[test]
    fn amounts_are_read_from_their_text_exactly() {
        let t: Ticket = serde_json::from_str(
            r#"{"_id": "a", "total_price": 12345678901234567.89, "refunded": "0.1",
                "fees": {"organization": 1.1, "discocil": null}, "refunds": [{"amount": 16.1}]}"#,
        )
        .unwrap();
        assert_eq!(t.total_price.unwrap().to_string(), "12345678901234567.89");
        assert_eq!(t.refunded.unwrap().to_string(), "0.1");
        let fees = t.fees.unwrap();
        assert_eq!(fees["organization"].unwrap().to_string(), "1.1");
        assert_eq!(fees["discocil"], None);
        assert_eq!(t.refunds[0].amount.to_string(), "16.1");
    }

    #[test]
    fn nulls_and_absent_fields_are_tolerated() {
        let t: Ticket =
            serde_json::from_str(r#"{"_id": "a", "refunded": null, "refunds": null}"#).unwrap();
        assert!(t.refunded.is_none() && t.refunds.is_empty() && t.total_price.is_none());
        let e: Envelope<Ticket> =
            serde_json::from_str(r#"{"success": false, "message": "no"}"#).unwrap();
        assert_eq!((e.success, e.data.is_none()), (Some(false), true));
    }
}
