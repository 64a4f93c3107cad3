//! Bulk refunds: a batch is checked whole (every item as a create would be, and against the
//! other items: no target twice), refused naming every item at fault, or stored whole with
//! its items queued for the worker. Reads and cancels are scoped to the submitting client.

use std::collections::HashMap;

use super::create::NewRefund;
use super::error::{FaultKind, FieldFault};
use super::report::{item_report, BatchReport, ItemReport};
use super::{Client, Refunds, ServiceError};
use crate::storage::batches::{BatchRow, NewItem};

/// How many item faults one answer lists at most (all are counted).
pub(super) const MAX_REPORTED_ERRORS: usize = 100;

/// A batch id: time-ordered, prefixed.
pub fn new_batch_id() -> String {
    format!("rb_{}", ulid::Ulid::new().to_string().to_ascii_lowercase())
}

/// Re-roots a fault of one item under `/items/<index>`.
pub(super) fn item_fault(index: usize, error: ServiceError) -> FieldFault {
    let at = |pointer: Option<&str>| format!("/items/{index}{}", pointer.unwrap_or_default());
    match error {
        ServiceError::Invalid { pointer, message } => FieldFault {
            pointer: at(Some(&pointer)),
            kind: FaultKind::Invalid,
            detail: message,
            ..Default::default()
        },
        ServiceError::Provider(e) => FieldFault {
            pointer: at(e.pointer.as_deref()),
            kind: FaultKind::Provider(e.kind),
            detail: e.message,
            ..Default::default()
        },
        ServiceError::UnknownProvider(name) => FieldFault {
            pointer: at(Some("/provider")),
            kind: FaultKind::UnknownProvider,
            detail: format!("no provider instance is named `{name}`"),
            ..Default::default()
        },
        // The detail is the instance's name: the API answers such a batch 403 naming it.
        ServiceError::ProviderForbidden(name) => FieldFault {
            pointer: at(Some("/provider")),
            kind: FaultKind::ProviderForbidden,
            detail: name,
            ..Default::default()
        },
        other => FieldFault {
            pointer: at(None),
            kind: FaultKind::Invalid,
            detail: other.to_string(),
            ..Default::default()
        },
    }
}

impl Refunds {
    /// Checks every item (each either parsed or already at fault); returns the items to
    /// store, or every fault found, up to `MAX_REPORTED_ERRORS`.
    pub fn check_batch(
        &self,
        client: &Client,
        items: Vec<Result<NewRefund, FieldFault>>,
    ) -> Result<Vec<NewItem>, ServiceError> {
        let max_items = self.batches.max_items;
        if items.is_empty() || items.len() > max_items {
            return Err(ServiceError::invalid(
                "/items",
                format!(
                    "a batch holds 1 to {max_items} items; this one has {}",
                    items.len()
                ),
            ));
        }
        let mut faults = Vec::new();
        let mut total = 0;
        let mut accepted = Vec::new();
        let mut targets: HashMap<String, usize> = HashMap::new();
        for (index, item) in items.into_iter().enumerate() {
            let checked = item.and_then(|new| {
                // Stored as given; checking consumes it.
                let body = serde_json::to_string(&new).unwrap_or_default();
                let checked = self.check(client, new).map_err(|e| item_fault(index, e))?;
                let target = serde_json::to_string(&checked.request.target).unwrap_or_default();
                Ok((checked.instance.name.to_string(), target, body))
            });
            match checked {
                Ok((provider, target, body)) => {
                    let key = format!("{provider}\u{0}{target}");
                    if let Some(first) = targets.insert(key, index) {
                        total += 1;
                        faults.push(FieldFault {
                            pointer: format!("/items/{index}/target"),
                            kind: FaultKind::DuplicateTarget,
                            detail: format!("the same provider and target as /items/{first}: one refund per target per batch"),
                            ..Default::default()
                        });
                    }
                    accepted.push(NewItem { provider, body });
                }
                Err(fault) => {
                    total += 1;
                    faults.push(fault);
                }
            }
        }
        faults.truncate(MAX_REPORTED_ERRORS);
        if faults.is_empty() {
            Ok(accepted)
        } else {
            Err(ServiceError::InvalidItems { faults, total })
        }
    }

    /// Stores a checked batch whole under `id`, queues its items and wakes the worker.
    pub async fn store_batch(
        &self,
        client: &Client,
        id: &str,
        key: Option<&str>,
        items: &[NewItem],
    ) -> Result<BatchReport, ServiceError> {
        self.storage
            .insert_batch(id, client.name(), key, items)
            .await?;
        self.batch_work.notify_one();
        self.batch(client, id).await
    }

    pub(super) async fn own_batch(
        &self,
        client: &Client,
        id: &str,
    ) -> Result<BatchRow, ServiceError> {
        self.storage
            .get_batch(id)
            .await?
            .filter(|batch| batch.client == client.name())
            .ok_or_else(|| ServiceError::NotFound(format!("no batch `{id}`")))
    }

    /// Whether `client` has a batch `id` (a batch whose submitter died may be stored).
    pub async fn has_batch(&self, client: &Client, id: &str) -> Result<bool, ServiceError> {
        match self.own_batch(client, id).await {
            Ok(_) => Ok(true),
            Err(ServiceError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The batch's report: counts, amounts, rate and time left.
    pub async fn batch(&self, client: &Client, id: &str) -> Result<BatchReport, ServiceError> {
        // Counted in the ledger, not item by item here: a stadium batch stays cheap to read.
        let batch = self.own_batch(client, id).await?;
        Ok(self.tally_report(&batch).await?.0)
    }

    /// Stops a batch: no queued item starts any more; items in flight finish.
    pub async fn cancel_batch(
        &self,
        client: &Client,
        id: &str,
    ) -> Result<BatchReport, ServiceError> {
        self.own_batch(client, id).await?;
        self.storage.cancel_batch(id).await?;
        self.batch(client, id).await
    }

    /// Whether an unknown outcome at instance `provider` waits for an operator: its vendor
    /// cannot be read (or the instance is gone), so no lookup will settle it.
    pub(super) fn needs_operator(&self, provider: &str) -> bool {
        self.instances
            .get(provider)
            .is_none_or(|i| !i.provider.capabilities().list)
    }

    /// A page of a batch's items after `after_seq`, and whether more follow.
    pub async fn batch_items(
        &self,
        client: &Client,
        id: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<(Vec<ItemReport>, bool), ServiceError> {
        self.own_batch(client, id).await?;
        let mut rows = self
            .storage
            .batch_items_page(id, after_seq, limit + 1)
            .await?;
        let has_more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let needs_operator = |p: &str| self.needs_operator(p);
        let items = rows
            .iter()
            .map(|i| item_report(i, &needs_operator))
            .collect();
        Ok((items, has_more))
    }
}
