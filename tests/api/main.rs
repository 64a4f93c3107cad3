//! End-to-end tests of the running gateway over loopback HTTP: canonical input
//! validation, config checking (as a real process), the sandbox walk-through of the README,
//! secrets hygiene, timeouts, and traffic control.

#[path = "../support/mod.rs"]
mod support;

mod access_log;
mod batch_listing;
mod batch_status;
mod batch_uploads;
mod batches;
mod clients;
mod config_check;
mod conventions;
mod crash_replays;
mod events;
mod layering;
mod ledger;
mod ledger_outage;
mod metric_families;
mod metrics;
mod openapi_doc;
mod partial_refunds;
mod probes;
mod progress_page;
mod quotes;
mod request_ids;
mod secrets;
mod storage_start;
mod strict_input;
mod tenants;
mod timeouts;
mod tracing;
mod traffic;
mod validation;
mod vendor_changes;
mod vendor_registry;
mod vendor_words;
mod walkthrough;
mod webhook_crash;
mod webhook_receiver;
mod webhooks;
