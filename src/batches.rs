//! Bulk refunds: a batch of canonical creates (or one vendor-native event-wide create) is
//! validated whole, stored, and worked in the background by every gateway sharing the
//! ledger, each provider instance paced by its outbound limiter. Items survive restarts;
//! an item in flight at a crash becomes an `unknown` refund for the reconciler, and is
//! tried again only once a lookup proved it was not applied.

pub mod report;
pub mod submit;
pub mod worker;
