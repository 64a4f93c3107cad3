//! refund-gateway: one canonical refund API in front of ticketing vendors.
//!
//! A client request enters the API (`api`): it is authenticated, parsed and validated into
//! canonical types, and handed with the calling client to the refund service
//! (`service::Refunds`), the domain. The service checks it against the provider's declared
//! capabilities and the client's allowed instances, makes a create durable (its intent in
//! `storage` before the vendor is called, its outcome after), and calls the provider (a
//! vendor crate under `providers/`), which translates to vendor requests leaving through the
//! instance's guarded transport (`traffic`: circuit breaker, outbound pace; then `outbound`).
//! Lookups go through the lookup cache; batches are stored whole and worked by
//! `service::worker` through the same create; `service::reconcile` settles unknown outcomes
//! by looking, never by resending. Errors travel as `ServiceError` and become problem+json
//! in `api::problem`, the only place that chooses HTTP statuses.
//!
//! ```text
//!  client ──HTTP──▶ api (auth, parsing, idempotency keys, problem+json)
//!                    │ Client + canonical request
//!                    ▼
//!                  service::Refunds (create, reads, batches, reconcile) ◀─▶ storage (SQLite / PostgreSQL)
//!                    │               └─▶ traffic::lookup_cache ─▶ lookup_retry
//!                    ▼
//!                  Provider (providers/<vendor>: wire, auth, mapping)
//!                    │ VendorRequest
//!                    ▼
//!                  traffic::guarded_transport: circuit ─▶ outbound limit ─▶ outbound (reqwest)
//!                    │ HTTP
//!                    ▼
//!          vendor API │ sandbox_host (sandbox = true) │ replay (tests, `replay` command)
//! ```
//!
//! Invariants (checked by `tests/api/layering.rs`): nothing below `api` names it or any
//! HTTP type; only `api::problem` chooses HTTP statuses; only `registry` names vendors; only
//! provider crates know vendor wire formats; only `storage::refunds::settle` changes a
//! refund's status, and never a final one; no create reaches a vendor without its intent
//! row, and none whose outcome is unknown is resent.

pub mod api;
pub mod app;
pub mod backoff;
pub mod cli;
pub mod config;
pub mod coordination;
pub mod fixtures;
pub mod instances;
pub mod loopback;
pub mod metric_handles;
pub mod outbound;
pub mod record;
pub mod registry;
pub mod replay;
pub mod sandbox_host;
pub mod scrub;
pub mod service;
pub mod storage;
pub mod telemetry;
pub mod trace_context;
pub mod traffic;
pub mod webhooks;
