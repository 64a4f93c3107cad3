//! Traffic control around every provider instance, outside any vendor code: the outbound
//! pace and vendor-requested pauses, circuit breaking, lookup retries and the lookup cache,
//! plus the per-client inbound limit.
//!
//! ```text
//! handler ─▶ LookupCache (get/list only) ─▶ lookup_retry ─▶ Provider ─▶ GuardedTransport
//!                                                                     circuit ─▶ outbound limit ─▶ HTTP
//! ```

pub mod circuit;
pub mod client_limit;
pub mod guarded_transport;
pub mod lookup_cache;
pub mod lookup_retry;
pub mod outbound_limit;
