-- The operators' remaining views (issue 26): quotes, approvals, fallout and assets beside the
-- orders, and generations, so a rebuild replays the event log into fresh rows and swaps them in
-- at once (ADR 0046). Every view row carries the generation it belongs to; readers see only the
-- current one (projection_state), the live projector writes the current one, a rebuild writes
-- the next one and makes it current in one transaction.

-- The one current generation, platform-wide (no tenant: it says which rows are live).
CREATE TABLE projection_state (
    singleton  boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    generation integer     NOT NULL DEFAULT 1 CHECK (generation >= 1),
    swapped_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO projection_state DEFAULT VALUES;

-- The rebuild runs: who asked, why, how far, and how they ended.
CREATE TABLE projection_rebuild (
    rebuild_id      uuid        PRIMARY KEY,
    generation      integer     NOT NULL CHECK (generation >= 2),
    status          text        NOT NULL CHECK (status IN ('RUNNING', 'SWAPPED', 'FAILED')),
    requested_by    text        NOT NULL,
    tenant_id       text        NOT NULL,
    reason          text        NOT NULL CHECK (length(btrim(reason)) > 0),
    correlation_id  text        NOT NULL,
    events_replayed bigint      NOT NULL DEFAULT 0 CHECK (events_replayed >= 0),
    failure         text,
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    CHECK ((status = 'RUNNING') = (finished_at IS NULL)),
    CHECK ((status = 'FAILED') = (failure IS NOT NULL))
);
-- At most one rebuild at a time.
CREATE UNIQUE INDEX projection_rebuild_one_running ON projection_rebuild ((true)) WHERE status = 'RUNNING';

-- The existing views gain their generation.
ALTER TABLE projected_event ADD COLUMN generation integer NOT NULL DEFAULT 1;
ALTER TABLE projected_event ADD COLUMN external_reference text;
ALTER TABLE projected_event DROP CONSTRAINT projected_event_pkey;
ALTER TABLE projected_event ADD PRIMARY KEY (generation, event_id);
ALTER TABLE projected_event DROP CONSTRAINT projected_event_kind_check;
ALTER TABLE projected_event ADD CONSTRAINT projected_event_kind_check CHECK (kind IN ('ORDER_STATE',
    'TASK', 'EXTERNAL_CALL', 'QUOTE_STATE', 'APPROVAL', 'AUDIT_DECISION', 'FALLOUT', 'INCIDENT', 'OTHER'));
DROP INDEX projected_event_order_idx;
DROP INDEX projected_event_quote_idx;
CREATE INDEX projected_event_order_idx ON projected_event (generation, tenant_id, order_id, occurred_at, event_id)
    WHERE order_id IS NOT NULL;
CREATE INDEX projected_event_quote_idx ON projected_event (generation, tenant_id, quote_id, occurred_at, event_id)
    WHERE quote_id IS NOT NULL;
CREATE INDEX projected_event_reference_idx ON projected_event (generation, tenant_id, external_reference)
    WHERE external_reference IS NOT NULL;
CREATE INDEX projected_event_type_idx ON projected_event (generation, tenant_id, event_type, occurred_at);

ALTER TABLE order_view ADD COLUMN generation integer NOT NULL DEFAULT 1;
ALTER TABLE order_view ADD COLUMN created_at timestamptz;
ALTER TABLE order_view ADD COLUMN completed_at timestamptz;
ALTER TABLE order_view ADD COLUMN cancelled_at timestamptz;
ALTER TABLE order_view DROP CONSTRAINT order_view_pkey;
ALTER TABLE order_view ADD PRIMARY KEY (generation, tenant_id, order_id);
DROP INDEX order_view_status_idx;
CREATE INDEX order_view_status_idx ON order_view (generation, tenant_id, status);
CREATE INDEX order_view_customer_idx ON order_view (generation, tenant_id, customer_id);

ALTER TABLE order_progress ADD COLUMN generation integer NOT NULL DEFAULT 1;
ALTER TABLE order_progress DROP CONSTRAINT order_progress_pkey;
ALTER TABLE order_progress ADD PRIMARY KEY (generation, tenant_id, order_id);

-- Each quote's status (by aggregate version) and its milestones (first occurrence).
CREATE TABLE quote_view (
    generation     integer     NOT NULL,
    tenant_id      text        NOT NULL,
    quote_id       text        NOT NULL,
    customer_id    text,
    status         text        NOT NULL,
    status_version bigint      NOT NULL,
    created_at     timestamptz,
    accepted_at    timestamptz,
    converted_at   timestamptz,
    first_seen_at  timestamptz NOT NULL,
    PRIMARY KEY (generation, tenant_id, quote_id)
);
CREATE INDEX quote_view_customer_idx ON quote_view (generation, tenant_id, customer_id);

-- Each approval request's status (by aggregate version), when it was asked and decided.
CREATE TABLE approval_view (
    generation     integer     NOT NULL,
    tenant_id      text        NOT NULL,
    request_id     text        NOT NULL,
    quote_id       text,
    status         text        NOT NULL,
    status_version bigint      NOT NULL,
    requested_at   timestamptz,
    decided_at     timestamptz,
    decided_by     text,
    PRIMARY KEY (generation, tenant_id, request_id)
);
CREATE INDEX approval_view_status_idx ON approval_view (generation, tenant_id, status);

-- Each fallout record as its newest event says (by aggregate version).
CREATE TABLE fallout_view (
    generation   integer     NOT NULL,
    tenant_id    text        NOT NULL,
    fallout_id   text        NOT NULL,
    order_id     text        NOT NULL,
    task_id      text,
    category     text        NOT NULL,
    severity     text        NOT NULL,
    owner_team   text        NOT NULL,
    status       text        NOT NULL,
    failure_code text        NOT NULL,
    message      text        NOT NULL,
    retryable    boolean     NOT NULL,
    opened_at    timestamptz NOT NULL,
    resolved_at  timestamptz,
    version      bigint      NOT NULL,
    PRIMARY KEY (generation, tenant_id, fallout_id)
);
CREATE INDEX fallout_view_queue_idx ON fallout_view (generation, tenant_id, status, category, owner_team);

-- Each product instance a completed order installed, for the customer view.
CREATE TABLE asset_view (
    generation          integer     NOT NULL,
    tenant_id           text        NOT NULL,
    product_instance_id text        NOT NULL,
    customer_id         text        NOT NULL,
    order_id            text        NOT NULL,
    offering_id         text        NOT NULL,
    status              text        NOT NULL,
    version             bigint      NOT NULL,
    PRIMARY KEY (generation, tenant_id, product_instance_id)
);
CREATE INDEX asset_view_customer_idx ON asset_view (generation, tenant_id, customer_id);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['quote_view', 'approval_view', 'fallout_view', 'asset_view'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I '
                       'USING (tenant_id = current_setting(''app.tenant_id'', true)) '
                       'WITH CHECK (tenant_id = current_setting(''app.tenant_id'', true))', t);
    END LOOP;
END $$;
-- projection_state and projection_rebuild are platform-wide (a rebuild replays every tenant's
-- events and swaps every tenant's rows at once), so they carry no row-level policy; a run
-- records the tenant of the lead who asked.

GRANT SELECT ON projection_state, quote_view, approval_view, fallout_view, asset_view TO ops_app;
-- A lead asks for a rebuild on the request path; the jobs role runs it.
GRANT SELECT, INSERT ON projection_rebuild TO ops_app;
GRANT SELECT, UPDATE ON projection_state TO ops_jobs;
GRANT SELECT, UPDATE ON projection_rebuild TO ops_jobs;
GRANT SELECT, INSERT, UPDATE, DELETE ON quote_view, approval_view, fallout_view, asset_view TO ops_jobs;
-- The jobs role drops a replaced generation's rows after a swap.
GRANT DELETE ON projected_event, order_view, order_progress TO ops_jobs;
