-- Gateway processes sharing the ledger, so that one can tell that another has ended: each
-- registers at start, beats while it runs and says when it stops; a process found dead (its
-- pid gone on the same host, or its heartbeat old) is marked ended. Idempotency keys record
-- the process that claimed them, so a key whose holder ended is released at once instead of
-- waiting out its lease.

CREATE TABLE gateways (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    ended_at BIGINT
);

ALTER TABLE idempotency_keys ADD COLUMN owner TEXT;

-- The process that wrote an intent: when it has ended, its intents still without an
-- outcome were interrupted, whatever their lease says.
ALTER TABLE refunds ADD COLUMN owner TEXT;

-- Why a batch item failed without a refund of its own: it could not be read or stored (a
-- poisoned item is failed with its reason, and the queue moves on).
ALTER TABLE batch_items ADD COLUMN failure TEXT;
