-- Refund and batch events (a transactional outbox) and their webhook deliveries. An event is
-- written in the same transaction as the change it tells of, with one delivery row per
-- webhook endpoint subscribed to it; deliveries are leased by whichever gateway sends them,
-- as batch items are. Portable SQL, as the other migrations.

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    client TEXT NOT NULL,
    refund_id TEXT,
    batch_id TEXT,
    -- What the event is about (a refund or a batch id), and its place in that subject's
    -- story: deliveries of one subject are sent in this order.
    subject TEXT NOT NULL,
    subject_seq BIGINT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX events_by_client ON events (client, id);
CREATE INDEX events_by_subject ON events (subject, subject_seq);
CREATE INDEX events_by_age ON events (created_at);

-- The status the last refund event told of: a settle that leaves the status as it was
-- writes no event, and one that changes it writes exactly one.
ALTER TABLE refunds ADD COLUMN event_status TEXT;

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    subject TEXT NOT NULL,
    subject_seq BIGINT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    give_up_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    last_status BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    delivered_at BIGINT
);

CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (event_id, endpoint);
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (endpoint, subject, subject_seq);

-- Endpoints a receiver turned away for good (HTTP 410): nothing more is sent to them until
-- an operator redelivers.
CREATE TABLE webhook_endpoints (
    name TEXT PRIMARY KEY,
    disabled_at BIGINT,
    reason TEXT
);

-- Where a batch's last `batch.progress` event stood, so progress is told every N items or
-- T seconds by whichever gateway finishes the item.
CREATE TABLE batch_progress_marks (
    batch_id TEXT PRIMARY KEY,
    done_items BIGINT NOT NULL,
    told_at BIGINT NOT NULL
);

-- Vendor refunds a client looked up while they were not final (Paylogic's `requested`):
-- polled on a backoff schedule until final or `until_at`, each status change an event for
-- that client. `status` is the last status seen; it moves by compare-and-set, so two
-- gateways seeing the same change write one event.
CREATE TABLE followed_refunds (
    client TEXT NOT NULL,
    refund_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    vendor_reference TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_poll_at BIGINT NOT NULL,
    until_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (client, refund_id)
);

CREATE INDEX followed_refunds_due ON followed_refunds (next_poll_at);
