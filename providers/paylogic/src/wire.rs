//! The Shopping API's refund documents (HAL+JSON), as serde types. Only what the provider
//! reads is typed; unknown fields are ignored (the vendor may add some), while a missing
//! `uid` or a wrong type makes the whole answer unreadable (a `BadResponse`).

use std::collections::BTreeMap;

use refund_provider::rust_decimal::Decimal;
use refund_provider::vendor_decimal::exact;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The embedded collection name of refunds (the `shop` curie).
pub const REFUNDS_REL: &str = "shop:refunds";

/// `GET /refunds?order=<URI>`: one page of the refund collection.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct RefundPage {
    #[serde(default, rename = "_links")]
    pub links: Links,
    #[serde(default, rename = "_embedded")]
    pub embedded: Embedded,
    /// The total number of items across pages, where the vendor paginates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_count: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Embedded {
    /// `null` and absent both mean an empty page. Each refund is kept as its own JSON text
    /// so that `mapping::to_refund` reads its amounts exactly (a `serde_json::Value` would
    /// already hold a JSON number as an `f64`).
    #[serde(default, rename = "shop:refunds", deserialize_with = "null_as_empty")]
    pub refunds: Vec<Box<RawValue>>,
}

/// HAL links. Values are kept loose (a link or an array of links, e.g. `curies`); the
/// provider reads `self`, `next` and an order link.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Links(pub BTreeMap<String, serde_json::Value>);

impl Links {
    /// The `href` of a single link relation, if present and a string.
    pub fn href(&self, rel: &str) -> Option<&str> {
        self.0.get(rel)?.get("href")?.as_str()
    }
}

/// One refund (`GET /refunds/{uid}`, or an item of a page).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct WireRefund {
    #[serde(default, rename = "_links")]
    pub links: Links,
    pub uid: String,
    /// Seen: `requested`. The full list is not published (vendors.md [?]).
    #[serde(default)]
    pub status: Option<String>,
    /// Seen: `psp`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub amount_breakdown: Option<AmountBreakdown>,
    /// Seen: `not_initiated`.
    #[serde(default)]
    pub direct_refund_status: Option<String>,
    /// UTC with `Z`; kept as text and parsed leniently in mapping.
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub last_updated: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct AmountBreakdown {
    #[serde(default)]
    pub total: Option<WireAmount>,
    /// What is refunded beyond the tickets (costs not attributed to a ticket).
    #[serde(default)]
    pub other: Option<WireAmount>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub by_tickets: Vec<TicketAmount>,
}

/// `{"amount": "6.50", "currency": "EUR"}`: a decimal string (a JSON number is accepted too).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct WireAmount {
    #[serde(deserialize_with = "exact")]
    pub amount: Decimal,
    pub currency: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct TicketAmount {
    /// Product name by language code; untranslated languages are empty strings.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub product_name: BTreeMap<String, String>,
    #[serde(default)]
    pub amount: Option<WireAmount>,
}

/// The vendor's error body. Its format is not documented (vendors.md [?]); these are the
/// fields the provider looks for.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WireError {
    #[serde(default)]
    pub message: Option<serde_json::Value>,
    #[serde(default)]
    pub detail: Option<serde_json::Value>,
    #[serde(default)]
    pub error: Option<serde_json::Value>,
    #[serde(default)]
    pub code: Option<serde_json::Value>,
}

fn null_as_empty<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_doc_example_shapes() {
        let page: RefundPage = serde_json::from_str(
            r#"{"_links": {"self": {"href": "https://x/refunds"},
                           "curies": [{"href": "h", "name": "shop", "templated": true}]},
                "_embedded": {"shop:refunds": [{"uid": "a"}]}}"#,
        )
        .unwrap();
        assert_eq!(page.links.href("self"), Some("https://x/refunds"));
        assert_eq!(page.links.href("curies"), None);
        assert_eq!(page.embedded.refunds.len(), 1);

        let amount: WireAmount =
            serde_json::from_str(r#"{"amount": "6.50", "currency": "EUR"}"#).unwrap();
        assert_eq!(amount.amount.to_string(), "6.50");
        let number: WireAmount =
            serde_json::from_str(r#"{"amount": 6.5, "currency": "EUR"}"#).unwrap();
        assert_eq!(number.amount.to_string(), "6.5");

        let empty: RefundPage =
            serde_json::from_str(r#"{"_embedded": {"shop:refunds": null}}"#).unwrap();
        assert!(empty.embedded.refunds.is_empty());
    }
}
