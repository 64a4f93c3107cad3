//! Creating a refund, for the API and the batch worker alike: check it against what the
//! provider declares, make the intent durable, call the vendor once, settle the outcome.
//! A vendor is never called without its intent row, and a create whose outcome is unknown
//! is answered with the refund in status `unknown`, for the reconciler to settle; it is
//! never sent again.

use std::time::Duration;

use refund_provider::{
    ErrorKind, Outcome, ProviderError, Refund, RefundId, RefundRequest, RefundStatus, StatusReason,
    Target, VendorRef,
};
use serde::{Deserialize, Serialize};

use super::view::refund_of;
use super::{Client, Refunds, ServiceError};
use crate::instances::Instance;
use crate::storage::batches::MAX_ATTEMPTS;
use crate::storage::now_ms;
use crate::storage::refunds::{Intent, Settle, Settlement};
use crate::traffic::lookup_cache::LedgerId;
use crate::traffic::outbound_limit::Purpose;

/// A create as the domain takes it: parsed from the client's input, not yet checked
/// against the provider. Batch items are stored in this form.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewRefund {
    /// The provider instance.
    pub provider: String,
    #[serde(flatten)]
    pub request: RefundRequest,
}

/// A create the provider can take, for an instance the client may use.
pub struct Checked<'a> {
    pub instance: &'a Instance,
    pub request: RefundRequest,
}

/// Where a create comes from, which says how its intent row is made.
pub enum Origin<'a> {
    /// `POST /v1/refunds`: the intent is written here, under `id` (the id the client's
    /// idempotency key was claimed with).
    Request {
        id: String,
        idempotency_key: Option<&'a str>,
        request_hash: Option<&'a str>,
    },
    /// A claimed batch item: its intent row was written with the claim. `attempts` are
    /// the tries already counted against `MAX_ATTEMPTS`.
    BatchItem { id: String, attempts: i64 },
}

impl Origin<'_> {
    fn id(&self) -> &str {
        match self {
            Origin::Request { id, .. } | Origin::BatchItem { id, .. } => id,
        }
    }
}

impl Refunds {
    /// Resolves the instance for `client` and checks the create against what the provider
    /// declares. Nothing is written and nothing reaches the vendor.
    pub fn check(&self, client: &Client, new: NewRefund) -> Result<Checked<'_>, ServiceError> {
        let instance = self.instance_for(client, &new.provider)?;
        instance
            .provider
            .capabilities()
            .check_create(&new.request, instance.who())
            .map_err(ServiceError::Provider)?;
        Ok(Checked {
            instance,
            request: new.request,
        })
    }

    /// Creates the refund: the one path of every create, API or batch. `Ok` holds the
    /// refund as the ledger records it, in status `unknown` when the vendor may or may not
    /// have applied it; `CreateFailed` is a vendor refusal with nothing applied.
    pub async fn create(
        &self,
        client: &Client,
        checked: Checked<'_>,
        origin: Origin<'_>,
    ) -> Result<Refund, ServiceError> {
        let Checked {
            instance,
            mut request,
        } = checked;
        let id = origin.id().to_string();
        if let Origin::Request {
            idempotency_key,
            request_hash,
            ..
        } = &origin
        {
            let intent = Intent {
                id: id.clone(),
                client: client.name().to_string(),
                provider: instance.name.to_string(),
                provider_kind: instance.kind.to_string(),
                target: request.target.clone(),
                amount: request.amount,
                reason: request.reason.clone(),
                metadata: request.metadata.clone(),
                idempotency_key: idempotency_key.map(str::to_string),
                request_hash: request_hash.map(str::to_string),
                batch_id: None,
                in_flight_until: now_ms() + self.lease().as_millis() as i64,
                owner: Some(self.gateway_id.clone()),
            };
            self.storage.insert_intent(&intent).await?;
        }
        request.gateway_reference = Some(id.clone());
        let result = Purpose::Create
            .scope(instance.provider.create(&request))
            .await;
        if let (Err(error), Origin::BatchItem { attempts, .. }) = (&result, &origin) {
            if let Some((wait, counted)) = again(error, *attempts) {
                return Err(ServiceError::Deferred {
                    error: error.clone(),
                    wait,
                    counted,
                });
            }
        }
        let answer = self
            .settle_outcome(instance, &id, &request.target, result)
            .await;
        if let Ok(refund) = &answer {
            if !refund.vendor_reference.as_str().is_empty() {
                self.ledger_index.remember(
                    instance.name.as_str(),
                    refund.vendor_reference.as_str(),
                    LedgerId {
                        id: id.clone(),
                        client: client.name().to_string(),
                    },
                );
            }
        }
        // Whatever happened, lookups cached for this target may now be stale. Dropped
        // once the ledger holds the outcome, so the next lookup finds the refund and its
        // ledger id together.
        self.lookups
            .invalidate_everywhere(&instance.name, &request.target)
            .await;
        answer
    }

    /// Records a vendor's answer to a create and reads the refund back as recorded.
    async fn settle_outcome(
        &self,
        instance: &Instance,
        id: &str,
        target: &Target,
        result: Result<Refund, ProviderError>,
    ) -> Result<Refund, ServiceError> {
        let settlement = match &result {
            Ok(refund) => Settlement::from_vendor(refund.clone()),
            Err(e) => Settlement {
                status: match e.outcome {
                    Outcome::Unknown => RefundStatus::Unknown,
                    Outcome::NotApplied => RefundStatus::Failed,
                },
                reason: Some(reason_of(e)),
                refund: None,
                resolution_note: None,
            },
        };
        let recorded = self.storage.settle(Settle::Refund(id), &settlement).await;
        if let Err(e) = &recorded {
            // Kept here until the ledger takes it (the reconciler tries every pass); should
            // the process stop first, the row's lease runs out and a lookup settles it.
            tracing::error!(error = %e, refund = %id, "could not record a vendor outcome; kept in memory");
            self.unwritten.keep(id, settlement);
        }
        match result {
            Err(e) if e.outcome == Outcome::NotApplied => Err(ServiceError::CreateFailed(e)),
            _ => match (recorded, self.storage.get_refund(id).await) {
                (Ok(_), Ok(Some(row))) => Ok(refund_of(&row)),
                // The ledger does not hold what happened: the gateway cannot vouch for the
                // outcome, whatever the vendor said, until it is written.
                _ => {
                    let mut refund = Refund::new(
                        &instance.name,
                        instance.kind,
                        VendorRef::none(),
                        RefundStatus::Unknown,
                        target.clone(),
                    );
                    refund.id = RefundId::from_string(id.to_string());
                    refund.status_reason = Some(StatusReason {
                        code: "ledger_unavailable".into(),
                        message: "the vendor was called, but its answer could not be recorded \
                                  in the ledger; the outcome will be settled by a lookup"
                            .into(),
                        vendor_status: None,
                        vendor_code: None,
                        vendor_message: None,
                    });
                    Ok(refund)
                }
            },
        }
    }

    /// A create whose idempotency key was held by a request that died. If that request had
    /// recorded its intent, the vendor may have been called: the refund becomes `unknown`
    /// (for the reconciler) and is the answer, never a resend. `None`: nothing was
    /// recorded, so nothing was sent, and the create may go on under `id`.
    pub async fn resume(&self, client: &Client, id: &str) -> Result<Option<Refund>, ServiceError> {
        let Some(row) = self
            .storage
            .get_refund(id)
            .await?
            .filter(|row| row.client == client.name())
        else {
            return Ok(None);
        };
        if row.status == RefundStatus::Pending {
            self.storage
                .settle(Settle::Refund(id), &interrupted())
                .await?;
        }
        let row = self.storage.get_refund(id).await?.unwrap_or(row);
        Ok(Some(refund_of(&row)))
    }
}

/// The settlement of an intent whose gateway stopped before the vendor's answer was recorded.
pub fn interrupted() -> Settlement {
    Settlement::because(
        RefundStatus::Unknown,
        "interrupted",
        "the gateway stopped before the vendor's answer was recorded",
    )
}

/// Why a create failed, as the ledger keeps it.
fn reason_of(e: &ProviderError) -> StatusReason {
    let vendor = e.vendor.as_deref();
    StatusReason {
        code: e.kind.code().to_string(),
        message: e.message.clone(),
        vendor_status: vendor.and_then(|v| v.status),
        vendor_code: vendor.and_then(|v| v.code.clone()),
        vendor_message: vendor.map(|v| v.message.clone()),
    }
}

/// Whether a batch item's failed create goes back in line instead of failing: nothing was
/// applied, and trying again later may work. Our own limiter or an open circuit holding it
/// back is not a try at all; a transient vendor failure before anything was applied is,
/// within `MAX_ATTEMPTS`, waiting by the one backoff rule.
fn again(error: &ProviderError, attempts: i64) -> Option<(Duration, bool)> {
    if error.outcome != Outcome::NotApplied {
        return None;
    }
    let wait = error.retry_after.unwrap_or(Duration::from_secs(1));
    match error.kind {
        ErrorKind::RateLimited => Some((wait, false)),
        ErrorKind::Unavailable if error.retry_after.is_some() => Some((wait, false)),
        ErrorKind::Unavailable | ErrorKind::Timeout | ErrorKind::BadResponse
            if attempts + 1 < MAX_ATTEMPTS =>
        {
            let attempt = u32::try_from(attempts.max(0)).unwrap_or(u32::MAX);
            let backoff = crate::backoff::delay(attempt + 1, wait, Duration::from_secs(60));
            Some((backoff.max(Duration::from_millis(100)), true))
        }
        _ => None,
    }
}
