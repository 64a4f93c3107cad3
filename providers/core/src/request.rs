//! A create request as a provider receives it: already parsed and validated as canonical
//! input, so providers only check what is vendor-specific.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::money::Money;
use crate::target::Target;

/// What to refund. The provider instance is chosen by the gateway from the request body's
/// `provider`; this is the rest of it. The default asks for nothing (no target): a blank to
/// fill in, as quotes and tests do.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RefundRequest {
    pub target: Target,
    /// Omitted: a full refund of what is still refundable, where the vendor allows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// The gateway's own reference for this refund, for vendors that keep free text with a
    /// refund (it lets a later lookup find exactly this refund). Not part of the API body.
    #[serde(skip)]
    #[schema(ignore)]
    pub gateway_reference: Option<String>,
}
