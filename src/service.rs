//! The refund service: the gateway's domain, beneath the HTTP API. It owns the provider
//! instances, the ledger, the lookup cache and the batch queue, and every method takes the
//! calling `Client`, so tenant scope is decided here, once: a client reaches only the
//! provider instances it is allowed, and sees only its own ledger rows, batches and
//! idempotency keys.
//!
//! It knows nothing of HTTP: answers are canonical refunds, reports and `ServiceError`s;
//! `api::problem` alone turns those into statuses and problem+json. The API and the batch
//! worker create refunds through the same method (`create`), and every status change goes
//! through `storage::refunds::settle`.

pub mod batch_intake;
pub mod batch_progress;
pub mod batches;
pub mod client;
pub mod create;
pub mod error;
pub mod events;
pub mod follow;
pub mod ledger_index;
mod periodic;
pub mod quotes;
pub mod reads;
pub mod reconcile;
pub mod report;
pub mod unwritten;
pub mod view;
pub mod worker;

use std::sync::Arc;
use std::time::Duration;

use refund_provider::ids::LEDGER_PREFIX;
use tokio::sync::Notify;

pub use client::Client;
pub use error::ServiceError;

use crate::config::BatchConfig;
use crate::instances::{Instance, Instances};
use crate::storage::Storage;
use crate::traffic::lookup_cache::LookupCache;
use ledger_index::LedgerIndex;

/// The domain service. One per gateway process; the API, the batch worker and the
/// reconciler share it.
pub struct Refunds {
    pub instances: Instances,
    pub lookups: LookupCache,
    /// Which vendor refunds are ours, in front of the ledger (for lookups).
    pub ledger_index: LedgerIndex,
    pub storage: Storage,
    pub batches: BatchConfig,
    /// Wakes the batch worker when items are queued.
    pub batch_work: Arc<Notify>,
    /// The longest a create may run: idempotency keys and intents are leased for twice this.
    pub request_timeout: Duration,
    /// This gateway process, as the ledger knows it (what it holds is released when it ends).
    pub gateway_id: String,
    /// Vendor outcomes the ledger could not take yet.
    pub unwritten: unwritten::Unwritten,
    /// `[events]`: retention, batch progress, webhook delivery and retries.
    pub events: crate::config::EventsConfig,
    /// Wakes the webhook worker (a redelivery asked for).
    pub webhook_work: Arc<Notify>,
    /// Vendor refunds followed lately (`follow`).
    pub recently_followed: follow::Recent,
}

impl Refunds {
    /// The instance `name`, if it exists and `client` may use it.
    pub fn instance_for(&self, client: &Client, name: &str) -> Result<&Instance, ServiceError> {
        let instance = self
            .instances
            .get(name)
            .ok_or_else(|| ServiceError::UnknownProvider(name.to_string()))?;
        if !client.may_use(instance.name.as_str()) {
            return Err(ServiceError::ProviderForbidden(name.to_string()));
        }
        Ok(instance)
    }

    /// The instances `client` may use.
    pub fn instances_for<'a>(&'a self, client: &'a Client) -> impl Iterator<Item = &'a Instance> {
        self.instances
            .iter()
            .filter(|i| client.may_use(i.name.as_str()))
    }

    /// How long a claimed key or an intent may stay without its outcome before its holder
    /// is taken for dead: longer than any request can take.
    pub fn lease(&self) -> Duration {
        self.request_timeout * 2
    }
}

/// A new ledger id: time-ordered (ULID), prefixed so reads can tell it from a vendor id.
pub fn new_refund_id() -> String {
    format!(
        "{LEDGER_PREFIX}{}",
        ulid::Ulid::new().to_string().to_ascii_lowercase()
    )
}
