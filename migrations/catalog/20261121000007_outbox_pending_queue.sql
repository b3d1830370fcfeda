-- The relay's work moves out of the event log into a small queue table (ADR 0012).
--
-- `outbox_event` becomes an append-only log: the relay never updates it in the normal path. A row
-- of `outbox_pending` (written in the same statement as the event) means "not yet acknowledged
-- by the broker"; the relay deletes it once the broker has acknowledged the event. Updating the
-- wide event row twice per event (claim, then mark) was most of the relay's cost.
--
-- Relays claim key buckets, not rows: a bucket row locked FOR UPDATE SKIP LOCKED for the length
-- of the relay's transaction makes every pending row of those keys exclusively that relay's, so
-- two relays never publish one row, and never split one key between them (order per key).

CREATE TABLE outbox_key_bucket (
    bucket smallint PRIMARY KEY CHECK (bucket BETWEEN 0 AND 255)
);
INSERT INTO outbox_key_bucket (bucket) SELECT generate_series(0, 255);

CREATE TABLE outbox_pending (
    outbox_seq      bigint      PRIMARY KEY REFERENCES outbox_event,
    topic           text        NOT NULL,
    partition_key   text        NOT NULL,
    key_bucket      smallint    NOT NULL
        GENERATED ALWAYS AS ((abs(hashtextextended(topic || '/' || partition_key, 0)) % 256)::smallint) STORED,
    attempts        integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT '-infinity',
    last_error      text,
    CHECK ((attempts = 0) = (last_error IS NULL))
);
-- Keys backing off after a failure hold back their later rows; failures are rare, so this
-- partial index stays tiny.
CREATE INDEX outbox_pending_retry_idx ON outbox_pending (topic, partition_key) WHERE attempts > 0;

-- Rows not yet published move over with their retry state.
INSERT INTO outbox_pending (outbox_seq, topic, partition_key, attempts, next_attempt_at, last_error)
SELECT outbox_seq, topic, partition_key,
       CASE WHEN last_error IS NULL THEN 0 ELSE greatest(attempts, 1) END,
       CASE WHEN last_error IS NULL THEN '-infinity' ELSE next_attempt_at END,
       last_error
FROM outbox_event WHERE published_at IS NULL AND dead_lettered_at IS NULL;

DROP INDEX outbox_event_pending_idx;
DROP INDEX outbox_event_pending_key_idx;
ALTER TABLE outbox_event
    DROP CONSTRAINT outbox_event_published_or_dead,
    DROP COLUMN published_at,
    DROP COLUMN attempts,
    DROP COLUMN locked_until,
    DROP COLUMN next_attempt_at,
    DROP COLUMN last_error,
    SET (fillfactor = 100);
