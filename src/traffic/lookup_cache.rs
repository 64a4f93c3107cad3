//! The lookup cache (moka): get and list answers are reused for a short TTL, longer once
//! every refund in them is final. Concurrent identical lookups share one vendor call
//! (moka's `try_get_with` coalesces them); errors are never cached; a create invalidates
//! every cached lookup of its target. Creates are never cached.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::future::Cache;
use moka::Expiry;
use refund_provider::{InstanceName, ProviderError, Refund, Target, VendorRef};

use super::lookup_retry::with_retries;
use crate::config::CacheBounds;
use crate::instances::Instance;

/// Every entry weighs at least this many bytes, so the byte budget bounds the entry count.
const MIN_ENTRY_WEIGHT: u32 = 1024;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Lookup {
    Get(VendorRef),
    List(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    instance: InstanceName,
    lookup: Lookup,
}

#[derive(Clone)]
struct Entry {
    refunds: Arc<Vec<Refund>>,
    /// The targets these refunds belong to, for invalidation by a create.
    targets: Arc<Vec<String>>,
    ttl: Duration,
    weight: u32,
}

struct PerEntryTtl;

impl Expiry<Key, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _: &Key, value: &Entry, _: Instant) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// RFC 9211 Cache-Status of one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    Hit,
    Miss,
    /// The client asked for a live answer (`Cache-Control: no-cache`).
    Bypass,
}

impl CacheStatus {
    pub fn header_value(self) -> &'static str {
        match self {
            CacheStatus::Hit => "refund-gateway; hit",
            CacheStatus::Miss => "refund-gateway; fwd=miss; stored",
            CacheStatus::Bypass => "refund-gateway; fwd=request; stored",
        }
    }
}

pub struct LookupCache {
    cache: Cache<Key, Entry>,
}

/// Identifies what a target is about, so a create can find the lookups it made stale.
pub fn target_keys(target: &Target) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(order) = &target.order {
        keys.push(format!("order:{order}"));
    }
    keys.extend(target.payments.iter().map(|p| format!("payment:{p}")));
    keys.extend(target.tickets.iter().map(|t| format!("ticket:{t}")));
    if let Some(booking) = &target.booking {
        keys.push(format!(
            "booking:{}/{booking}",
            target.venue.as_deref().unwrap_or("")
        ));
    }
    if let Some(event) = &target.event {
        keys.push(format!("event:{event}"));
    }
    keys
}

impl LookupCache {
    pub fn new(bounds: &CacheBounds) -> Self {
        let cache = Cache::builder()
            .max_capacity(bounds.max_bytes)
            .weigher(|_: &Key, entry: &Entry| entry.weight)
            .expire_after(PerEntryTtl)
            .support_invalidation_closures()
            .build();
        LookupCache { cache }
    }

    pub async fn get(
        &self,
        instance: &Instance,
        vendor_ref: &VendorRef,
        live: bool,
    ) -> Result<(Refund, CacheStatus), ProviderError> {
        let key = Key {
            instance: instance.name.clone(),
            lookup: Lookup::Get(vendor_ref.clone()),
        };
        let fetch = || async {
            with_retries(&instance.traffic.retry, || {
                instance.provider.get(vendor_ref)
            })
            .await
            .map(|refund| vec![refund])
        };
        let (mut refunds, status) = self.lookup(instance, key, live, fetch).await?;
        let refund = refunds.pop().ok_or_else(|| {
            ProviderError::new(refund_provider::ErrorKind::NotFound, "no such refund")
        })?;
        Ok((refund, status))
    }

    pub async fn list(
        &self,
        instance: &Instance,
        target: &Target,
        live: bool,
    ) -> Result<(Vec<Refund>, CacheStatus), ProviderError> {
        let key = Key {
            instance: instance.name.clone(),
            lookup: Lookup::List(serde_json::to_string(target).unwrap_or_default()),
        };
        let fetch = || async {
            with_retries(&instance.traffic.retry, || instance.provider.list(target)).await
        };
        self.lookup(instance, key, live, fetch).await
    }

    async fn lookup<F, Fut>(
        &self,
        instance: &Instance,
        key: Key,
        live: bool,
        fetch: F,
    ) -> Result<(Vec<Refund>, CacheStatus), ProviderError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Vec<Refund>, ProviderError>>,
    {
        let ttls = &instance.traffic.cache;
        let into_entry = |refunds: Vec<Refund>| {
            let all_final = refunds.iter().all(|r| r.status.is_final());
            let mut targets: Vec<String> = refunds
                .iter()
                .flat_map(|r| target_keys(&r.target))
                .collect();
            if let Lookup::List(target) = &key.lookup {
                if let Ok(t) = serde_json::from_str::<Target>(target) {
                    targets.extend(target_keys(&t));
                }
            }
            let bytes = serde_json::to_vec(&refunds).map(|b| b.len()).unwrap_or(0);
            Entry {
                refunds: Arc::new(refunds),
                targets: Arc::new(targets),
                ttl: if all_final { ttls.final_ttl } else { ttls.ttl },
                weight: u32::try_from(bytes)
                    .unwrap_or(u32::MAX)
                    .max(MIN_ENTRY_WEIGHT),
            }
        };
        if live {
            let entry = into_entry(fetch().await?);
            self.cache.insert(key, entry.clone()).await;
            return Ok((entry.refunds.as_ref().clone(), CacheStatus::Bypass));
        }
        let missed = AtomicBool::new(false);
        let entry = self
            .cache
            .try_get_with(key.clone(), async {
                missed.store(true, Ordering::SeqCst);
                fetch().await.map(into_entry)
            })
            .await
            .map_err(|e: Arc<ProviderError>| e.as_ref().clone())?;
        let status = if missed.load(Ordering::SeqCst) {
            CacheStatus::Miss
        } else {
            CacheStatus::Hit
        };
        Ok((entry.refunds.as_ref().clone(), status))
    }

    /// Drops every cached lookup of `instance` that concerns `target`.
    pub fn invalidate_target(&self, instance: &InstanceName, target: &Target) {
        let stale = target_keys(target);
        if stale.is_empty() {
            return;
        }
        let instance = instance.clone();
        let result = self.cache.invalidate_entries_if(move |key, entry| {
            key.instance == instance && entry.targets.iter().any(|t| stale.contains(t))
        });
        if let Err(e) = result {
            // Only possible if the builder lacked invalidation closures: clear everything.
            tracing::error!(error = %e, "lookup cache invalidation failed; clearing the cache");
            self.cache.invalidate_all();
        }
    }
}
