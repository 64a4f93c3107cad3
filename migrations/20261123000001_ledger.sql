-- The refund ledger and idempotency keys. Portable SQL: the same migration runs on SQLite
-- and PostgreSQL (text ids made by the gateway, times as Unix milliseconds, JSON as text).

CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    client TEXT NOT NULL,
    provider TEXT NOT NULL,
    provider_kind TEXT NOT NULL,
    target TEXT NOT NULL,
    amount_value TEXT,
    amount_currency TEXT,
    reason TEXT,
    metadata TEXT NOT NULL,
    idempotency_key TEXT,
    request_hash TEXT,
    batch_id TEXT,
    status TEXT NOT NULL,
    status_code TEXT,
    status_detail TEXT,
    vendor_reference TEXT,
    refund TEXT,
    vendor_error TEXT,
    resolution_note TEXT,
    in_flight_until BIGINT,
    settle_attempts BIGINT NOT NULL DEFAULT 0,
    next_settle_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX refunds_by_creation ON refunds (created_at, id);
CREATE INDEX refunds_to_settle ON refunds (status, next_settle_at);
CREATE INDEX refunds_in_flight ON refunds (in_flight_until);
CREATE INDEX refunds_by_vendor_reference ON refunds (provider, vendor_reference);

CREATE TABLE idempotency_keys (
    client TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    refund_id TEXT,
    response_status BIGINT,
    response_body TEXT,
    locked_until BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (client, idem_key)
);

CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
