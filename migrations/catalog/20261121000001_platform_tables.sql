-- Platform tables every service schema carries: transactional outbox and idempotency records.
-- Runs with search_path = catalog_schema (set by the service's pool), so names are unqualified.

CREATE TABLE outbox_event (
    outbox_seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    published_at      timestamptz,
    attempts          integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    locked_until      timestamptz,
    last_error        text
);

-- The relay's work queue: unpublished rows in commit order.
CREATE INDEX outbox_event_unpublished_idx ON outbox_event (outbox_seq) WHERE published_at IS NULL;

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
