//! The events outbox: every refund status change and batch milestone is written here **in
//! the transaction that makes it**, with one webhook delivery row per endpoint subscribed
//! to it. A change cannot commit without its event, nor an event without its deliveries, so
//! none is lost when a gateway dies; senders find the deliveries in `webhook_deliveries`.
//!
//! **The feed is in commit order.** An event id (a ULID) is made when the event is written,
//! before its transaction commits, so ids sort in the order events were *made*, not the
//! order they became visible: with the feed in id order, a reader whose cursor passed a later
//! id committed first never saw an earlier one committed after it. So each event takes a
//! `feed_position` from the one row of `event_feed`, updated in its own transaction: that row
//! lock is held until commit (PostgreSQL's row lock; SQLite's single writer holds more), so a
//! later transaction takes the next position only once the earlier one has committed.
//! Positions are therefore taken in commit order and a reader never sees position p + 1
//! before p: a cursor never passes an event that commits later. The price is that event
//! writers of every gateway on one database take turns from their event to their commit; the
//! events are the last thing their transactions write (only rows they already hold follow),
//! so the turn is short and no lock is waited for while the counter is held (no deadlock).
//! The same turn makes `subject_seq` (read as MAX + 1 after taking it) unique per subject,
//! which two READ COMMITTED transactions reading MAX at once did not; a unique index makes a
//! repeat an error rather than a misordered delivery.
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use refund_provider::RefundStatus;

use super::refunds::{read_row, status_str, COLUMNS};
use super::{now_ms, Storage, StorageError};

mod batch;
mod feed;
#[cfg(test)]
mod feed_tests;
mod kinds;

pub(crate) use batch::record_batch;
pub use kinds::{new_event_id, EventType, OutboxConfig, Subscription};

/// An event, as stored.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub id: String,
    pub kind: String,
    pub client: String,
    pub refund_id: Option<String>,
    pub batch_id: Option<String>,
    pub data: Value,
    pub created_at: i64,
}

/// `GET /v1/events` filters. The client is always set: events are scoped.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub client: String,
    pub types: Vec<String>,
    pub refund_id: Option<String>,
    pub batch_id: Option<String>,
    pub starting_after: Option<String>,
}

/// The outbox config in force (a poisoned lock still holds a usable value).
pub(crate) fn outbox(storage: &Storage) -> OutboxConfig {
    storage
        .outbox
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
}

pub(super) struct NewEvent<'a> {
    pub(super) kind: EventType,
    pub(super) client: &'a str,
    pub(super) refund_id: Option<&'a str>,
    pub(super) batch_id: Option<&'a str>,
    pub(super) data: Value,
}

/// Writes an event and its deliveries on `conn` (the caller's transaction).
pub(super) async fn write(
    conn: &mut AnyConnection,
    outbox: &OutboxConfig,
    event: NewEvent<'_>,
) -> Result<String, StorageError> {
    write_with_id(conn, outbox, new_event_id(), event).await
}

/// `write` with an id made beforehand: the id is made before the transaction's locks are
/// taken, so another transaction may make a later id and commit first (the tests do so).
pub(super) async fn write_with_id(
    conn: &mut AnyConnection,
    outbox: &OutboxConfig,
    id: String,
    event: NewEvent<'_>,
) -> Result<String, StorageError> {
    let now = now_ms();
    let subject = event.refund_id.or(event.batch_id).unwrap_or(event.client);
    // First the feed position (a write, so SQLite's deferred transaction takes its write lock
    // here and waits its turn, rather than reading first and failing as a stale snapshot);
    // the subject's seq is read after it, when every earlier event has committed.
    let position = next_position(conn).await?;
    place_unplaced(conn).await?;
    let seq: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(subject_seq), 0) + 1 FROM events WHERE subject = $1",
    )
    .bind(subject)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO events (id, type, client, refund_id, batch_id, subject, subject_seq, data, created_at, feed_position) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(event.kind.as_str())
    .bind(event.client)
    .bind(event.refund_id)
    .bind(event.batch_id)
    .bind(subject)
    .bind(seq)
    .bind(event.data.to_string())
    .bind(now)
    .bind(position)
    .execute(&mut *conn)
    .await?;
    for subscription in outbox
        .subscriptions
        .iter()
        .filter(|s| s.wants(event.client, event.kind))
    {
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, event_id, endpoint, subject, subject_seq, state, attempts, \
             next_attempt_at, give_up_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $7, $6, $6)",
        )
        .bind(super::deliveries::new_delivery_id())
        .bind(&id)
        .bind(&subscription.endpoint)
        .bind(subject)
        .bind(seq)
        .bind(now)
        .bind(now + subscription.retry_for_ms)
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

/// The next feed position. The counter row stays locked until the caller's transaction ends.
async fn next_position(conn: &mut AnyConnection) -> Result<i64, StorageError> {
    Ok(
        sqlx::query_scalar("UPDATE event_feed SET last = last + 1 WHERE id = 1 RETURNING last")
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// Places events a gateway of an older build wrote on this database (no position: the feed
/// would never show them), during a rolling upgrade. Called holding the counter, so they
/// take positions after every committed one and become visible at this commit: a reader's
/// cursor cannot have passed them. Costs one index probe when there are none.
async fn place_unplaced(conn: &mut AnyConnection) -> Result<(), StorageError> {
    let unplaced: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM events WHERE feed_position IS NULL ORDER BY id LIMIT 100",
    )
    .fetch_all(&mut *conn)
    .await?;
    for id in unplaced {
        let position = next_position(conn).await?;
        sqlx::query("UPDATE events SET feed_position = $1 WHERE id = $2 AND feed_position IS NULL")
            .bind(position)
            .bind(&id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Writes the event of refund `id`'s current status if no event told of it yet (the
/// first is `refund.created`). Called in the transaction that wrote the row, after the
/// write, so the event carries the canonical refund as it then stands.
pub(crate) async fn record_refund(
    conn: &mut AnyConnection,
    outbox: &OutboxConfig,
    id: &str,
) -> Result<(), StorageError> {
    let Some(row) = sqlx::query(&format!(
        "SELECT {COLUMNS}, event_status FROM refunds WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(());
    };
    let told: Option<String> = row.try_get("event_status")?;
    let ledger = read_row(&row)?;
    let status = status_str(ledger.status);
    let kind = match told.as_deref() {
        None => EventType::RefundCreated,
        Some(told) if told == status => return Ok(()),
        Some(_) => EventType::of_status(ledger.status),
    };
    let data = serde_json::to_value(super::view::refund_of(&ledger))
        .map_err(|e| StorageError::Corrupt(format!("refund `{id}` as an event: {e}")))?;
    write(
        conn,
        outbox,
        NewEvent {
            kind,
            client: &ledger.client,
            refund_id: Some(&ledger.id),
            batch_id: ledger.batch_id.as_deref(),
            data,
        },
    )
    .await?;
    sqlx::query("UPDATE refunds SET event_status = $1 WHERE id = $2")
        .bind(status)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Writes the event of a vendor refund (one the ledger did not make) reaching `status`,
/// for the client that follows it.
pub(crate) async fn record_vendor_refund(
    conn: &mut AnyConnection,
    outbox: &OutboxConfig,
    client: &str,
    refund_id: &str,
    status: RefundStatus,
    data: Value,
) -> Result<(), StorageError> {
    write(
        conn,
        outbox,
        NewEvent {
            kind: EventType::of_status(status),
            client,
            refund_id: Some(refund_id),
            batch_id: None,
            data,
        },
    )
    .await
    .map(|_| ())
}

fn event_row(row: &AnyRow) -> Result<EventRow, StorageError> {
    let data: String = row.try_get("data")?;
    Ok(EventRow {
        id: row.try_get("id")?,
        kind: row.try_get("type")?,
        client: row.try_get("client")?,
        refund_id: row.try_get("refund_id")?,
        batch_id: row.try_get("batch_id")?,
        data: serde_json::from_str(&data)
            .map_err(|e| StorageError::Corrupt(format!("event data: {e}")))?,
        created_at: row.try_get("created_at")?,
    })
}

impl Storage {
    /// Called by every write that may record an event, right after its transaction
    /// commits: wakes this process's webhook sender (`webhooks::worker`) now rather than at
    /// its next poll. Not before the commit: the sender would find nothing and sleep again.
    /// Other gateways' events are still found by the poll. Without subscriptions no event
    /// has deliveries, so nothing is woken.
    pub(crate) fn deliveries_committed(&self) {
        let subscribed = self
            .outbox
            .read()
            .map_or(true, |o| !o.subscriptions.is_empty());
        if subscribed {
            self.deliveries_written.notify_one();
        }
    }

    /// Sets what the outbox writes deliveries for and how often batch progress is told.
    pub fn set_outbox(&self, config: OutboxConfig) {
        *self.outbox.write().unwrap_or_else(|p| p.into_inner()) = config;
    }
}
