//! Reading refunds, scoped to the calling client: a ledger refund by its `rfg_` id (its
//! own only), refreshed from the vendor through the lookup cache where the vendor can be
//! read; a vendor refund by its `rf_` id; a target's refunds at the vendor, showing the
//! caller's own refunds under the ids their creates returned; and pages of the ledger.

use std::sync::Arc;

use bytes::Bytes;

use refund_provider::{Operation, Refund, RefundId, RefundStatus, Target, VendorRef};

use super::view::refund_of;
use super::{Client, Refunds, ServiceError};
use crate::instances::Instance;
use crate::storage::refunds::{LedgerFilter, LedgerRow, Settle, Settlement};
use crate::traffic::lookup_cache::{CacheStatus, LedgerId, Listing};

impl Refunds {
    fn require(&self, instance: &Instance, operation: Operation) -> Result<(), ServiceError> {
        instance
            .provider
            .capabilities()
            .require(operation, instance.who())
            .map_err(ServiceError::Provider)
    }

    /// One refund by id; `None` cache status when the vendor was not asked.
    pub async fn get(
        &self,
        client: &Client,
        id: &RefundId,
        live: bool,
    ) -> Result<(Fetched, Option<CacheStatus>), ServiceError> {
        let not_found = || ServiceError::NotFound(format!("no refund has the id `{id}`"));
        if id.is_ledger() {
            let row = self
                .own_row(client, id.as_str())
                .await?
                .ok_or_else(not_found)?;
            let (row, cache) = self.refresh(row, live).await;
            let mut refund = refund_of(&row);
            refund.raw = row.refund.and_then(|r| r.raw);
            return Ok((Fetched::Ledger(Box::new(refund)), cache));
        }
        let (instance_name, vendor_ref) = id.decode_vendor().ok_or_else(not_found)?;
        let instance = self
            .instance_for(client, instance_name.as_str())
            .map_err(|e| match e {
                ServiceError::UnknownProvider(_) => not_found(),
                other => other,
            })?;
        self.require(instance, Operation::Get)?;
        let (listing, cache) = self
            .lookups
            .get_listing(instance, &vendor_ref, live)
            .await
            .map_err(ServiceError::Provider)?;
        // Not final at the vendor: followed, so its changes become events (`follow`).
        self.follow_if_open(client, instance, &listing).await;
        Ok((Fetched::Vendor(listing), Some(cache)))
    }

    /// A ledger row of `client`'s.
    pub async fn own_row(
        &self,
        client: &Client,
        id: &str,
    ) -> Result<Option<LedgerRow>, ServiceError> {
        Ok(self
            .storage
            .get_refund(id)
            .await?
            .filter(|row| row.client == client.name()))
    }

    /// Brings a row up to date with the vendor's view, settling it if the vendor's status
    /// moved on. A failed refresh is not an error: the ledger's record stands.
    async fn refresh(&self, row: LedgerRow, live: bool) -> (LedgerRow, Option<CacheStatus>) {
        let Some(instance) = self.instances.get(&row.provider) else {
            return (row, None);
        };
        let Some(reference) = row.vendor_reference.clone() else {
            return (row, None);
        };
        if !instance.provider.capabilities().get || row.status == RefundStatus::Unknown {
            return (row, None);
        }
        match self
            .lookups
            .get(instance, &VendorRef::new(reference), live)
            .await
        {
            Ok((fresh, cache)) => {
                let saved = if fresh.status != row.status && !row.status.is_final() {
                    self.storage
                        .settle(Settle::Refund(&row.id), &Settlement::from_vendor(fresh))
                        .await
                        .map(|_| ())
                } else {
                    self.storage.refresh_snapshot(&row.id, &fresh).await
                };
                if let Err(e) = saved {
                    tracing::warn!(error = %e, refund = %row.id, "could not save a refreshed refund");
                }
                let row = match self.storage.get_refund(&row.id).await {
                    Ok(Some(updated)) => updated,
                    _ => row,
                };
                (row, Some(cache))
            }
            Err(e) => {
                tracing::warn!(refund = %row.id, error = %e, "vendor refresh failed; answering from the ledger");
                (row, None)
            }
        }
    }

    /// The refunds the vendor knows for `target`, as `client` may see them: its own under
    /// their ledger ids, everyone else's under vendor ids.
    pub async fn list_target(
        &self,
        client: &Client,
        provider: &str,
        target: &Target,
        live: bool,
    ) -> Result<(TargetListing, CacheStatus), ServiceError> {
        let instance = self.instance_for(client, provider)?;
        instance
            .provider
            .capabilities()
            .check_list(target, instance.who())
            .map_err(ServiceError::Provider)?;
        let (listing, cache) = self
            .lookups
            .list(instance, target, live, |refunds| {
                self.ledger_ids(instance, vendor_references(refunds))
            })
            .await
            .map_err(ServiceError::Provider)?;
        let listing = TargetListing {
            listing,
            client: client.name().to_string(),
        };
        Ok((listing, cache))
    }

    /// Which of a vendor answer's refunds the gateway made.
    pub(crate) async fn ledger_ids(
        &self,
        instance: &Instance,
        references: Vec<String>,
    ) -> Vec<Option<LedgerId>> {
        self.ledger_index
            .lookup(&self.storage, instance.name.as_str(), references)
            .await
    }

    /// A page of `client`'s ledger, newest first, and whether more follow.
    pub async fn list_ledger(
        &self,
        client: &Client,
        mut filter: LedgerFilter,
        limit: i64,
    ) -> Result<(Vec<Refund>, bool), ServiceError> {
        filter.client = Some(client.name().to_string());
        let mut rows = self.storage.list_refunds(&filter, limit + 1).await?;
        let has_more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        Ok((rows.iter().map(refund_of).collect(), has_more))
    }
}

/// The vendor references of a vendor answer's refunds.
pub(crate) fn vendor_references(refunds: &[Refund]) -> Vec<String> {
    refunds
        .iter()
        .map(|r| r.vendor_reference.as_str().to_string())
        .collect()
}

/// A target's refunds as one client may see them: a refund carries its ledger id only for
/// the client that made it.
pub struct TargetListing {
    listing: Arc<Listing>,
    client: String,
}

impl TargetListing {
    /// The id `client` is shown for refund `index`, when it is its own.
    fn own_id(&self, index: usize) -> Option<&str> {
        self.listing
            .ledger_ids
            .get(index)?
            .as_ref()
            .filter(|ours| ours.client == self.client)
            .map(|ours| ours.id.as_str())
    }

    /// The refunds, vendor payloads included.
    pub fn refunds(&self) -> Vec<Refund> {
        (0..self.listing.refunds.len())
            .map(|i| self.refund(i))
            .collect()
    }

    fn refund(&self, index: usize) -> Refund {
        let mut refund = self.listing.refunds[index].clone();
        if let Some(id) = self.own_id(index) {
            refund.id = RefundId::from_string(id.to_string());
        }
        refund
    }

    /// The listing document `{"data":[...]}`, without vendor payloads. When none of the
    /// refunds is the client's own, it is the bytes the cache entry rendered once; else
    /// the others are copied from the entry's rendered refunds.
    pub fn document_without_raw(&self) -> Bytes {
        let owns_none = (0..self.listing.refunds.len()).all(|i| self.own_id(i).is_none());
        if owns_none {
            return self.listing.document();
        }
        let rendered = self.listing.rendered();
        let mut out = b"{\"data\":[".to_vec();
        for (i, bytes) in rendered.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            if self.own_id(i).is_some() {
                let mut refund = self.refund(i);
                refund.raw = None;
                out.extend(serde_json::to_vec(&refund).unwrap_or_default());
            } else {
                out.extend_from_slice(bytes);
            }
        }
        out.extend_from_slice(b"]}");
        Bytes::from(out)
    }
}

/// One refund found by id: from the ledger, or a vendor's refund as the cache holds it.
pub enum Fetched {
    Ledger(Box<Refund>),
    Vendor(Arc<Listing>),
}

impl Fetched {
    /// The refund, vendor payload included.
    pub fn into_refund(self) -> Refund {
        match self {
            Fetched::Ledger(refund) => *refund,
            Fetched::Vendor(listing) => listing.refunds[0].clone(),
        }
    }

    pub fn provider(&self) -> &str {
        match self {
            Fetched::Ledger(refund) => refund.provider.as_str(),
            Fetched::Vendor(listing) => listing.refunds[0].provider.as_str(),
        }
    }

    /// The refund as JSON without its vendor payload; a vendor refund's is the bytes its
    /// cache entry rendered once.
    pub fn json_without_raw(&self) -> Bytes {
        match self {
            Fetched::Ledger(refund) => {
                let mut refund = refund.clone();
                refund.raw = None;
                Bytes::from(serde_json::to_vec(&refund).unwrap_or_default())
            }
            Fetched::Vendor(listing) => listing.rendered()[0].clone(),
        }
    }
}
