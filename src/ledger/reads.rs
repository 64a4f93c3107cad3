//! Reading refunds the gateway made: from the ledger, refreshed from the vendor (through
//! the lookup cache) where the vendor can be read. A vendor that cannot be read (Stubbur)
//! is answered from what was recorded.

use refund_provider::{InstanceName, Refund, RefundId, RefundStatus, VendorRef};

use super::create::storage_unavailable;
use super::view::refund_of;
use crate::api::problem::ApiError;
use crate::api::AppState;
use crate::clients::ClientId;
use crate::storage::refunds::{LedgerFilter, LedgerRow, Settlement};
use crate::traffic::lookup_cache::CacheStatus;

/// One ledger refund; `None` cache status when the vendor was not asked.
pub async fn get(
    state: &AppState,
    client: &ClientId,
    id: &str,
    live: bool,
    include_raw: bool,
) -> Result<(Refund, Option<CacheStatus>), ApiError> {
    let row = state
        .storage
        .get_refund(id)
        .await
        .map_err(storage_unavailable)?
        .filter(|row| row.client == client.as_str())
        .ok_or_else(|| ApiError::NotFound(format!("no refund has the id `{id}`")))?;
    let (row, cache) = refresh(state, row, live).await;
    let mut refund = refund_of(&row);
    if include_raw {
        refund.raw = row.refund.and_then(|r| r.raw);
    }
    Ok((refund, cache))
}

/// Brings a row up to date with the vendor's view, settling it if the vendor's status moved
/// on. A failed refresh is not an error: the ledger's record stands, with a note.
async fn refresh(state: &AppState, row: LedgerRow, live: bool) -> (LedgerRow, Option<CacheStatus>) {
    let Some(instance) = state.instances.get(&row.provider) else {
        return (row, None);
    };
    let Some(reference) = row.vendor_reference.clone() else {
        return (row, None);
    };
    if !instance.provider.capabilities().get || row.status == RefundStatus::Unknown {
        return (row, None);
    }
    match state
        .lookups
        .get(instance, &VendorRef::new(reference), live)
        .await
    {
        Ok((fresh, cache)) => {
            let storage = &state.storage;
            let saved = if fresh.status != row.status && !row.status.is_final() {
                let settlement = Settlement {
                    status: fresh.status,
                    code: None,
                    detail: None,
                    refund: Some(fresh),
                    vendor_error: None,
                    resolution_note: None,
                };
                storage.settle(&row.id, &settlement).await.map(|_| ())
            } else {
                storage.refresh_snapshot(&row.id, &fresh).await
            };
            if let Err(e) = saved {
                tracing::warn!(error = %e, refund = %row.id, "could not save a refreshed refund");
            }
            let row = match storage.get_refund(&row.id).await {
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

/// Gives the refunds of a vendor listing that the gateway made the ids their creates
/// returned. Without the ledger (it is down) the vendor's ids stand: a lookup needs no ledger.
pub async fn use_ledger_ids(state: &AppState, instance: &InstanceName, refunds: &mut [Refund]) {
    let references: Vec<String> = refunds
        .iter()
        .map(|r| r.vendor_reference.as_str().to_string())
        .collect();
    match state
        .storage
        .ids_by_vendor_reference(instance.as_str(), &references)
        .await
    {
        Ok(pairs) => {
            for refund in refunds.iter_mut() {
                if let Some((_, id)) = pairs
                    .iter()
                    .find(|(r, _)| r == refund.vendor_reference.as_str())
                {
                    refund.id = RefundId::from_string(id.clone());
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "ledger unavailable; vendor ids kept in a listing"),
    }
}

/// A page of the ledger, newest first, and whether more follow.
pub async fn list(
    state: &AppState,
    filter: &LedgerFilter,
    limit: i64,
) -> Result<(Vec<Refund>, bool), ApiError> {
    let mut rows = state
        .storage
        .list_refunds(filter, limit + 1)
        .await
        .map_err(storage_unavailable)?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok((rows.iter().map(refund_of).collect(), has_more))
}
