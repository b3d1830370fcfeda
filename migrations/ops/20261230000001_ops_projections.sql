-- The operations projections (issue 26): what the other services published, arranged for
-- operators. The ops service decides nothing: every row here is derived from events and can be
-- rebuilt from them. Writes are idempotent (one row per event id) and commutative (a status only
-- moves forward by aggregate version, progress only by time), so duplicate, replayed or
-- cross-topic reordered events give the same views. Tenancy follows ADR 0030.

-- Every projected event, the timelines' rows.
CREATE TABLE projected_event (
    event_id          uuid        PRIMARY KEY,
    tenant_id         text        NOT NULL,
    topic             text        NOT NULL,
    event_type        text        NOT NULL,
    kind              text        NOT NULL CHECK (kind IN ('ORDER_STATE', 'TASK', 'EXTERNAL_CALL',
                          'QUOTE_STATE', 'APPROVAL', 'AUDIT_DECISION', 'OTHER')),
    aggregate_type    text        NOT NULL,
    aggregate_id      text        NOT NULL,
    aggregate_version bigint      NOT NULL,
    occurred_at       timestamptz NOT NULL,
    correlation_id    text        NOT NULL,
    actor_id          text        NOT NULL,
    order_id          text,
    quote_id          text,
    customer_id       text,
    to_status         text,
    summary           jsonb       NOT NULL CHECK (jsonb_typeof(summary) = 'object'),
    projected_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX projected_event_order_idx ON projected_event (tenant_id, order_id, occurred_at, event_id)
    WHERE order_id IS NOT NULL;
CREATE INDEX projected_event_quote_idx ON projected_event (tenant_id, quote_id, occurred_at, event_id)
    WHERE quote_id IS NOT NULL;

-- Each order's status, moved only by a newer order event.
CREATE TABLE order_view (
    tenant_id      text        NOT NULL,
    order_id       text        NOT NULL,
    customer_id    text,
    quote_id       text,
    status         text        NOT NULL,
    status_version bigint      NOT NULL,
    status_since   timestamptz NOT NULL,
    first_seen_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, order_id)
);
CREATE INDEX order_view_status_idx ON order_view (tenant_id, status);

-- Each order's latest progress (order, task or external-call event), whatever topic said it.
CREATE TABLE order_progress (
    tenant_id        text        NOT NULL,
    order_id         text        NOT NULL,
    last_progress_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, order_id)
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['projected_event', 'order_view', 'order_progress'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I '
                       'USING (tenant_id = current_setting(''app.tenant_id'', true)) '
                       'WITH CHECK (tenant_id = current_setting(''app.tenant_id'', true))', t);
    END LOOP;
END $$;

-- The request role, ops_app: reads only.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ops_app') THEN
        BEGIN
            CREATE ROLE ops_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ops_app' AND (rolsuper OR rolbypassrls))
       OR pg_has_role('ops_app', current_user, 'MEMBER') THEN
        RAISE EXCEPTION 'ops_app must not bypass row-level security nor act as the schema owner %', current_user;
    END IF;
END $$;
GRANT USAGE ON SCHEMA ops_schema TO ops_app;
GRANT SELECT ON projected_event, order_view, order_progress TO ops_app;

-- The jobs role, ops_jobs: the projector across tenants.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ops_jobs') THEN
        RAISE EXCEPTION 'ops_jobs does not exist: the platform migration 20261208000001_jobs_role creates it';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ops_jobs' AND rolsuper)
       OR pg_has_role('ops_jobs', current_user, 'MEMBER') THEN
        RAISE EXCEPTION 'ops_jobs must be no superuser and no member of the schema owner %', current_user;
    END IF;
END $$;
GRANT SELECT, INSERT ON projected_event TO ops_jobs;
GRANT SELECT, INSERT, UPDATE ON order_view, order_progress TO ops_jobs;
