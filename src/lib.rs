//! refund-gateway: one canonical refund API in front of ticketing vendors.
//!
//! A client request enters the API (`api`), is validated into a canonical request, and is
//! handed to the provider instance it names. A create is first made durable (`ledger`): its
//! idempotency key is claimed and its intent written to the database (`storage`) before the
//! vendor is called, and its outcome after. The provider (a vendor crate under `providers/`)
//! translates the request into vendor requests, which leave through that instance's guarded
//! transport (`traffic`: circuit breaker, outbound pace; then `outbound`); the vendor's answer
//! becomes a canonical refund or a `ProviderError`, which `api::problem` turns into
//! problem+json. Lookups go through the lookup cache instead of the ledger; batches are
//! stored whole and worked by `batches::worker`; `ledger::reconcile` settles unknown
//! outcomes by looking, never by resending.
//!
//! ```text
//!  client ──HTTP──▶ api (routes, body, problem+json)
//!                    │ canonical RefundRequest / Target / RefundId
//!         creates ───┼──▶ ledger (idempotency key, intent ─▶ vendor ─▶ outcome) ◀─▶ storage (SQLite / PostgreSQL)
//!         batches ───┼──▶ batches (submit; worker claims items with a lease)  ◀─▶ storage
//!         lookups ───┴──▶ traffic::lookup_cache ─▶ lookup_retry
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
//! Invariants: only provider crates know vendor wire formats; only `registry` names
//! vendors; only `api::problem` chooses HTTP statuses for errors; only
//! `storage::refunds::settle` changes a refund's status, and never a final one; no create
//! reaches a vendor without its intent row, and none whose outcome is unknown is resent.

pub mod api;
pub mod app;
pub mod backoff;
pub mod cli;
pub mod config;
pub mod instances;
pub mod loopback;
pub mod outbound;
pub mod registry;
pub mod replay;
pub mod sandbox_host;
pub mod service;
pub mod storage;
pub mod traffic;
