//! iVvy's JSON, as the vendor writes it (camelCase, ids as integers, amounts as JSON
//! numbers). Only the fields the provider reads are declared; unknown ones are ignored,
//! because iVvy adds fields without notice.

use refund_provider::rust_decimal::Decimal;
use refund_provider::vendor_decimal::{exact, exact_opt};
use serde::{de, Deserialize, Deserializer, Serialize};

/// An iVvy id. Documented as an integer; a numeric string is accepted too, since iVvy's
/// examples are loose about types (e.g. `"line1": 1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Id(pub i64);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Int(i) => Ok(Id(i)),
            Raw::Text(s) => s
                .trim()
                .parse()
                .map(Id)
                .map_err(|_| de::Error::custom(format!("`{s}` is not an iVvy id"))),
        }
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// `venue?action=addRefundToBooking` request body.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddRefundToBooking {
    pub venue_id: i64,
    pub booking_id: i64,
    pub refund: RefundInput,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundInput {
    /// `YYYY-MM-DD HH:MM:SS UTC`.
    pub refund_date: String,
    /// A JSON number with no more decimals than the currency has.
    pub amount: serde_json::Number,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// `addRefundToBooking` success: `{"Success": true, "refundDetails": [...]}` (capital S in
/// the example, lower case in the doc's table).
#[derive(Debug, Clone, Deserialize)]
pub struct AddRefundResult {
    #[serde(rename = "Success", alias = "success", default)]
    pub success: Option<bool>,
    #[serde(rename = "refundDetails", default)]
    pub refund_details: Vec<RefundPair>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundPair {
    pub invoice_id: Id,
    pub refund_id: Id,
}

/// Any failed call: `{"errorCode", "message", "specificCode", "additionalMessages"}`.
/// The presence of `errorCode` alone makes a body an error (the SDK's rule).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    pub error_code: serde_json::Value,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub specific_code: Option<serde_json::Value>,
    #[serde(default)]
    pub additional_messages: Option<serde_json::Value>,
}

/// `invoice?action=getInvoice`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invoice {
    pub id: Id,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub current_status: Option<i64>,
    /// What the invoice charges (read for quotes).
    #[serde(default, deserialize_with = "exact_opt")]
    pub total_cost: Option<Decimal>,
    /// What was paid of it (read for quotes).
    #[serde(default, deserialize_with = "exact_opt")]
    pub amount_paid: Option<Decimal>,
    #[serde(default)]
    pub venue_id: Option<Id>,
    #[serde(default)]
    pub booking_id: Option<Id>,
    #[serde(default)]
    pub refunds: Vec<InvoiceRefund>,
}

/// One entry of an invoice's `refunds[]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceRefund {
    pub id: Id,
    #[serde(default)]
    pub refund_id: Option<Id>,
    #[serde(default)]
    pub refund_date: Option<String>,
    #[serde(deserialize_with = "exact")]
    pub amount_refunded: Decimal,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub created_date: Option<String>,
    #[serde(default)]
    pub modified_date: Option<String>,
}

/// `invoice?action=getInvoiceList`: a page of invoice summaries.
#[derive(Debug, Clone, Deserialize)]
pub struct InvoiceList {
    #[serde(default)]
    pub meta: Option<ListMeta>,
    #[serde(default)]
    pub results: Vec<InvoiceSummary>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListMeta {
    #[serde(default)]
    pub total_results: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceSummary {
    pub id: Id,
    #[serde(default)]
    pub ref_type: Option<i64>,
    #[serde(default)]
    pub ref_id: Option<Id>,
    #[serde(default)]
    pub booking_id: Option<Id>,
}

impl InvoiceSummary {
    /// Whether this invoice belongs to `booking`: its `bookingId` when iVvy gives one,
    /// else a venue-booking invoice (reference type 4) whose `refId` is the booking.
    pub fn belongs_to(&self, booking: i64) -> bool {
        match self.booking_id {
            Some(id) => id.0 == booking,
            None => {
                self.ref_type == Some(REF_TYPE_VENUE_BOOKING)
                    && self.ref_id.map(|r| r.0) == Some(booking)
            }
        }
    }
}

/// iVvy's invoice reference type for venue bookings.
pub const REF_TYPE_VENUE_BOOKING: i64 = 4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_numbers_exactly_and_loose_ids() {
        let inv: Invoice = serde_json::from_str(
            r#"{"id": "1736", "currency": "AUD", "totalCost": 233.45, "amountPaid": 0.1,
                "refunds": [{"id": 180, "amountRefunded": 150.1, "extra": true},
                            {"id": 181, "amountRefunded": 233.45}]}"#,
        )
        .unwrap();
        assert_eq!(inv.id, Id(1736));
        assert_eq!(inv.refunds[1].amount_refunded.to_string(), "233.45");
        assert_eq!(inv.refunds[0].amount_refunded.to_string(), "150.1");
        assert!(serde_json::from_str::<Invoice>(r#"{"id": "x"}"#).is_err());
    }

    #[test]
    fn accepts_both_spellings_of_success() {
        let a: AddRefundResult = serde_json::from_str(r#"{"Success": true}"#).unwrap();
        let b: AddRefundResult = serde_json::from_str(r#"{"success": true}"#).unwrap();
        assert_eq!((a.success, b.success), (Some(true), Some(true)));
    }
}
