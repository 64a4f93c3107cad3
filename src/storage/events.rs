//! The events outbox: every refund status change and batch milestone is written here **in
//! the transaction that makes it**, with one webhook delivery row per endpoint subscribed
//! to it. A change cannot commit without its event, nor an event without its deliveries, so
//! none is lost when a gateway dies; senders find the deliveries in `webhook_deliveries`.

use std::sync::Mutex;

use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::refunds::{read_row, status_str, COLUMNS};
use super::{now_ms, Storage, StorageError};
use refund_provider::RefundStatus;

/// What an event tells of. The names are part of the API (`type` of an event, webhook
/// subscriptions): `refund.<status>` for a refund reaching a status, `batch.<milestone>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    RefundCreated,
    RefundPending,
    RefundSucceeded,
    RefundPartiallySucceeded,
    RefundFailed,
    RefundCanceled,
    RefundUnknown,
    BatchAccepted,
    BatchProgress,
    BatchCompleted,
    BatchCanceled,
}

impl EventType {
    pub const ALL: [EventType; 11] = [
        EventType::RefundCreated,
        EventType::RefundPending,
        EventType::RefundSucceeded,
        EventType::RefundPartiallySucceeded,
        EventType::RefundFailed,
        EventType::RefundCanceled,
        EventType::RefundUnknown,
        EventType::BatchAccepted,
        EventType::BatchProgress,
        EventType::BatchCompleted,
        EventType::BatchCanceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::RefundCreated => "refund.created",
            EventType::RefundPending => "refund.pending",
            EventType::RefundSucceeded => "refund.succeeded",
            EventType::RefundPartiallySucceeded => "refund.partially_succeeded",
            EventType::RefundFailed => "refund.failed",
            EventType::RefundCanceled => "refund.canceled",
            EventType::RefundUnknown => "refund.unknown",
            EventType::BatchAccepted => "batch.accepted",
            EventType::BatchProgress => "batch.progress",
            EventType::BatchCompleted => "batch.completed",
            EventType::BatchCanceled => "batch.canceled",
        }
    }

    pub fn parse(text: &str) -> Option<EventType> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// The event of a refund reaching `status`.
    pub fn of_status(status: RefundStatus) -> EventType {
        match status {
            RefundStatus::Pending => EventType::RefundPending,
            RefundStatus::Succeeded => EventType::RefundSucceeded,
            RefundStatus::PartiallySucceeded => EventType::RefundPartiallySucceeded,
            RefundStatus::Failed => EventType::RefundFailed,
            RefundStatus::Canceled => EventType::RefundCanceled,
            RefundStatus::Unknown => EventType::RefundUnknown,
        }
    }
}

/// A webhook endpoint's subscription, as the outbox needs it to write deliveries.
#[derive(Debug, Clone)]
pub struct Subscription {
    /// The endpoint's name (`[[webhooks]] name`), which its deliveries carry.
    pub endpoint: String,
    /// Only this client's events; `None`: every client's.
    pub client: Option<String>,
    /// Event types (`refund.succeeded`) or families (`refund.*`); empty: all.
    pub types: Vec<String>,
    /// How long a delivery is retried before it is marked failed.
    pub retry_for_ms: i64,
}

impl Subscription {
    fn wants(&self, client: &str, kind: EventType) -> bool {
        let kind = kind.as_str();
        self.client.as_deref().is_none_or(|c| c == client)
            && (self.types.is_empty()
                || self.types.iter().any(|t| match t.strip_suffix(".*") {
                    Some(family) => kind.split('.').next() == Some(family),
                    None => t == kind,
                }))
    }
}

/// What the outbox needs to know of the configuration: set once at start-up.
#[derive(Debug, Clone)]
pub struct OutboxConfig {
    pub subscriptions: Vec<Subscription>,
    /// A `batch.progress` event after this many more items are done ...
    pub progress_items: i64,
    /// ... or after this long, when some more are.
    pub progress_ms: i64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            subscriptions: Vec::new(),
            progress_items: 100,
            progress_ms: 10_000,
        }
    }
}

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

/// Event ids: `evt_` and a ULID, monotonic within a process so that one gateway's events
/// sort in the order it wrote them.
pub fn new_event_id() -> String {
    static GENERATOR: Mutex<Option<ulid::Generator>> = Mutex::new(None);
    let mut guard = GENERATOR.lock().unwrap_or_else(|p| p.into_inner());
    let generator = guard.get_or_insert_with(ulid::Generator::new);
    let id = generator.generate().unwrap_or_else(|_| ulid::Ulid::new());
    format!("evt_{}", id.to_string().to_ascii_lowercase())
}

/// The outbox config in force (a poisoned lock still holds a usable value).
pub(crate) fn outbox(storage: &Storage) -> OutboxConfig {
    storage
        .outbox
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
}

struct NewEvent<'a> {
    kind: EventType,
    client: &'a str,
    refund_id: Option<&'a str>,
    batch_id: Option<&'a str>,
    data: Value,
}

/// Writes an event and its deliveries on `conn` (the caller's transaction).
async fn write(
    conn: &mut AnyConnection,
    outbox: &OutboxConfig,
    event: NewEvent<'_>,
) -> Result<String, StorageError> {
    let id = new_event_id();
    let now = now_ms();
    let subject = event.refund_id.or(event.batch_id).unwrap_or(event.client);
    let seq: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(subject_seq), 0) + 1 FROM events WHERE subject = $1",
    )
    .bind(subject)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO events (id, type, client, refund_id, batch_id, subject, subject_seq, data, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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

/// A batch as its events carry it: its status and how many items are in each state.
async fn batch_data(
    conn: &mut AnyConnection,
    batch_id: &str,
) -> Result<Option<(String, Value, i64)>, StorageError> {
    let Some(batch) = sqlx::query(
        "SELECT client, status, item_count, created_at, updated_at FROM batches WHERE id = $1",
    )
    .bind(batch_id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let states = sqlx::query(
        "SELECT state, COUNT(*) AS n FROM batch_items WHERE batch_id = $1 GROUP BY state",
    )
    .bind(batch_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut counts = serde_json::Map::new();
    let mut done = 0;
    for row in &states {
        let state: String = row.try_get("state")?;
        let n: i64 = row.try_get("n")?;
        if state == "done" {
            done = n;
        }
        counts.insert(state, n.into());
    }
    let time = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    };
    let data = serde_json::json!({
        "id": batch_id,
        "status": batch.try_get::<String, _>("status")?,
        "item_count": batch.try_get::<i64, _>("item_count")?,
        "items": counts,
        "created_at": time(batch.try_get("created_at")?),
        "updated_at": time(batch.try_get("updated_at")?),
    });
    Ok(Some((batch.try_get("client")?, data, done)))
}

/// Writes a batch milestone on `conn` (the transaction that reached it).
pub(crate) async fn record_batch(
    conn: &mut AnyConnection,
    outbox: &OutboxConfig,
    batch_id: &str,
    kind: EventType,
) -> Result<(), StorageError> {
    let Some((client, data, done)) = batch_data(conn, batch_id).await? else {
        return Ok(());
    };
    write(
        conn,
        outbox,
        NewEvent {
            kind,
            client: &client,
            refund_id: None,
            batch_id: Some(batch_id),
            data,
        },
    )
    .await?;
    if kind == EventType::BatchAccepted {
        sqlx::query(
            "INSERT INTO batch_progress_marks (batch_id, done_items, told_at) VALUES ($1, $2, $3)",
        )
        .bind(batch_id)
        .bind(done)
        .bind(now_ms())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
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
    /// Sets what the outbox writes deliveries for and how often batch progress is told.
    pub fn set_outbox(&self, config: OutboxConfig) {
        *self.outbox.write().unwrap_or_else(|p| p.into_inner()) = config;
    }

    /// Tells a batch's progress when `progress_items` more items are done since it was
    /// last told, or `progress_ms` has passed and some are (never its last item: that is
    /// `batch.completed`). The mark moves by
    /// compare-and-set, so two gateways finishing items at once tell it once.
    pub async fn note_batch_progress(&self, batch_id: &str) -> Result<(), StorageError> {
        let outbox = outbox(self);
        // Read first, then write in a transaction that starts with the compare-and-set,
        // so SQLite takes its write lock before any read of the transaction.
        let Some(mark) =
            sqlx::query("SELECT done_items, told_at FROM batch_progress_marks WHERE batch_id = $1")
                .bind(batch_id)
                .fetch_optional(&self.pool)
                .await?
        else {
            return Ok(());
        };
        let (told_done, told_at): (i64, i64) =
            (mark.try_get("done_items")?, mark.try_get("told_at")?);
        let done: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM batch_items WHERE batch_id = $1 AND state = 'done'",
        )
        .bind(batch_id)
        .fetch_one(&self.pool)
        .await?;
        let now = now_ms();
        let due = done - told_done >= outbox.progress_items.max(1)
            || (done > told_done && now - told_at >= outbox.progress_ms);
        if !due {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        let moved = sqlx::query(
            "UPDATE batch_progress_marks SET done_items = $1, told_at = $2 WHERE batch_id = $3 AND done_items = $4 \
             AND EXISTS (SELECT 1 FROM batches WHERE id = $3 AND status = 'open' AND item_count > $1)",
        )
        .bind(done)
        .bind(now)
        .bind(batch_id)
        .bind(told_done)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 1 {
            record_batch(&mut tx, &outbox, batch_id, EventType::BatchProgress).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Events in the order they were written (oldest first), `limit` after the cursor.
    pub async fn list_events(
        &self,
        filter: &EventFilter,
        limit: i64,
    ) -> Result<Vec<EventRow>, StorageError> {
        let types = if filter.types.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = (0..filter.types.len())
                .map(|i| format!("${}", i + 6))
                .collect();
            format!(" AND type IN ({})", list.join(", "))
        };
        let sql = format!(
            "SELECT id, type, client, refund_id, batch_id, data, created_at FROM events \
             WHERE client = $1 AND ($2 IS NULL OR refund_id = $2) AND ($3 IS NULL OR batch_id = $3) \
             AND ($4 IS NULL OR id > $4){types} ORDER BY id LIMIT $5"
        );
        let mut query = sqlx::query(&sql)
            .bind(&filter.client)
            .bind(&filter.refund_id)
            .bind(&filter.batch_id)
            .bind(&filter.starting_after)
            .bind(limit);
        for kind in &filter.types {
            query = query.bind(kind);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(event_row).collect()
    }

    /// One event, if it exists.
    pub async fn get_event(&self, id: &str) -> Result<Option<EventRow>, StorageError> {
        let row = sqlx::query(
            "SELECT id, type, client, refund_id, batch_id, data, created_at FROM events WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(event_row).transpose()
    }

    /// Forgets events older than `retention_ms` whose deliveries are all over (delivered or
    /// failed), with those deliveries. Returns how many events went.
    pub async fn purge_events(&self, retention_ms: i64) -> Result<u64, StorageError> {
        let now = now_ms();
        let before = now - retention_ms;
        let mut tx = self.pool.begin().await?;
        // Deliveries no gateway could send before giving up (their endpoint was removed from
        // the config, or a 410 disabled it) end as failed, so they hold no event forever.
        sqlx::query(
            "UPDATE webhook_deliveries SET state = 'failed', updated_at = $1, \
             last_error = COALESCE(last_error, 'not sent before its retries ran out: the endpoint is disabled or no longer configured') \
             WHERE state = 'pending' AND give_up_at < $1 AND (lease_until IS NULL OR lease_until < $1)",
        )
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let open = "SELECT event_id FROM webhook_deliveries WHERE state = 'pending'";
        sqlx::query(&format!(
            "DELETE FROM webhook_deliveries WHERE event_id IN \
             (SELECT id FROM events WHERE created_at < $1 AND id NOT IN ({open}))"
        ))
        .bind(before)
        .execute(&mut *tx)
        .await?;
        let gone = sqlx::query(&format!(
            "DELETE FROM events WHERE created_at < $1 AND id NOT IN ({open})"
        ))
        .bind(before)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM batch_progress_marks WHERE batch_id NOT IN \
             (SELECT id FROM batches WHERE status = 'open')",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(gone.rows_affected())
    }
}
