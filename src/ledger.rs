//! The ledger's behaviour on top of storage: creates recorded as intent then outcome, with
//! idempotency keys; reads that answer from the ledger and refresh from the vendor; and the
//! reconciler that settles unknown outcomes by a lookup, never by sending a create again.

pub mod answer;
pub mod create;
pub mod idempotency;
pub mod reads;
pub mod reconcile;
pub mod view;

use refund_provider::ids::LEDGER_PREFIX;

/// The one client of a gateway with no `[[clients]]` configured (an open gateway, such as
/// the sandbox default): everyone who can reach it shares its idempotency keys and ledger.
pub const DEFAULT_CLIENT: &str = "default";

/// A new ledger id: time-ordered (ULID), prefixed so reads can tell it from a vendor id.
pub fn new_refund_id() -> String {
    format!(
        "{LEDGER_PREFIX}{}",
        ulid::Ulid::new().to_string().to_ascii_lowercase()
    )
}
