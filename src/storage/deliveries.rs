//! Webhook deliveries: one row per (event, endpoint), written with the event. A sender
//! claims a delivery with a lease (owner and expiry, by compare-and-set, as batch items are
//! claimed), so gateways sharing the ledger never send the same delivery at once; a lease
//! whose holder ended or ran out is taken over. Deliveries of one subject (a refund or a
//! batch) to one endpoint go in order: one waits while an earlier one is still pending.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::events::EventRow;
use super::{now_ms, Storage, StorageError};
use crate::storage::observe::LedgerOp;

pub fn new_delivery_id() -> String {
    format!("whd_{}", ulid::Ulid::new().to_string().to_ascii_lowercase())
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Not sent yet, or to be retried at `next_attempt_at`.
    Pending,
    Delivered,
    /// Given up: retried until `give_up_at`, or its endpoint answered 410.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<DeliveryState> {
        [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    pub endpoint: String,
    pub state: DeliveryState,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub give_up_at: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub delivered_at: Option<i64>,
}

/// `GET /v1/webhook-deliveries` filters; always scoped to one client's events.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub client: String,
    pub state: Option<DeliveryState>,
    pub event_id: Option<String>,
    pub starting_after: Option<String>,
}

const DELIVERY: &str = "SELECT d.id, d.event_id, e.type AS event_type, d.endpoint, d.state, d.attempts, \
    d.next_attempt_at, d.give_up_at, d.last_status, d.last_error, d.created_at, d.updated_at, d.delivered_at \
    FROM webhook_deliveries d JOIN events e ON e.id = d.event_id";

fn delivery_row(row: &AnyRow) -> Result<DeliveryRow, StorageError> {
    let state: String = row.try_get("state")?;
    Ok(DeliveryRow {
        id: row.try_get("id")?,
        event_id: row.try_get("event_id")?,
        event_type: row.try_get("event_type")?,
        endpoint: row.try_get("endpoint")?,
        state: DeliveryState::parse(&state)
            .ok_or_else(|| StorageError::Corrupt(format!("delivery state `{state}`")))?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        give_up_at: row.try_get("give_up_at")?,
        last_status: row.try_get("last_status")?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        delivered_at: row.try_get("delivered_at")?,
    })
}

/// A lease that may be taken: none, run out, or held by a gateway that has ended.
const LEASE_FREE: &str = "(lease_until IS NULL OR lease_until < $1 OR lease_owner IN \
    (SELECT id FROM gateways WHERE ended_at IS NOT NULL))";

/// A claimed delivery and the event it carries.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery: DeliveryRow,
    pub event: EventRow,
}

/// The outcome of one attempt.
#[derive(Debug, Clone)]
pub enum Attempt {
    Delivered {
        status: u16,
    },
    /// Try again at `next_at` (or fail, past the delivery's `give_up_at`).
    Retry {
        status: Option<u16>,
        error: String,
        next_at: i64,
    },
    /// The receiver said the endpoint is gone (410): the endpoint is disabled.
    Gone {
        status: u16,
    },
}

impl Storage {
    /// Claims up to `limit` deliveries due now for `endpoints` (the ones this gateway can
    /// send to), each the earliest still pending of its subject at its endpoint.
    pub async fn claim_deliveries(
        &self,
        owner: &str,
        lease_ms: i64,
        endpoints: &[String],
        limit: i64,
    ) -> Result<Vec<Claimed>, StorageError> {
        let _timed = LedgerOp::ClaimDeliveries.timed();
        if endpoints.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        let names: Vec<String> = (0..endpoints.len())
            .map(|i| format!("${}", i + 3))
            .collect();
        let sql = format!(
            "SELECT d.id FROM webhook_deliveries d WHERE d.state = 'pending' AND d.next_attempt_at <= $1 \
             AND {LEASE_FREE} AND d.endpoint IN ({names}) \
             AND d.endpoint NOT IN (SELECT name FROM webhook_endpoints WHERE disabled_at IS NOT NULL) \
             AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.endpoint = d.endpoint \
               AND p.subject = d.subject AND p.subject_seq < d.subject_seq AND p.state = 'pending') \
             ORDER BY d.next_attempt_at, d.subject_seq LIMIT $2",
            names = names.join(", ")
        );
        let mut query = sqlx::query_scalar::<_, String>(&sql).bind(now).bind(limit);
        for name in endpoints {
            query = query.bind(name);
        }
        let candidates = query.fetch_all(&self.pool).await?;
        let mut claimed = Vec::new();
        for id in candidates {
            let taken = sqlx::query(&format!(
                "UPDATE webhook_deliveries SET lease_owner = $2, lease_until = $3 \
                 WHERE id = $4 AND state = 'pending' AND {LEASE_FREE}"
            ))
            .bind(now)
            .bind(owner)
            .bind(now + lease_ms)
            .bind(&id)
            .execute(&self.pool)
            .await?;
            if taken.rows_affected() != 1 {
                continue; // another gateway took it
            }
            let Some(delivery) = self.get_delivery(&id).await? else {
                continue;
            };
            let Some(event) = self.get_event(&delivery.event_id).await? else {
                continue;
            };
            claimed.push(Claimed { delivery, event });
        }
        Ok(claimed)
    }

    /// Records an attempt of a delivery `owner` holds (a lease lost meanwhile records nothing).
    pub async fn record_attempt(
        &self,
        id: &str,
        owner: &str,
        attempt: &Attempt,
    ) -> Result<(), StorageError> {
        let _timed = LedgerOp::RecordAttempt.timed();
        let now = now_ms();
        let base =
            "attempts = attempts + 1, lease_owner = NULL, lease_until = NULL, updated_at = $1";
        let held = "id = $2 AND lease_owner = $3 AND state = 'pending'";
        match attempt {
            Attempt::Delivered { status } => {
                sqlx::query(&format!(
                    "UPDATE webhook_deliveries SET {base}, state = 'delivered', delivered_at = $1, \
                     last_status = $4, last_error = NULL WHERE {held}"
                ))
                .bind(now)
                .bind(id)
                .bind(owner)
                .bind(i64::from(*status))
                .execute(&self.pool)
                .await?;
            }
            Attempt::Retry {
                status,
                error,
                next_at,
            } => {
                sqlx::query(&format!(
                    "UPDATE webhook_deliveries SET {base}, last_status = $4, last_error = $5, \
                     next_attempt_at = $6, state = CASE WHEN $6 > give_up_at THEN 'failed' ELSE 'pending' END \
                     WHERE {held}"
                ))
                .bind(now)
                .bind(id)
                .bind(owner)
                .bind(status.map(i64::from))
                .bind(error)
                .bind(*next_at)
                .execute(&self.pool)
                .await?;
            }
            Attempt::Gone { status } => {
                let mut tx = self.pool.begin().await?;
                let endpoint: Option<String> = sqlx::query_scalar(&format!(
                    "UPDATE webhook_deliveries SET {base}, state = 'failed', last_status = $4, \
                     last_error = 'the receiver answered 410 Gone: endpoint disabled' WHERE {held} RETURNING endpoint"
                ))
                .bind(now)
                .bind(id)
                .bind(owner)
                .bind(i64::from(*status))
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(endpoint) = endpoint {
                    sqlx::query("DELETE FROM webhook_endpoints WHERE name = $1")
                        .bind(&endpoint)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(
                        "INSERT INTO webhook_endpoints (name, disabled_at, reason) VALUES ($1, $2, $3)",
                    )
                    .bind(&endpoint)
                    .bind(now)
                    .bind("the receiver answered 410 Gone")
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Endpoints disabled by a 410, with when.
    pub async fn disabled_endpoints(&self) -> Result<Vec<(String, i64)>, StorageError> {
        let _timed = LedgerOp::DisabledEndpoints.timed();
        let rows = sqlx::query(
            "SELECT name, disabled_at FROM webhook_endpoints WHERE disabled_at IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("name")?, r.try_get("disabled_at")?)))
            .collect()
    }

    pub async fn get_delivery(&self, id: &str) -> Result<Option<DeliveryRow>, StorageError> {
        let _timed = LedgerOp::GetDelivery.timed();
        let row = sqlx::query(&format!("{DELIVERY} WHERE d.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(delivery_row).transpose()
    }

    /// A client's deliveries, newest first, `limit` after the cursor.
    pub async fn list_deliveries(
        &self,
        filter: &DeliveryFilter,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>, StorageError> {
        let _timed = LedgerOp::ListDeliveries.timed();
        let rows = sqlx::query(&format!(
            "{DELIVERY} WHERE e.client = $1 AND ($2 IS NULL OR d.state = $2) \
             AND ($3 IS NULL OR d.event_id = $3) AND ($4 IS NULL OR d.id < $4) \
             ORDER BY d.id DESC LIMIT $5"
        ))
        .bind(&filter.client)
        .bind(filter.state.map(DeliveryState::as_str))
        .bind(&filter.event_id)
        .bind(&filter.starting_after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(delivery_row).collect()
    }

    /// Sends client `client`'s delivery `id` again as soon as possible, retried for
    /// `retry_for_ms` from now, and enables its endpoint again if a 410 had disabled it.
    /// `false` when the client has no such delivery.
    pub async fn redeliver(
        &self,
        client: &str,
        id: &str,
        retry_for_ms: i64,
    ) -> Result<bool, StorageError> {
        let _timed = LedgerOp::Redeliver.timed();
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let endpoint: Option<String> = sqlx::query_scalar(
            "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $1, give_up_at = $2, \
             last_error = NULL, updated_at = $1 \
             WHERE id = $3 AND event_id IN (SELECT id FROM events WHERE client = $4) RETURNING endpoint",
        )
        .bind(now)
        .bind(now + retry_for_ms)
        .bind(id)
        .bind(client)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(endpoint) = endpoint else {
            return Ok(false);
        };
        sqlx::query("DELETE FROM webhook_endpoints WHERE name = $1")
            .bind(&endpoint)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}
