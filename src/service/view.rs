//! The canonical refund view of a ledger row. It lives with the row in `storage::view`,
//! because events carry it too and are written inside the ledger's transactions.

pub use crate::storage::view::refund_of;
