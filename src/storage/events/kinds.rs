//! The kinds of events and what the outbox is configured with: which endpoints want which
//! events, and how often batch progress is told.

use std::sync::Mutex;

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
    pub(super) fn wants(&self, client: &str, kind: EventType) -> bool {
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

/// Event ids: `evt_` and a ULID, monotonic within a process so that one gateway's events
/// sort in the order it wrote them.
pub fn new_event_id() -> String {
    static GENERATOR: Mutex<Option<ulid::Generator>> = Mutex::new(None);
    let mut guard = GENERATOR.lock().unwrap_or_else(|p| p.into_inner());
    let generator = guard.get_or_insert_with(ulid::Generator::new);
    let id = generator.generate().unwrap_or_else(|_| ulid::Ulid::new());
    format!("evt_{}", id.to_string().to_ascii_lowercase())
}
