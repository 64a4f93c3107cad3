//! The canonical create body and its validation into a provider's `RefundRequest`. The
//! amount is read as raw JSON so each rule (string, not float; known currency; minor
//! units; positive) fails with a pointer at the exact field.

use std::collections::BTreeMap;

use refund_provider::{Currency, Money, MoneyError, RefundRequest, Target};
use serde::Deserialize;
use utoipa::ToSchema;

use super::problem::ApiError;
use crate::service::create::NewRefund;

const MAX_REASON_CHARS: usize = 500;
const MAX_METADATA_KEYS: usize = 20;
const MAX_METADATA_KEY_CHARS: usize = 40;
const MAX_METADATA_VALUE_CHARS: usize = 500;

/// `POST /v1/refunds` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRefundBody {
    /// The provider instance (see `GET /v1/providers`).
    pub provider: String,
    pub target: Target,
    /// Omit for a full refund of what is still refundable, where the provider allows it.
    #[serde(default)]
    #[schema(value_type = Option<Money>)]
    pub amount: Option<AmountInput>,
    #[serde(default)]
    pub reason: Option<String>,
    /// Up to 20 string pairs, kept with the refund.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmountInput {
    value: serde_json::Value,
    currency: serde_json::Value,
}

impl CreateRefundBody {
    /// Checks the canonical input rules (exact money, lengths). What the provider can take
    /// is the service's to check (`Refunds::check`), for the API and batches alike.
    pub fn into_new(self) -> Result<NewRefund, ApiError> {
        let amount = self.amount.map(parse_amount).transpose()?;
        if let Some(reason) = &self.reason {
            if reason.chars().count() > MAX_REASON_CHARS {
                return Err(ApiError::field(
                    "/reason",
                    format!("at most {MAX_REASON_CHARS} characters"),
                ));
            }
        }
        if self.metadata.len() > MAX_METADATA_KEYS {
            return Err(ApiError::field(
                "/metadata",
                format!("at most {MAX_METADATA_KEYS} keys"),
            ));
        }
        for (key, value) in &self.metadata {
            if key.is_empty() || key.chars().count() > MAX_METADATA_KEY_CHARS {
                return Err(ApiError::field(
                    "/metadata",
                    format!("keys are 1 to {MAX_METADATA_KEY_CHARS} characters"),
                ));
            }
            if value.chars().count() > MAX_METADATA_VALUE_CHARS {
                return Err(ApiError::field(
                    format!("/metadata/{}", key.replace('~', "~0").replace('/', "~1")),
                    format!("at most {MAX_METADATA_VALUE_CHARS} characters"),
                ));
            }
        }
        Ok(NewRefund {
            provider: self.provider,
            request: RefundRequest {
                target: self.target,
                amount,
                reason: self.reason,
                metadata: self.metadata,
                gateway_reference: None,
            },
        })
    }
}

fn parse_amount(input: AmountInput) -> Result<Money, ApiError> {
    let currency = match &input.currency {
        serde_json::Value::String(code) => Currency::from_code(code)
            .map_err(|e| ApiError::field("/amount/currency", e.to_string()))?,
        _ => {
            return Err(ApiError::field(
                "/amount/currency",
                "currency must be an ISO 4217 code string such as \"EUR\"",
            ))
        }
    };
    let value = match &input.value {
        serde_json::Value::String(value) => value,
        _ => {
            return Err(ApiError::field(
                "/amount/value",
                MoneyError::NotAString.to_string(),
            ))
        }
    };
    Money::parse(value, currency).map_err(|e| ApiError::field("/amount/value", e.to_string()))
}
