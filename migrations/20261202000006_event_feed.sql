-- The event feed (GET /v1/events) in commit order. An event id is a ULID made when the event
-- is written, before its transaction commits, so ids sort in the order events were *made*: a
-- reader whose cursor passed a later id committed first never saw an earlier one committed
-- after it. Each event now takes its place in the feed (`feed_position`) from the one row of
-- `event_feed`, updated in the event's own transaction: the row stays locked until commit, so
-- places are taken, and become visible, in commit order. The same lock serializes the
-- `subject_seq` of events of one subject, which two transactions could both read as
-- MAX + 1 under READ COMMITTED; a unique index now refuses a repeated one.
-- Portable SQL (SQLite and PostgreSQL), as the other migrations.

ALTER TABLE events ADD COLUMN feed_position BIGINT;

-- Events written so far keep the order the feed showed them in: their ids'.
CREATE TABLE event_feed_backfill AS
    SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS place FROM events;
CREATE UNIQUE INDEX event_feed_backfill_id ON event_feed_backfill (id);
UPDATE events SET feed_position = (SELECT b.place FROM event_feed_backfill b WHERE b.id = events.id);
DROP TABLE event_feed_backfill;

CREATE TABLE event_feed (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    last BIGINT NOT NULL
);
INSERT INTO event_feed (id, last) SELECT 1, COALESCE(MAX(feed_position), 0) FROM events;

CREATE UNIQUE INDEX events_by_position ON events (feed_position);
CREATE INDEX events_by_client_position ON events (client, feed_position);

-- Subjects whose events share a `subject_seq` (two gateways told a batch's progress at once)
-- are numbered again in their order so far (seq, then id), deliveries with them.
CREATE TABLE event_seq_backfill AS
    SELECT id, ROW_NUMBER() OVER (PARTITION BY subject ORDER BY subject_seq, id) AS seq
    FROM events
    WHERE subject IN (SELECT subject FROM events GROUP BY subject, subject_seq HAVING COUNT(*) > 1);
CREATE UNIQUE INDEX event_seq_backfill_id ON event_seq_backfill (id);
UPDATE events SET subject_seq = (SELECT b.seq FROM event_seq_backfill b WHERE b.id = events.id)
    WHERE id IN (SELECT id FROM event_seq_backfill);
UPDATE webhook_deliveries
    SET subject_seq = (SELECT b.seq FROM event_seq_backfill b WHERE b.id = webhook_deliveries.event_id)
    WHERE event_id IN (SELECT id FROM event_seq_backfill);
DROP TABLE event_seq_backfill;

DROP INDEX events_by_subject;
CREATE UNIQUE INDEX events_by_subject ON events (subject, subject_seq);
