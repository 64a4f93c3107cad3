//! The lookup cache's side of invalidations shared through Redis: what a message says (an
//! instance and a target, JSON) and what hearing one does (drop that target's lookups).

use std::sync::Arc;

use refund_provider::{InstanceName, Target};
use serde::{Deserialize, Serialize};

use super::lookup_cache::{target_keys, Entries};
use crate::coordination::invalidation::{self, InvalidationSink};
use crate::coordination::Coordination;

/// One message: lookups of `target` on `instance` are stale.
#[derive(Serialize, Deserialize)]
struct Stale {
    instance: InstanceName,
    target: Target,
}

struct Sink {
    cache: Entries,
}

impl InvalidationSink for Sink {
    fn invalidate(&self, payload: &str) {
        match serde_json::from_str::<Stale>(payload) {
            Ok(stale) => drop_target(&self.cache, &stale.instance, &stale.target),
            Err(e) => {
                // A message this version cannot read: be safe, forget everything.
                tracing::warn!(error = %e, "unreadable cache invalidation; clearing the cache");
                self.cache.invalidate_all();
            }
        }
    }

    fn forget_all(&self) {
        self.cache.invalidate_all();
    }
}

/// The cache's subscription, and its publisher.
pub struct Invalidations {
    inner: invalidation::Invalidations,
}

pub(super) fn start(coordination: Arc<Coordination>, cache: Entries) -> Invalidations {
    Invalidations {
        inner: invalidation::Invalidations::start(coordination, Arc::new(Sink { cache })),
    }
}

impl Invalidations {
    pub fn is_subscribed(&self) -> bool {
        self.inner.is_subscribed()
    }

    pub async fn publish(&self, instance: &InstanceName, target: &Target) {
        let stale = Stale {
            instance: instance.clone(),
            target: target.clone(),
        };
        if let Ok(payload) = serde_json::to_string(&stale) {
            self.inner.publish(payload).await;
        }
    }
}

/// Drops every cached lookup of `instance` that concerns `target`.
pub(super) fn drop_target(cache: &Entries, instance: &InstanceName, target: &Target) {
    let stale = target_keys(target);
    if stale.is_empty() {
        return;
    }
    let instance = instance.clone();
    let result = cache.invalidate_entries_if(move |key, entry| {
        key.instance == instance && entry.targets.iter().any(|t| stale.contains(t))
    });
    if let Err(e) = result {
        // Only possible if the builder lacked invalidation closures: clear everything.
        tracing::error!(error = %e, "lookup cache invalidation failed; clearing the cache");
        cache.invalidate_all();
    }
}
