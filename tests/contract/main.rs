//! Contract tests: each vendor's provider driven through the real gateway over loopback
//! HTTP against a replay vendor serving that vendor's recorded fixtures.

#[path = "../support/mod.rs"]
mod support;

mod fourvenues;
mod ivvy;
mod paylogic;
mod record;
mod record_suite;
mod replay_diff;
mod replay_state;
mod shared;
mod stubbur;
mod ticketmatic;
mod verify;
