//! Events as clients see them (`GET /v1/events`, webhook payloads), webhook deliveries as
//! operators see them, and the upkeep that forgets events past their retention. Every
//! method takes the calling client: one client never sees another's events.

use std::time::Duration;

use refund_provider::chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Client, Refunds, ServiceError};
use crate::storage::deliveries::{DeliveryFilter, DeliveryRow};
use crate::storage::events::{EventFilter, EventRow};

/// Something that happened to a refund or a batch.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Event {
    /// `evt_` and a ULID: unique, made when the event was written. The feed is in commit
    /// order, which ids need not follow (see `storage::events`).
    pub id: String,
    /// `refund.created`, `refund.pending`, `refund.succeeded`, `refund.partially_succeeded`,
    /// `refund.failed`, `refund.canceled`, `refund.unknown`, `batch.accepted`,
    /// `batch.progress`, `batch.completed` or `batch.canceled`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When the change was written (RFC 3339, UTC).
    pub created_at: String,
    /// The client the refund or batch belongs to.
    pub client: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<String>,
    /// The object as it was right after the change: a canonical refund for `refund.*`;
    /// for `batch.*`, `{id, status, item_count, items: {state: count}, created_at, updated_at}`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Event {
    pub fn of(row: EventRow) -> Event {
        Event {
            created_at: rfc3339(row.created_at),
            id: row.id,
            kind: row.kind,
            client: row.client,
            refund_id: row.refund_id,
            batch_id: row.batch_id,
            data: row.data,
        }
    }
}

/// One webhook delivery of one event to one endpoint.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delivery {
    /// `whd_` and a ULID.
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    /// The `[[webhooks]]` endpoint's name.
    pub endpoint: String,
    /// `pending` (to be sent or retried), `delivered` or `failed` (retried until
    /// `give_up_at`, or its endpoint answered 410 Gone and is disabled).
    pub state: String,
    pub attempts: i64,
    /// Pending: when the next attempt is due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<String>,
    pub give_up_at: String,
    /// The receiver's last HTTP status, if it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_status: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<String>,
}

impl Delivery {
    fn of(row: DeliveryRow) -> Delivery {
        let pending = row.state == crate::storage::deliveries::DeliveryState::Pending;
        Delivery {
            id: row.id,
            event_id: row.event_id,
            event_type: row.event_type,
            endpoint: row.endpoint,
            state: row.state.as_str().to_string(),
            attempts: row.attempts,
            next_attempt_at: pending.then(|| rfc3339(row.next_attempt_at)),
            give_up_at: rfc3339(row.give_up_at),
            last_status: row.last_status,
            last_error: row.last_error,
            created_at: rfc3339(row.created_at),
            delivered_at: row.delivered_at.map(rfc3339),
        }
    }
}

impl Refunds {
    /// `client`'s events after the cursor, oldest first; and whether more follow.
    pub async fn list_events(
        &self,
        client: &Client,
        mut filter: EventFilter,
        limit: i64,
    ) -> Result<(Vec<Event>, bool), ServiceError> {
        filter.client = client.name().to_string();
        let mut rows = self.storage.list_events(&filter, limit + 1).await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        Ok((rows.into_iter().map(Event::of).collect(), more))
    }

    /// `client`'s webhook deliveries after the cursor, newest first; and whether more follow.
    pub async fn list_deliveries(
        &self,
        client: &Client,
        mut filter: DeliveryFilter,
        limit: i64,
    ) -> Result<(Vec<Delivery>, bool), ServiceError> {
        filter.client = client.name().to_string();
        let mut rows = self.storage.list_deliveries(&filter, limit + 1).await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        Ok((rows.into_iter().map(Delivery::of).collect(), more))
    }

    /// Sends one of `client`'s deliveries again now (retried as long as a new one),
    /// enabling its endpoint again if a 410 had disabled it.
    pub async fn redeliver(&self, client: &Client, id: &str) -> Result<Delivery, ServiceError> {
        let retry_for = self.events.webhook_retry_for;
        let not_found = || ServiceError::NotFound(format!("no webhook delivery `{id}`"));
        if !self
            .storage
            .redeliver(client.name(), id, retry_for.as_millis() as i64)
            .await?
        {
            return Err(not_found());
        }
        self.webhook_work.notify_one();
        let row = self.storage.get_delivery(id).await?.ok_or_else(not_found)?;
        Ok(Delivery::of(row))
    }
}

/// Forgets events past `retention` every `every`, until the service is dropped.
pub fn spawn_purge(
    state: std::sync::Weak<Refunds>,
    every: Duration,
    retention: Duration,
) -> tokio::task::JoinHandle<()> {
    let now = tokio::time::Instant::now();
    super::periodic::every(state, now, every, move |state| async move {
        match state
            .storage
            .purge_events(retention.as_millis() as i64)
            .await
        {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "events past their retention purged"),
            Err(e) => tracing::warn!(error = %e, "event purge failed; will try again"),
        }
    })
}
