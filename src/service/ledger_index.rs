//! Which vendor refunds the gateway made, by vendor reference, kept in memory in front of
//! the ledger so that a live lookup does not cost a database query per answer. A known
//! "ours" never changes (a vendor reference, once recorded, stays with its ledger row), so
//! it is kept until evicted; a "not ours" may turn into "ours" when any gateway sharing the
//! ledger records that refund, so it is kept only for `NOT_OURS_TTL`. This process's own
//! records are known at once (`remember`).

use std::time::{Duration, Instant};

use moka::sync::Cache;
use moka::Expiry;

use crate::storage::Storage;
use crate::traffic::lookup_cache::LedgerId;

/// How long "no ledger row carries this vendor reference" is believed.
pub const NOT_OURS_TTL: Duration = Duration::from_secs(1);
/// How many references are remembered at most.
const CAPACITY: u64 = 200_000;

type Key = (String, String);

struct ByAnswer;

impl Expiry<Key, Option<LedgerId>> for ByAnswer {
    fn expire_after_create(
        &self,
        _: &Key,
        value: &Option<LedgerId>,
        _: Instant,
    ) -> Option<Duration> {
        value.is_none().then_some(NOT_OURS_TTL)
    }

    fn expire_after_update(
        &self,
        key: &Key,
        value: &Option<LedgerId>,
        at: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        self.expire_after_create(key, value, at)
    }
}

pub struct LedgerIndex {
    known: Cache<Key, Option<LedgerId>>,
}

impl Default for LedgerIndex {
    fn default() -> Self {
        LedgerIndex {
            known: Cache::builder()
                .max_capacity(CAPACITY)
                .expire_after(ByAnswer)
                .build(),
        }
    }
}

impl LedgerIndex {
    /// A refund this process recorded with its vendor reference.
    pub fn remember(&self, instance: &str, vendor_reference: &str, id: LedgerId) {
        self.known.insert(
            (instance.to_string(), vendor_reference.to_string()),
            Some(id),
        );
    }

    /// The ledger id of each reference, asking the ledger only for those not known here.
    /// Without the ledger (it is down) the unknown ones stay vendor refunds: a lookup needs
    /// no ledger.
    pub async fn lookup(
        &self,
        storage: &Storage,
        instance: &str,
        references: Vec<String>,
    ) -> Vec<Option<LedgerId>> {
        let key = |r: &String| (instance.to_string(), r.clone());
        let known: Vec<Option<Option<LedgerId>>> =
            references.iter().map(|r| self.known.get(&key(r))).collect();
        let missing: Vec<String> = references
            .iter()
            .zip(&known)
            .filter(|(_, k)| k.is_none())
            .map(|(r, _)| r.clone())
            .collect();
        let found = if missing.is_empty() {
            Vec::new()
        } else {
            match storage.ids_by_vendor_reference(instance, &missing).await {
                Ok(found) => {
                    for reference in &missing {
                        let ours =
                            found
                                .iter()
                                .find(|(r, _, _)| r == reference)
                                .map(|(_, id, client)| LedgerId {
                                    id: id.clone(),
                                    client: client.clone(),
                                });
                        self.known.insert(key(reference), ours);
                    }
                    found
                }
                Err(e) => {
                    tracing::warn!(error = %e, "ledger unavailable; vendor ids kept in a listing");
                    Vec::new()
                }
            }
        };
        references
            .iter()
            .zip(known)
            .map(|(reference, known)| match known {
                Some(answer) => answer,
                None => found
                    .iter()
                    .find(|(r, _, _)| r == reference)
                    .map(|(_, id, client)| LedgerId {
                        id: id.clone(),
                        client: client.clone(),
                    }),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use refund_provider::{InstanceName, Refund, RefundStatus, Target, VendorRef};

    use super::*;
    use crate::storage::refunds::{Intent, Settle, Settlement};

    async fn record(storage: &Storage, id: &str, vendor_reference: &str) {
        let intent = Intent {
            id: id.into(),
            client: "acme".into(),
            provider: "tm".into(),
            provider_kind: "ticketmatic".into(),
            target: Target::default(),
            amount: None,
            reason: None,
            metadata: Default::default(),
            idempotency_key: None,
            request_hash: None,
            batch_id: None,
            in_flight_until: 0,
            owner: None,
        };
        storage.insert_intent(&intent).await.unwrap();
        let refund = Refund::new(
            &InstanceName::new("tm").unwrap(),
            "ticketmatic",
            VendorRef::new(vendor_reference),
            RefundStatus::Succeeded,
            Target::default(),
        );
        storage
            .settle(Settle::Refund(id), &Settlement::from_vendor(refund))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn ours_is_kept_and_not_ours_is_asked_again_after_its_ttl() {
        let storage = Storage::connect("sqlite::memory:").await.unwrap();
        let index = LedgerIndex::default();
        record(&storage, "rfg_a", "ref-a").await;
        let refs = || vec!["ref-a".to_string(), "ref-b".to_string()];
        let first = index.lookup(&storage, "tm", refs()).await;
        assert_eq!(first[0].as_ref().map(|l| l.id.as_str()), Some("rfg_a"));
        assert_eq!(first[1], None);
        // Another gateway records ref-b: within the TTL this one still says "not ours"...
        record(&storage, "rfg_b", "ref-b").await;
        assert_eq!(index.lookup(&storage, "tm", refs()).await[1], None);
        // ...and asks the ledger again once it has passed.
        tokio::time::sleep(NOT_OURS_TTL + Duration::from_millis(200)).await;
        let later = index.lookup(&storage, "tm", refs()).await;
        assert_eq!(later[1].as_ref().map(|l| l.id.as_str()), Some("rfg_b"));
        // What this process records itself is known at once.
        index.remember(
            "tm",
            "ref-c",
            LedgerId {
                id: "rfg_c".into(),
                client: "acme".into(),
            },
        );
        storage.close().await;
        let cached = index.lookup(&storage, "tm", vec!["ref-c".into()]).await;
        assert_eq!(cached[0].as_ref().map(|l| l.id.as_str()), Some("rfg_c"));
    }
}
