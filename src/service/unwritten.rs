//! Vendor outcomes the ledger could not take when they came (the database was lost or
//! busy after the vendor was called). They are kept in memory and written as soon as the
//! ledger takes them again (the reconciler tries on every pass), so what the vendor said
//! is not lost to a passing outage; meanwhile the refund is answered as `unknown`. Only if
//! the process stops first does the row's lease run out and a lookup settle it instead.

use std::sync::Mutex;

use crate::storage::refunds::{Settle, Settlement};
use crate::storage::Storage;

#[derive(Default)]
pub struct Unwritten {
    pending: Mutex<Vec<(String, Settlement)>>,
}

impl Unwritten {
    pub fn keep(&self, id: &str, settlement: Settlement) {
        self.lock().push((id.to_string(), settlement));
    }

    /// Writes what the ledger now takes; keeps the rest for the next try.
    pub async fn write(&self, storage: &Storage) {
        let pending = std::mem::take(&mut *self.lock());
        let mut left = Vec::new();
        for (id, settlement) in pending {
            match storage.settle(Settle::Refund(&id), &settlement).await {
                Ok(_) => {
                    tracing::info!(refund = %id, "a vendor outcome kept in memory is now in the ledger")
                }
                Err(e) => {
                    tracing::warn!(error = %e, refund = %id, "the ledger still cannot take a vendor outcome");
                    left.push((id, settlement));
                }
            }
        }
        self.lock().extend(left);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(String, Settlement)>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}
