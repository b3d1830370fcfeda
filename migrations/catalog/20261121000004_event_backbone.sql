-- Event backbone: relay bookkeeping on the outbox, dead letters, the inbox of consumed events,
-- and per-aggregate high-water marks that keep stale events from overwriting newer state.

ALTER TABLE outbox_event
    ADD COLUMN next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN dead_lettered_at timestamptz,
    ADD CONSTRAINT outbox_event_published_or_dead CHECK (published_at IS NULL OR dead_lettered_at IS NULL);

DROP INDEX outbox_event_unpublished_idx;
-- The relay's work queue: live rows in commit order, and the per-key look-back.
CREATE INDEX outbox_event_pending_idx ON outbox_event (outbox_seq)
    WHERE published_at IS NULL AND dead_lettered_at IS NULL;
CREATE INDEX outbox_event_pending_key_idx ON outbox_event (topic, partition_key, outbox_seq)
    WHERE published_at IS NULL AND dead_lettered_at IS NULL;
CREATE INDEX outbox_event_published_idx ON outbox_event (published_at) WHERE published_at IS NOT NULL;

-- Wakes relays as soon as a transaction that wrote events commits (NOTIFY is delivered at commit).
CREATE FUNCTION outbox_event_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_event_notify AFTER INSERT ON outbox_event
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_event_notify();

-- Rows the relay gave up on, with the reason; the outbox row stays (marked) for the record.
CREATE TABLE outbox_dead_letter (
    outbox_seq     bigint      PRIMARY KEY REFERENCES outbox_event,
    event_id       uuid        NOT NULL,
    topic          text        NOT NULL,
    partition_key  text        NOT NULL,
    reason         text        NOT NULL,
    attempts       integer     NOT NULL,
    dead_lettered_at timestamptz NOT NULL DEFAULT now()
);

-- Consumed events, one row per (consumer group, event id): the insert that makes redelivery a no-op.
CREATE TABLE inbox_message (
    consumer_group text        NOT NULL,
    message_id     uuid        NOT NULL,
    event_type     text        NOT NULL,
    topic          text        NOT NULL,
    kafka_partition integer    NOT NULL,
    kafka_offset   bigint      NOT NULL,
    outcome        text        NOT NULL CHECK (outcome IN ('APPLIED', 'STALE', 'DEAD_LETTERED')),
    received_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, message_id)
);

-- Highest aggregate version each consumer group has applied per aggregate.
CREATE TABLE inbox_aggregate_version (
    consumer_group    text   NOT NULL,
    aggregate_type    text   NOT NULL,
    aggregate_id      text   NOT NULL,
    aggregate_version bigint NOT NULL,
    PRIMARY KEY (consumer_group, aggregate_type, aggregate_id)
);

-- Messages a consumer could not handle after its retries, kept with the failure for repair.
CREATE TABLE consumer_dead_letter (
    dead_letter_id  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    consumer_group  text        NOT NULL,
    topic           text        NOT NULL,
    kafka_partition integer     NOT NULL,
    kafka_offset    bigint      NOT NULL,
    message_id      uuid,
    payload         text,
    reason          text        NOT NULL,
    attempts        integer     NOT NULL,
    dead_lettered_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (consumer_group, topic, kafka_partition, kafka_offset)
);
