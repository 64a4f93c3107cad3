//! Taking a batch item by item as an upload streams in (CSV or NDJSON): each item is checked
//! as a create would be, and against the items before it (no target twice); checked items
//! are staged in chunks (`storage::batch_intake`), so memory holds one chunk and a digest per
//! target, whatever the upload's size. The batch opens only when every item passed; a fault
//! anywhere refuses the upload whole, naming the first faults by item, line and column.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::batches::{item_fault, MAX_REPORTED_ERRORS};
use super::create::NewRefund;
use super::error::{FaultKind, FieldFault};
use super::report::BatchReport;
use super::{Client, Refunds, ServiceError};
use crate::storage::batches::NewItem;

/// Items written to the ledger per transaction while an upload is read.
const STAGE_CHUNK: usize = 1000;

/// Where an item of an upload came from, so its faults can name the place.
pub struct Place<'a> {
    /// The item's line in the file (a CSV's header is line 1).
    pub line: u64,
    /// The file's column holding the field at a pointer within the item (`/provider`,
    /// `/target`, `/amount/value`, ...), where the file has columns.
    pub column_of: &'a (dyn Fn(&str) -> Option<String> + Sync),
}

/// An upload being taken in. Dropped without `finish`, its staged rows stay invisible
/// until the next upload clears them; call `abandon` to clear them at once.
pub struct Intake<'a> {
    refunds: &'a Refunds,
    client: &'a Client,
    id: String,
    /// Digest of each accepted (provider, target) → the line and index of its first item.
    targets: HashMap<[u8; 16], (u64, usize)>,
    faults: Vec<FieldFault>,
    total_faults: usize,
    count: usize,
    pending: Vec<NewItem>,
    staged: usize,
}

impl Refunds {
    /// Starts taking in batch `id` for `client`.
    pub async fn begin_intake<'a>(
        &'a self,
        client: &'a Client,
        id: &str,
        key: Option<&str>,
    ) -> Result<Intake<'a>, ServiceError> {
        self.storage.stage_batch(id, client.name(), key).await?;
        Ok(Intake {
            refunds: self,
            client,
            id: id.to_string(),
            targets: HashMap::new(),
            faults: Vec::new(),
            total_faults: 0,
            count: 0,
            pending: Vec::with_capacity(STAGE_CHUNK),
            staged: 0,
        })
    }

    /// Opens a batch taken in whole: its items are queued for the worker.
    pub async fn open_batch(
        &self,
        client: &Client,
        id: &str,
        count: usize,
    ) -> Result<BatchReport, ServiceError> {
        self.storage.open_staged(id, count as i64).await?;
        self.batch_work.notify_one();
        self.batch(client, id).await
    }

    /// Drops a batch taken in whole that will not be opened (its idempotency key had
    /// already been answered).
    pub async fn drop_intake(&self, id: &str) -> Result<(), ServiceError> {
        Ok(self.storage.drop_staged(id).await?)
    }
}

fn target_digest(provider: &str, target: &str) -> [u8; 16] {
    let digest = Sha256::new()
        .chain_update(provider.as_bytes())
        .chain_update([0])
        .chain_update(target.as_bytes())
        .finalize();
    let mut key = [0; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

impl Intake<'_> {
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The index the next item will have (`/items/<index>` in faults).
    pub fn next_index(&self) -> usize {
        self.count
    }

    /// Takes the next item (parsed, or already at fault). Fails only when the upload holds
    /// more items than a batch may, or the ledger cannot take the chunk.
    pub async fn push(
        &mut self,
        item: Result<NewRefund, FieldFault>,
        place: Place<'_>,
    ) -> Result<(), ServiceError> {
        let max_items = self.refunds.batches.max_items;
        if self.count >= max_items {
            return Err(ServiceError::TooManyItems(max_items));
        }
        let index = self.count;
        self.count += 1;
        let checked = item.and_then(|new| {
            let body = serde_json::to_string(&new).unwrap_or_default();
            let checked = self
                .refunds
                .check(self.client, new)
                .map_err(|e| item_fault(index, e))?;
            let target = serde_json::to_string(&checked.request.target).unwrap_or_default();
            Ok((checked.instance.name.to_string(), target, body))
        });
        let fault = match checked {
            Ok((provider, target, body)) => {
                match self
                    .targets
                    .insert(target_digest(&provider, &target), (place.line, index))
                {
                    Some((line, first)) => Some(FieldFault {
                        pointer: format!("/items/{index}/target"),
                        kind: FaultKind::DuplicateTarget,
                        detail: format!(
                            "the same provider and target as line {line} (/items/{first}): one refund per target per batch"
                        ),
                        ..Default::default()
                    }),
                    None => {
                        if self.total_faults == 0 {
                            self.pending.push(NewItem { provider, body });
                        }
                        None
                    }
                }
            }
            Err(fault) => Some(fault),
        };
        if let Some(mut fault) = fault {
            self.total_faults += 1;
            // Nothing of a refused upload needs storing any more.
            self.pending.clear();
            if self.faults.len() < MAX_REPORTED_ERRORS {
                let within = fault
                    .pointer
                    .strip_prefix(&format!("/items/{index}"))
                    .unwrap_or("")
                    .to_string();
                fault.line = fault.line.or(Some(place.line));
                fault.column = fault.column.or_else(|| (place.column_of)(&within));
                self.faults.push(fault);
            }
        }
        if self.pending.len() >= STAGE_CHUNK {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), ServiceError> {
        if !self.pending.is_empty() {
            self.refunds
                .storage
                .stage_items(&self.id, self.staged as i64, &self.pending)
                .await?;
            self.staged += self.pending.len();
            self.pending.clear();
        }
        Ok(())
    }

    /// Ends the upload: every item passed (the batch is staged whole and its item count
    /// returned) or the upload is refused whole, naming its first faults.
    pub async fn finish(mut self) -> Result<usize, ServiceError> {
        if self.total_faults == 0 && self.count > 0 {
            self.flush().await?;
            return Ok(self.count);
        }
        self.refunds.storage.drop_staged(&self.id).await?;
        if self.count == 0 {
            return Err(ServiceError::invalid(
                "/items",
                format!(
                    "a batch holds 1 to {} items; this upload has none",
                    self.refunds.batches.max_items
                ),
            ));
        }
        Err(ServiceError::InvalidItems {
            faults: self.faults,
            total: self.total_faults,
        })
    }

    /// Gives the upload up (too many items, or the body broke off): its staged rows go.
    pub async fn abandon(self) {
        if let Err(e) = self.refunds.storage.drop_staged(&self.id).await {
            tracing::warn!(error = %e, batch = %self.id, "could not drop a staged upload; the next upload will");
        }
    }
}
