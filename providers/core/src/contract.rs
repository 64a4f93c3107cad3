//! The shared contract suite's data: the vendor faults every provider must turn into the
//! same canonical answer, which of them a provider's capabilities call for, and the
//! manifest (`fixtures/<vendor>/contract.toml`) naming, for one vendor, the recorded
//! fixtures that play each case and the canonical request to send.
//!
//! The suite itself (`tests/contract/shared.rs`) drives the gateway and holds the expected
//! canonical answers (HTTP statuses are the gateway's business, not this crate's); this
//! module knows the cases, plans them from a manifest and a provider's capabilities, and
//! checks that each case's fixtures really show the fault the case names, so a manifest
//! cannot pass a case with the wrong recording.
//!
//! Modules: `case` (the faults and phases), `manifest` (the hand-written `contract.toml`
//! and its planning), `plan` (a planned case and its fixture checks), `recorded` (the cases
//! `refund-gateway record` writes, replayed as they were answered) and `derive` (the faults
//! the suite plays from a user's own recordings, with what each vendor crate declares).

mod case;
pub mod derive;
mod manifest;
mod plan;
pub mod recorded;

pub use case::{Case, Phase, TIMEOUT_CASE_LIMIT, TIMEOUT_CASE_MIN_DELAY};
pub use manifest::{
    CallPattern, CanonicalRequest, CaseEntry, CreateSection, LookupSection, Manifest, QuoteSection,
};
pub use plan::{Plan, PlannedCase, Skipped};

#[cfg(test)]
mod tests;
