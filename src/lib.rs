//! refund-gateway: one canonical refund API in front of ticketing vendors.
//!
//! A client request enters the API (`api`), is validated into a canonical request, and is
//! handed to the provider instance it names. The provider (a vendor crate under
//! `providers/`) translates it into vendor requests, which leave through that instance's
//! `Transport` (`outbound`); the vendor's answer is translated back into a canonical refund
//! or a `ProviderError`, which `api::problem` turns into problem+json.
//!
//! ```text
//!  client ──HTTP──▶ api (routes, body, problem+json)
//!                    │ canonical RefundRequest / Target / RefundId
//!                    ▼
//!                  instances ──▶ Provider (providers/<vendor>: wire, auth, mapping)
//!                                  │ VendorRequest
//!                                  ▼
//!                                Transport (outbound: timeouts, classification)
//!                                  │ HTTP
//!                                  ▼
//!                          vendor API │ sandbox_host (sandbox = true) │ replay (tests)
//! ```
//!
//! Invariants: only provider crates know vendor wire formats; only `registry` names
//! vendors; only `api::problem` chooses HTTP statuses for errors.

pub mod api;
pub mod app;
pub mod batches;
pub mod cli;
pub mod config;
pub mod instances;
pub mod ledger;
pub mod loopback;
pub mod outbound;
pub mod registry;
pub mod replay;
pub mod sandbox_host;
pub mod storage;
pub mod traffic;
