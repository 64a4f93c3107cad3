//! Several gateways sharing vendor budgets through one Redis (`[coordination]`): real
//! gateway processes on one PostgreSQL ledger, real Redis servers, and vendor sandboxes
//! whose own request logs are the measurement.

#[path = "../support/mod.rs"]
mod support;

mod budgets;
mod sharing;
