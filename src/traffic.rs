//! Traffic control around every provider instance, outside any vendor code: the outbound
//! pace and vendor-requested pauses, circuit breaking, lookup retries and the lookup cache,
//! (The per-client inbound limit is the API's: `api::client_limit`.)
//!
//! ```text
//! service ─▶ LookupCache (get/list only) ─▶ lookup_retry ─▶ Provider ─▶ GuardedTransport
//!                                                                     circuit ─▶ outbound limit ─▶ HTTP
//! ```

pub mod cache_invalidation;
pub mod circuit;
pub mod guarded_transport;
pub mod lookup_cache;
pub mod lookup_retry;
pub mod outbound_limit;
