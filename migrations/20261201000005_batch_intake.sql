-- Stadium-sized batches. An upload (CSV or NDJSON) is staged while it streams in: its batch
-- row has status 'staging' (never claimed, listed or shown) until every item has been checked,
-- then it opens in one statement, or is dropped whole. Batches are listed per client, newest
-- first; a batch's progress counts its items finished recently.

CREATE INDEX batches_by_client ON batches (client, id);
CREATE INDEX batch_items_finished ON batch_items (batch_id, finished_at);

-- Whether a batch still has queued or claimed items is asked after every item: answered from
-- this index rather than by scanning a 100,000-item batch's finished items.
CREATE INDEX batch_items_by_state ON batch_items (batch_id, state);
