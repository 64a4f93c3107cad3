//! The canonical refund: what every provider's answer is translated into.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{InstanceName, RefundId, VendorRef};
use crate::money::Money;
use crate::target::Target;

/// Where a refund stands. `Unknown` is a state of its own: the vendor may or may not have
/// applied it (a timeout after sending, a vendor value we do not recognise), and only a
/// lookup may settle it. It is never guessed as success or failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    Pending,
    Succeeded,
    /// Some lines were refunded and some failed (a many-order refund): never reported as
    /// `succeeded`, and final like it.
    PartiallySucceeded,
    Failed,
    Canceled,
    Unknown,
}

impl RefundStatus {
    /// Final statuses never change again (the ledger enforces this; the cache keeps them longer).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::PartiallySucceeded | Self::Failed | Self::Canceled
        )
    }
}

/// The status of one line of a refund (a ticket, an order of an event-wide refund, an invoice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineStatus {
    Succeeded,
    Pending,
    Skipped,
    Failed,
    Unknown,
}

/// What a line refunds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Ticket,
    Order,
    Payment,
    Fee,
    Invoice,
    Other,
}

/// What a refund did to a ticket, where the vendor's answer says it, so a promoter knows
/// what can be sold again. Absent from a line when the vendor does not say: never guessed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TicketFate {
    /// The ticket is no longer valid for entry.
    Voided {
        /// The vendor's own ticket status, verbatim, where it gives one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        vendor_status: Option<String>,
    },
    /// The ticket's seats were freed and can be sold again.
    SeatReleased {
        /// The vendor's ids of the freed seats.
        seats: Vec<String>,
    },
}

/// One part of a refund, where the vendor itemises it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RefundLine {
    pub kind: LineKind,
    /// The vendor's id of the thing refunded (ticket id, payment reference, invoice id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<LineStatus>,
    /// The vendor refunded less than the whole of this line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tickets: Vec<String>,
    /// Further vendor identifiers of this line (refund id, processor transaction id, freed seats).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vendor_refs: BTreeMap<String, String>,
    /// The vendor's own words about this line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// What happened to the line's ticket(s), where the vendor reports it; absent when
    /// the vendor does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketFate>,
}

impl RefundLine {
    pub fn new(kind: LineKind) -> Self {
        RefundLine {
            kind,
            reference: None,
            description: None,
            amount: None,
            status: None,
            partial: None,
            tickets: Vec::new(),
            vendor_refs: BTreeMap::new(),
            message: None,
            ticket: None,
        }
    }
}

/// Why a refund is in its status, when the status alone does not say: an unknown outcome
/// (`timeout_after_send`, `interrupted`), a refund that was never applied (`not_applied`),
/// or an operator's resolution (`resolved`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusReason {
    pub code: String,
    pub message: String,
    /// What the vendor said, where the reason came from a vendor answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_message: Option<String>,
}

/// Line counts, for refunds that span many orders (an event-wide refund).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LineCounts {
    pub refunded: u32,
    pub skipped: u32,
    pub failed: u32,
}

/// The canonical refund, as every endpoint returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Refund {
    #[schema(value_type = String, example = "rf_dG0tbWFpbjpvcmRlci8xMjY5NDM0L3BheW1lbnQvMTI2")]
    pub id: RefundId,
    /// The provider instance, as configured.
    #[schema(value_type = String, example = "ticketmatic-demo")]
    pub provider: InstanceName,
    /// The vendor behind the instance.
    pub provider_kind: String,
    pub status: RefundStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<StatusReason>,
    /// The vendor's own status value, kept verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_status: Option<String>,
    /// Total refunded (or requested, while pending). Absent when the vendor does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// What the caller asked for, on a refund the gateway made, where the vendor applied
    /// another amount (`amount`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_amount: Option<Money>,
    pub target: Target,
    /// Why the refund was asked for. On a refund the gateway made, the caller's own words;
    /// the vendor's are in `vendor_reason`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The vendor's own note on the refund, where it differs from `reason`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_reason: Option<String>,
    /// The vendor's reference of this refund, as the provider routes it. Absent while the
    /// vendor has not answered (a refund whose outcome is unknown).
    #[serde(default, skip_serializing_if = "VendorRef::is_empty")]
    #[schema(value_type = Option<String>)]
    pub vendor_reference: VendorRef,
    /// Further vendor identifiers (order id, payment id, refund payment id, invoice ids).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vendor_refs: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<RefundLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<LineCounts>,
    /// The bulk refund this refund belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<String>,
    /// Decisions the gateway took for the caller (e.g. which payment it refunded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// When the refund was asked for. On a refund the gateway made, when the gateway
    /// recorded it; the vendor's own time is in `vendor_created_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// The vendor's time for the refund, on a refund the gateway made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_created_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    /// The vendor's payload, only with `?include=raw`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<serde_json::Value>,
}

impl Refund {
    /// A refund with its routing fields set and everything else empty, for providers to fill.
    pub fn new(
        instance: &InstanceName,
        kind: &str,
        vendor_reference: VendorRef,
        status: RefundStatus,
        target: Target,
    ) -> Self {
        Refund {
            id: RefundId::for_vendor(instance, &vendor_reference),
            provider: instance.clone(),
            provider_kind: kind.to_string(),
            status,
            status_reason: None,
            vendor_status: None,
            amount: None,
            requested_amount: None,
            target,
            reason: None,
            vendor_reason: None,
            vendor_reference,
            vendor_refs: BTreeMap::new(),
            lines: Vec::new(),
            counts: None,
            batch_id: None,
            notes: Vec::new(),
            metadata: BTreeMap::new(),
            created_at: None,
            vendor_created_at: None,
            updated_at: None,
            raw: None,
        }
    }
}
