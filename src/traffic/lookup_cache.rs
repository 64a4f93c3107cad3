//! The lookup cache (moka): get and list answers are reused for a short TTL, longer once
//! every refund in them is final. Concurrent identical lookups share one vendor call
//! (moka's `try_get_with` coalesces them); errors are never cached; a create invalidates
//! every cached lookup of its target. Creates are never cached.
//!
//! Live lookups (`Cache-Control: no-cache`) are collapsed too, but only onto a vendor call
//! that *started after* they arrived: identical live lookups take turns per key, and one
//! whose turn comes after a call began since its arrival takes that call's answer. So every
//! live answer is fresh from the vendor as of the request, and a crowd asking the same
//! thing live costs the vendor one call per round trip, not one each.
//!
//! Quotes (`POST /v1/refund-quotes`) live in the same cache, keyed by the target and
//! amount asked about: built from reads only, reused like a lookup, and dropped by a create
//! on their target like every lookup of it.
//!
//! An entry also keeps which of its refunds the gateway made (their ledger ids and
//! clients), filled once by the caller when the entry is made: a cached answer needs no
//! database work, and a create on the target drops the entry, so the next lookup finds
//! the new refund and its id together.
//!
//! With `[coordination]`, a create's invalidation reaches every gateway
//! (`cache_invalidation`); a gateway not subscribed to them bypasses its cache.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use moka::future::Cache;
use moka::Expiry;
use refund_provider::{ErrorKind, InstanceName, ProviderError, Quote, Refund, Target, VendorRef};

mod listing;
mod live;
mod quote;

pub use listing::{LedgerId, Listing};

use super::cache_invalidation::{self, drop_target, Invalidations};
use super::lookup_retry::with_retries;
use super::outbound_limit::Purpose;
use crate::config::CacheBounds;
use crate::instances::Instance;

/// Every entry weighs at least this many bytes, so the byte budget bounds the entry count.
const MIN_ENTRY_WEIGHT: u32 = 1024;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Lookup {
    Get(VendorRef),
    List(Target),
    /// A quote of a target and an amount (JSON of both).
    Quote(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Key {
    pub(super) instance: InstanceName,
    lookup: Lookup,
}

/// What an entry holds: a lookup's refunds, or a quote.
#[derive(Clone)]
enum Answer {
    Refunds(Arc<Listing>),
    Quote(Arc<Quote>),
}

#[derive(Clone)]
pub(super) struct Entry {
    answer: Answer,
    /// The targets these refunds belong to, for invalidation by a create.
    pub(super) targets: Arc<Vec<String>>,
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
    /// The `result` label of `refund_gateway_lookup_cache_total`.
    pub fn label(self) -> &'static str {
        match self {
            CacheStatus::Hit => "hit",
            CacheStatus::Miss => "miss",
            CacheStatus::Bypass => "bypass",
        }
    }

    pub fn header_value(self) -> &'static str {
        match self {
            CacheStatus::Hit => "refund-gateway; hit",
            CacheStatus::Miss => "refund-gateway; fwd=miss; stored",
            CacheStatus::Bypass => "refund-gateway; fwd=request; stored",
        }
    }
}

/// The cached entries. Keys are hashed with `foldhash`'s randomly seeded quality hasher:
/// moka's default SipHash was a tenth of a cached lookup's own work (keys hold
/// caller-supplied targets, so the seed stays random).
pub(super) type Entries = Cache<Key, Entry, foldhash::quality::RandomState>;

pub struct LookupCache {
    cache: Entries,
    /// Invalidations shared with other gateways, with `[coordination]`.
    shared: OnceLock<Invalidations>,
    /// Live lookups in progress, per key.
    live: std::sync::Mutex<HashMap<Key, Arc<live::LiveTurns>>>,
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
            .build_with_hasher(foldhash::quality::RandomState::default());
        LookupCache {
            cache,
            shared: OnceLock::new(),
            live: Default::default(),
        }
    }

    /// One vendor refund by its reference.
    pub async fn get(
        &self,
        instance: &Instance,
        vendor_ref: &VendorRef,
        live: bool,
    ) -> Result<(Refund, CacheStatus), ProviderError> {
        let (listing, status) = self.get_listing(instance, vendor_ref, live).await?;
        Ok((listing.refunds[0].clone(), status))
    }

    /// One vendor refund by its reference, as the cache entry holds it (exactly one refund).
    pub async fn get_listing(
        &self,
        instance: &Instance,
        vendor_ref: &VendorRef,
        live: bool,
    ) -> Result<(Arc<Listing>, CacheStatus), ProviderError> {
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
        let ids = |_: &[Refund]| async { Vec::new() };
        let (listing, status) = self.lookup(instance, key, None, live, fetch, ids).await?;
        if listing.refunds.is_empty() {
            return Err(ProviderError::new(
                refund_provider::ErrorKind::NotFound,
                "no such refund",
            ));
        }
        Ok((listing, status))
    }

    /// The vendor's refunds of a target; `ledger_ids` names those the gateway made, and
    /// runs only when the answer comes from the vendor.
    pub async fn list<I, IFut>(
        &self,
        instance: &Instance,
        target: &Target,
        live: bool,
        ledger_ids: I,
    ) -> Result<(Arc<Listing>, CacheStatus), ProviderError>
    where
        I: FnOnce(&[Refund]) -> IFut,
        IFut: std::future::Future<Output = Vec<Option<LedgerId>>>,
    {
        let key = Key {
            instance: instance.name.clone(),
            lookup: Lookup::List(target.clone()),
        };
        let fetch = || async {
            with_retries(&instance.traffic.retry, || instance.provider.list(target)).await
        };
        self.lookup(instance, key, Some(target), live, fetch, ledger_ids)
            .await
    }

    /// `listed`: the target a list was asked for (its keys invalidate the entry too).
    async fn lookup<F, Fut, I, IFut>(
        &self,
        instance: &Instance,
        key: Key,
        listed: Option<&Target>,
        live: bool,
        fetch: F,
        ledger_ids: I,
    ) -> Result<(Arc<Listing>, CacheStatus), ProviderError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Vec<Refund>, ProviderError>>,
        I: FnOnce(&[Refund]) -> IFut,
        IFut: std::future::Future<Output = Vec<Option<LedgerId>>>,
    {
        // Not hearing other gateways' creates, nothing cached can be trusted.
        let live = live || self.shared.get().is_some_and(|s| !s.is_subscribed());
        let ttls = &instance.traffic.cache;
        let into_entry = |refunds: Vec<Refund>, ledger_ids: Vec<Option<LedgerId>>| {
            let all_final = refunds.iter().all(|r| r.status.is_final());
            let mut targets: Vec<String> = refunds
                .iter()
                .flat_map(|r| target_keys(&r.target))
                .collect();
            if let Some(t) = listed {
                targets.extend(target_keys(t));
            }
            let bytes = serde_json::to_vec(&refunds).map(|b| b.len()).unwrap_or(0);
            Entry {
                answer: Answer::Refunds(Arc::new(Listing::new(refunds, ledger_ids))),
                targets: Arc::new(targets),
                ttl: if all_final { ttls.final_ttl } else { ttls.ttl },
                weight: u32::try_from(bytes)
                    .unwrap_or(u32::MAX)
                    .max(MIN_ENTRY_WEIGHT),
            }
        };
        let fill = || async {
            let refunds = Purpose::Lookup.scope(fetch()).await?;
            let ids = ledger_ids(&refunds).await;
            Ok::<_, ProviderError>(into_entry(refunds, ids))
        };
        let (entry, status) = self.cached(&instance.name, key, live, fill).await?;
        match entry.answer {
            Answer::Refunds(listing) => Ok((listing, status)),
            // Quote keys are never refund lookups' keys.
            Answer::Quote(_) => Err(ProviderError::new(
                ErrorKind::BadResponse,
                "the lookup cache holds a quote under a refund lookup's key",
            )),
        }
    }

    /// The entry of `key`: cached, or made by `fill` (see the module doc for live lookups).
    async fn cached<F, Fut>(
        &self,
        instance: &InstanceName,
        key: Key,
        live: bool,
        fill: F,
    ) -> Result<(Entry, CacheStatus), ProviderError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Entry, ProviderError>>,
    {
        let count = |status: CacheStatus| {
            crate::metric_handles::increment(
                "refund_gateway_lookup_cache_total",
                &[("instance", instance.as_str()), ("result", status.label())],
                1,
            );
        };
        if live {
            count(CacheStatus::Bypass);
            let arrived = Instant::now();
            let turn = live::LiveTurn::join(&self.live, &key);
            let mut last = turn.turns.last.lock().await;
            let result = match &*last {
                // A call that began after this request arrived: its answer is fresh enough.
                Some((began, result)) if *began >= arrived => result.clone(),
                _ => {
                    let began = Instant::now();
                    let result = Box::pin(fill()).await;
                    if let Ok(entry) = &result {
                        self.cache.insert(key.clone(), entry.clone()).await;
                    }
                    *last = Some((began, result.clone()));
                    result
                }
            };
            drop(last);
            drop(turn);
            return result.map(|entry| (entry, CacheStatus::Bypass));
        }
        let missed = AtomicBool::new(false);
        let entry = self
            .cache
            .try_get_with(key, async {
                missed.store(true, Ordering::SeqCst);
                // Boxed, so the future handed to the cache (and moved through its layers
                // on every lookup, hit or not) stays small: the vendor call it may make is
                // only built, on the heap, on a miss.
                Box::pin(fill()).await
            })
            .await
            .map_err(|e: Arc<ProviderError>| e.as_ref().clone())?;
        let status = if missed.load(Ordering::SeqCst) {
            CacheStatus::Miss
        } else {
            CacheStatus::Hit
        };
        count(status);
        Ok((entry, status))
    }

    /// Drops every cached lookup of `instance` that concerns `target`.
    pub fn invalidate_target(&self, instance: &InstanceName, target: &Target) {
        drop_target(&self.cache, instance, target);
    }

    /// `invalidate_target` here and, with `[coordination]`, on every other gateway.
    pub async fn invalidate_everywhere(&self, instance: &InstanceName, target: &Target) {
        self.invalidate_target(instance, target);
        if let Some(shared) = self.shared.get() {
            shared.publish(instance, target).await;
        }
    }

    /// Hears (and tells) other gateways' invalidations through Redis from now on.
    pub fn share(&self, coordination: std::sync::Arc<crate::coordination::Coordination>) {
        let _ = self
            .shared
            .set(cache_invalidation::start(coordination, self.cache.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A live lookup dropped midway (its client gone, a request timeout) leaves nothing
    /// behind: keys are named by clients, so a leftover per drop would grow without bound.
    #[tokio::test]
    async fn a_live_lookup_dropped_midway_leaves_no_key_behind() {
        let cache = LookupCache::new(&CacheBounds::default());
        let instance = InstanceName::new("tm").unwrap();
        for n in 0..3 {
            let key = Key {
                instance: instance.clone(),
                lookup: Lookup::Get(VendorRef::new(format!("never-answered-{n}"))),
            };
            let never = || std::future::pending::<Result<Entry, ProviderError>>();
            let lookup = cache.cached(&instance, key, true, never);
            let dropped = tokio::time::timeout(Duration::from_millis(10), lookup).await;
            assert!(dropped.is_err(), "the vendor never answers");
        }
        assert_eq!(cache.live.lock().unwrap().len(), 0);
    }
}
