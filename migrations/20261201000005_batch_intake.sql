-- Stadium-sized batches. An upload (CSV or NDJSON) is staged while it streams in: its batch
-- row has status 'staging' (never claimed, listed or shown) until every item has been checked,
-- then it opens in one statement, or is dropped whole. Batches are listed per client, newest
-- first; a batch's progress counts its items finished recently.

CREATE INDEX batches_by_client ON batches (client, id);
CREATE INDEX batch_items_finished ON batch_items (batch_id, finished_at);
