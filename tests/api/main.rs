//! End-to-end tests of the running gateway over loopback HTTP: canonical input
//! validation, config checking (as a real process), the sandbox walk-through of the README,
//! secrets hygiene, timeouts, and traffic control.

#[path = "../support/mod.rs"]
mod support;

mod batches;
mod clients;
mod config_check;
mod ledger;
mod secrets;
mod timeouts;
mod traffic;
mod validation;
mod vendor_registry;
mod walkthrough;
