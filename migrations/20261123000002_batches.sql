-- Bulk refunds: a batch and its items, worked in the background. An item is claimed with a
-- lease (owner and expiry) before its intent row is written; an item whose lease ran out is
-- recovered by any gateway instance sharing the database.

CREATE TABLE batches (
    id TEXT PRIMARY KEY,
    client TEXT NOT NULL,
    idempotency_key TEXT,
    status TEXT NOT NULL,
    item_count BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX batches_by_creation ON batches (created_at, id);

CREATE TABLE batch_items (
    batch_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    provider TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    refund_id TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    not_before BIGINT,
    lease_owner TEXT,
    lease_until BIGINT,
    finished_at BIGINT,
    PRIMARY KEY (batch_id, seq)
);

CREATE INDEX batch_items_queue ON batch_items (state, provider, batch_id, seq);
CREATE INDEX batch_items_by_refund ON batch_items (refund_id);
