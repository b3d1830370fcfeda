-- Platform tables every service schema carries (ADR 0028): the outbox event log and its pending
-- queue with key buckets, relay dead letters, the consumer inbox with per-aggregate high-water
-- marks, consumer dead letters and idempotency records (ADRs 0002, 0007, 0011, 0012, 0018, 0020).
--
-- `messaging::schema::migrate` applies this folder into each service's schema before the
-- service's own migrations, with its own bookkeeping table (`_platform_migrations`). It runs with
-- search_path = the service schema (set by the service's pool), so names are unqualified.
-- Released files are never edited: a change to these tables is a new file in this folder.

-- Append-only event log: the relay never updates it in the normal path.
CREATE TABLE outbox_event (
    outbox_seq        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id          uuid        NOT NULL UNIQUE,
    topic             text        NOT NULL CHECK (topic <> ''),
    partition_key     text        NOT NULL CHECK (partition_key <> ''),
    event_type        text        NOT NULL CHECK (event_type ~ '^[a-z0-9.-]+\.v[0-9]+$'),
    event_version     integer     NOT NULL CHECK (event_version > 0),
    aggregate_type    text        NOT NULL,
    aggregate_id      text        NOT NULL,
    aggregate_version bigint      NOT NULL CHECK (aggregate_version > 0),
    tenant_id         text        NOT NULL,
    envelope          jsonb       NOT NULL CHECK (jsonb_typeof(envelope) = 'object'),
    occurred_at       timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    dead_lettered_at  timestamptz
) WITH (fillfactor = 100);

-- Wakes relays as soon as a transaction that wrote events commits (NOTIFY is delivered at commit).
CREATE FUNCTION outbox_event_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_event_notify AFTER INSERT ON outbox_event
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_event_notify();

-- Key buckets relays claim FOR UPDATE SKIP LOCKED (ADR 0012).
CREATE TABLE outbox_key_bucket (
    bucket smallint PRIMARY KEY CHECK (bucket BETWEEN 0 AND 255)
);
INSERT INTO outbox_key_bucket (bucket) SELECT generate_series(0, 255);

-- "Not yet acknowledged by the broker": one row per pending event, deleted on ack.
--
-- A pending row carries the whole Kafka message (ADR 0018): headers as columns and the envelope as
-- the exact text to send, so the relay reads the queue alone, in commit order. The copy lives only
-- until the broker acknowledges the event. The message columns are nullable: a row without a
-- message is completed from the log.
--
-- Vacuuming the queue never truncates it (ADR 0020): truncation needs an ACCESS EXCLUSIVE lock,
-- which waits for (and then blocks) every command transaction that writes an event, and the queue
-- refills at once anyway. Applies to autovacuum and to the relay's own vacuum alike.
CREATE TABLE outbox_pending (
    outbox_seq      bigint      PRIMARY KEY REFERENCES outbox_event,
    topic           text        NOT NULL,
    partition_key   text        NOT NULL,
    key_bucket      smallint    NOT NULL
        GENERATED ALWAYS AS ((abs(hashtextextended(topic || '/' || partition_key, 0)) % 256)::smallint) STORED,
    attempts        integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT '-infinity',
    last_error      text,
    event_id        uuid,
    event_type      text,
    event_version   integer,
    occurred_at     timestamptz,
    correlation_id  text,
    causation_id    text,
    traceparent     text,
    envelope        json,
    CHECK ((attempts = 0) = (last_error IS NULL)),
    -- The headers the relay sends are the envelope's own identity, never something else. A
    -- missing field makes a comparison NULL, which a CHECK would let through: hence coalesce.
    CONSTRAINT outbox_pending_message_consistent CHECK (
        envelope IS NULL OR coalesce(
            json_typeof(envelope) = 'object'
            AND occurred_at IS NOT NULL
            AND envelope->>'eventId' = event_id::text
            AND envelope->>'eventType' = event_type
            AND envelope->>'eventVersion' = event_version::text, false))
) WITH (vacuum_truncate = false);
CREATE INDEX outbox_pending_retry_idx ON outbox_pending (topic, partition_key) WHERE attempts > 0;

-- Rows the relay gave up on, with the reason; the outbox row stays (marked) for the record.
CREATE TABLE outbox_dead_letter (
    outbox_seq       bigint      PRIMARY KEY REFERENCES outbox_event,
    event_id         uuid        NOT NULL,
    topic            text        NOT NULL,
    partition_key    text        NOT NULL,
    reason           text        NOT NULL,
    attempts         integer     NOT NULL,
    dead_lettered_at timestamptz NOT NULL DEFAULT now()
);

-- Consumed events, one row per (consumer group, event id): the insert that makes redelivery a no-op.
CREATE TABLE inbox_message (
    consumer_group  text        NOT NULL,
    message_id      uuid        NOT NULL,
    event_type      text        NOT NULL,
    topic           text        NOT NULL,
    kafka_partition integer     NOT NULL,
    kafka_offset    bigint      NOT NULL,
    outcome         text        NOT NULL CHECK (outcome IN ('APPLIED', 'STALE', 'DEAD_LETTERED')),
    received_at     timestamptz NOT NULL DEFAULT now(),
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
    dead_letter_id   bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    consumer_group   text        NOT NULL,
    topic            text        NOT NULL,
    kafka_partition  integer     NOT NULL,
    kafka_offset     bigint      NOT NULL,
    message_id       uuid,
    payload          text,
    reason           text        NOT NULL,
    attempts         integer     NOT NULL,
    dead_lettered_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (consumer_group, topic, kafka_partition, kafka_offset)
);

CREATE TABLE idempotency_record (
    tenant_id         text        NOT NULL,
    idempotency_key   text        NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    command_type      text        NOT NULL,
    request_hash      text        NOT NULL,
    status            text        NOT NULL CHECK (status IN ('IN_PROGRESS', 'COMPLETED')),
    lease_token       uuid        NOT NULL,
    locked_until      timestamptz,
    response_status   smallint    CHECK (response_status BETWEEN 200 AND 599),
    response_body     jsonb,
    response_hash     text,
    response_location text,
    resource_type     text,
    resource_id       text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    completed_at      timestamptz,
    expires_at        timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, idempotency_key),
    CONSTRAINT idempotency_completed_has_response
        CHECK ((status = 'COMPLETED') = (response_status IS NOT NULL AND response_body IS NOT NULL AND completed_at IS NOT NULL)),
    CONSTRAINT idempotency_in_progress_has_lease
        CHECK (status = 'COMPLETED' OR locked_until IS NOT NULL)
);
CREATE INDEX idempotency_record_expiry_idx ON idempotency_record (expires_at);
