-- Order service (issue 24): exceptions as a domain. The plan grows by revisions (compensations
-- and redos are tasks of their own; nothing planned is rewritten), corrected characteristics
-- keep their history, fallout becomes a record with its own lifecycle, a cancellation is a
-- resource of its own, an amendment is versioned with one in flight per order, and an order may
-- run its fulfilment process more than once (a repair
-- supersedes a halted or stuck run). ADR 0043.

---------------------------------------------------------------------------------------------
-- Tasks: why a task exists, which revision added it, whether a person has to act on it
---------------------------------------------------------------------------------------------
ALTER TABLE order_schema.fulfilment_task
    ADD COLUMN purpose        text    NOT NULL DEFAULT 'FULFIL'
        CHECK (purpose IN ('FULFIL', 'COMPENSATE', 'REDO')),
    ADD COLUMN refers_to      uuid,
    ADD COLUMN plan_revision  integer NOT NULL DEFAULT 1 CHECK (plan_revision >= 1),
    ADD COLUMN handling       text    NOT NULL DEFAULT 'AUTOMATIC'
        CHECK (handling IN ('AUTOMATIC', 'MANUAL_UNDO_REQUIRED', 'VERIFIED_BY_OPERATOR',
                            'SKIPPED_BY_OPERATOR', 'UNDONE_BY_OPERATOR')),
    ADD CONSTRAINT fulfilment_task_refers CHECK ((purpose = 'FULFIL') = (refers_to IS NULL)),
    ADD CONSTRAINT fulfilment_task_refers_fk FOREIGN KEY (tenant_id, refers_to)
        REFERENCES order_schema.fulfilment_task (tenant_id, task_id),
    -- Only a task settled by hand carries an operator's handling; only a succeeded one (or one
    -- being undone) can be waiting for its undo by hand.
    ADD CONSTRAINT fulfilment_task_handling CHECK (
        (handling <> 'MANUAL_UNDO_REQUIRED' OR status IN ('SUCCEEDED', 'COMPENSATING'))
        AND (handling NOT IN ('VERIFIED_BY_OPERATOR', 'SKIPPED_BY_OPERATOR')
             OR status IN ('SUCCEEDED', 'COMPENSATING', 'COMPENSATED'))
        AND (handling <> 'UNDONE_BY_OPERATOR' OR status = 'COMPENSATED'));
-- One compensation per effect, one redo per replaced task.
CREATE UNIQUE INDEX fulfilment_task_one_compensation ON order_schema.fulfilment_task (tenant_id, refers_to)
    WHERE purpose = 'COMPENSATE';
CREATE UNIQUE INDEX fulfilment_task_one_redo ON order_schema.fulfilment_task (tenant_id, refers_to)
    WHERE purpose = 'REDO';

-- Whether a dependency on `task` is met: it SUCCEEDED, or the redo that replaced it did.
CREATE FUNCTION order_schema.fulfilment_dependency_met(tenant text, task uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE chain(task_id, status, depth) AS (
        SELECT t.task_id, t.status, 0 FROM order_schema.fulfilment_task t
         WHERE t.tenant_id = tenant AND t.task_id = task
        UNION ALL
        SELECT r.task_id, r.status, c.depth + 1 FROM order_schema.fulfilment_task r
          JOIN chain c ON r.refers_to = c.task_id AND r.purpose = 'REDO'
         WHERE r.tenant_id = tenant AND c.depth < 100
    )
    SELECT coalesce(bool_or(status = 'SUCCEEDED'), false) FROM chain
$$;

-- The plan never changes silently: a task keeps its item, type, operation, dependencies, purpose
-- and revision; no task starts before every dependency is met; a task of a cancelled item never
-- succeeds.
CREATE OR REPLACE FUNCTION order_schema.order_fulfilment_task_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    unmet integer;
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM order_schema.order_refuse('fulfilment_task_never_deleted', 'fulfilment tasks are never deleted');
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF NEW.task_id <> OLD.task_id OR NEW.tenant_id <> OLD.tenant_id OR NEW.order_id <> OLD.order_id
           OR NEW.order_item_id <> OLD.order_item_id OR NEW.task_type <> OLD.task_type
           OR NEW.operation <> OLD.operation OR NEW.depends_on <> OLD.depends_on
           OR NEW.sequence_no <> OLD.sequence_no OR NEW.reversible <> OLD.reversible
           OR NEW.compensation IS DISTINCT FROM OLD.compensation
           OR NEW.point_of_no_return <> OLD.point_of_no_return
           OR NEW.purpose <> OLD.purpose OR NEW.refers_to IS DISTINCT FROM OLD.refers_to
           OR NEW.plan_revision <> OLD.plan_revision THEN
            PERFORM order_schema.order_refuse('fulfilment_task_plan_immutable',
                'a planned task keeps its item, type, operation, dependencies, purpose and revision');
        END IF;
        IF NEW.aggregate_version <> OLD.aggregate_version + 1 THEN
            PERFORM order_schema.order_refuse('fulfilment_task_version', 'every change bumps the task version by one');
        END IF;
        NEW.updated_at := now();
    END IF;
    IF NEW.status IN ('DISPATCHED', 'IN_PROGRESS', 'SUCCEEDED')
       AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM NEW.status) THEN
        SELECT count(*) INTO unmet FROM unnest(NEW.depends_on) AS d(task_id)
         WHERE NOT order_schema.fulfilment_dependency_met(NEW.tenant_id, d.task_id);
        IF unmet > 0 THEN
            PERFORM order_schema.order_refuse('fulfilment_task_dependencies_first',
                'a task starts only after every dependency SUCCEEDED');
        END IF;
    END IF;
    IF NEW.status = 'SUCCEEDED' AND NEW.purpose <> 'COMPENSATE'
       AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM NEW.status)
       AND EXISTS (SELECT 1 FROM order_schema.order_item i
                    WHERE i.tenant_id = NEW.tenant_id AND i.order_item_id = NEW.order_item_id
                      AND i.status = 'CANCELLED') THEN
        PERFORM order_schema.order_refuse('fulfilment_task_cancelled_item',
            'a task of a cancelled item never succeeds');
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION order_schema.fulfilment_task_transition_allowed(from_status text, to_status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT from_status = to_status OR (from_status, to_status) IN (
        ('CREATED', 'WAITING_DEPENDENCY'), ('CREATED', 'READY'), ('CREATED', 'CANCELLED'),
        ('WAITING_DEPENDENCY', 'READY'), ('WAITING_DEPENDENCY', 'CANCELLED'),
        ('READY', 'DISPATCHED'), ('READY', 'CANCELLED'),
        ('DISPATCHED', 'IN_PROGRESS'), ('DISPATCHED', 'SUCCEEDED'),
        ('DISPATCHED', 'FAILED_RETRYABLE'), ('DISPATCHED', 'FAILED_NON_RETRYABLE'),
        ('DISPATCHED', 'TIMED_OUT'),
        ('IN_PROGRESS', 'SUCCEEDED'), ('IN_PROGRESS', 'FAILED_RETRYABLE'),
        ('IN_PROGRESS', 'FAILED_NON_RETRYABLE'), ('IN_PROGRESS', 'TIMED_OUT'),
        ('TIMED_OUT', 'SUCCEEDED'), ('TIMED_OUT', 'FAILED_RETRYABLE'),
        ('TIMED_OUT', 'FAILED_NON_RETRYABLE'),
        ('FAILED_RETRYABLE', 'SUCCEEDED'), ('FAILED_RETRYABLE', 'FAILED_NON_RETRYABLE'),
        ('FAILED_RETRYABLE', 'READY'), ('FAILED_RETRYABLE', 'CANCELLED'),
        ('FAILED_NON_RETRYABLE', 'CANCELLED'), ('FAILED_NON_RETRYABLE', 'SUCCEEDED'),
        ('SUCCEEDED', 'COMPENSATING'),
        ('COMPENSATING', 'COMPENSATED'))
$$;

---------------------------------------------------------------------------------------------
-- Items: a completed item may be cancelled before its order completes; corrected
-- characteristics keep their history
---------------------------------------------------------------------------------------------
ALTER TABLE order_schema.order_item
    ADD COLUMN characteristics_revision integer NOT NULL DEFAULT 1 CHECK (characteristics_revision >= 1),
    DROP CONSTRAINT order_item_completed_at,
    ADD CONSTRAINT order_item_completed_at CHECK ((status = 'COMPLETED') <= (completed_at IS NOT NULL));

CREATE TABLE order_schema.order_item_correction (
    tenant_id           text        NOT NULL,
    order_item_id       uuid        NOT NULL,
    revision            integer     NOT NULL CHECK (revision >= 2),
    characteristics     jsonb       NOT NULL CHECK (jsonb_typeof(characteristics) = 'object'),
    replaced            jsonb       NOT NULL CHECK (jsonb_typeof(replaced) = 'object'),
    corrected_by        text        NOT NULL,
    reason              text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, order_item_id, revision),
    CONSTRAINT order_item_correction_item_fk FOREIGN KEY (tenant_id, order_item_id)
        REFERENCES order_schema.order_item (tenant_id, order_item_id)
);

CREATE OR REPLACE FUNCTION order_schema.order_item_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM order_schema.order_refuse('order_item_never_deleted', 'order items are never deleted');
    END IF;
    IF NEW.order_item_id <> OLD.order_item_id OR NEW.order_id <> OLD.order_id OR NEW.tenant_id <> OLD.tenant_id
       OR NEW.action <> OLD.action OR NEW.offering_id <> OLD.offering_id
       OR NEW.offering_version <> OLD.offering_version OR NEW.quantity <> OLD.quantity
       OR NEW.parent_item_id IS DISTINCT FROM OLD.parent_item_id
       OR NEW.product_instance_id IS DISTINCT FROM OLD.product_instance_id THEN
        PERFORM order_schema.order_refuse('order_item_immutable',
            'an order item keeps its order, action, offering, quantity and target');
    END IF;
    -- Characteristics change only by a correction: the revision goes up by one.
    IF (NEW.characteristics IS DISTINCT FROM OLD.characteristics)
       <> (NEW.characteristics_revision = OLD.characteristics_revision + 1)
       OR NEW.characteristics_revision NOT IN (OLD.characteristics_revision, OLD.characteristics_revision + 1) THEN
        PERFORM order_schema.order_refuse('order_item_characteristics_by_correction',
            'characteristics change only by a correction, which bumps their revision by one');
    END IF;
    IF OLD.completed_at IS NOT NULL AND NEW.completed_at IS DISTINCT FROM OLD.completed_at THEN
        PERFORM order_schema.order_refuse('order_item_completes_once', 'an order item completes once');
    END IF;
    IF NEW.aggregate_version <> OLD.aggregate_version + 1 THEN
        PERFORM order_schema.order_refuse('order_item_version', 'every change bumps the item version by one');
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION order_schema.order_item_transition_allowed(from_status text, to_status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT from_status = to_status OR (from_status, to_status) IN (
        ('PENDING', 'VALIDATED'), ('PENDING', 'SKIPPED'), ('PENDING', 'CANCEL_PENDING'),
        ('VALIDATED', 'READY'), ('VALIDATED', 'BLOCKED'), ('VALIDATED', 'SKIPPED'),
        ('VALIDATED', 'CANCEL_PENDING'),
        ('BLOCKED', 'READY'), ('BLOCKED', 'SKIPPED'), ('BLOCKED', 'FAILED'),
        ('BLOCKED', 'CANCEL_PENDING'),
        ('READY', 'IN_PROGRESS'), ('READY', 'SKIPPED'), ('READY', 'FAILED'),
        ('READY', 'CANCEL_PENDING'),
        ('IN_PROGRESS', 'COMPLETED'), ('IN_PROGRESS', 'FAILED'), ('IN_PROGRESS', 'CANCEL_PENDING'),
        ('COMPLETED', 'CANCEL_PENDING'),
        ('FAILED', 'IN_PROGRESS'), ('FAILED', 'CANCEL_PENDING'), ('FAILED', 'COMPENSATING'),
        ('CANCEL_PENDING', 'CANCELLED'), ('CANCEL_PENDING', 'COMPENSATING'),
        ('COMPENSATING', 'COMPENSATED'))
$$;

---------------------------------------------------------------------------------------------
-- Orders: the plan's revision and the fulfilment run the order wants
---------------------------------------------------------------------------------------------
ALTER TABLE order_schema.customer_order
    ADD COLUMN plan_revision   integer NOT NULL DEFAULT 0 CHECK (plan_revision >= 0),
    ADD COLUMN fulfilment_run  integer NOT NULL DEFAULT 1 CHECK (fulfilment_run >= 1),
    ADD CONSTRAINT customer_order_plan_revision CHECK ((plan_revision = 0) = (plan_hash IS NULL));
UPDATE order_schema.customer_order SET plan_revision = 1 WHERE plan_hash IS NOT NULL;

CREATE FUNCTION order_schema.customer_order_revision_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.plan_revision < OLD.plan_revision OR NEW.fulfilment_run < OLD.fulfilment_run THEN
        PERFORM order_schema.order_refuse('customer_order_revision_monotonic',
            'the plan revision and the fulfilment run only go up');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER customer_order_revision_guard BEFORE UPDATE ON order_schema.customer_order
    FOR EACH ROW EXECUTE FUNCTION order_schema.customer_order_revision_guard();

-- Every plan revision: why it was made, by whom (the tasks carry their revision).
CREATE TABLE order_schema.order_plan_revision (
    tenant_id    text        NOT NULL,
    order_id     uuid        NOT NULL,
    revision     integer     NOT NULL CHECK (revision >= 1),
    reason       text        NOT NULL,
    created_by   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, order_id, revision),
    CONSTRAINT order_plan_revision_order_fk FOREIGN KEY (tenant_id, order_id)
        REFERENCES order_schema.customer_order (tenant_id, order_id)
);

-- One row per process run of an order (a repair supersedes a halted or stuck run).
ALTER TABLE order_schema.order_process
    ADD COLUMN run integer NOT NULL DEFAULT 1 CHECK (run >= 1),
    DROP CONSTRAINT order_process_pkey,
    ADD PRIMARY KEY (tenant_id, order_id, run);

---------------------------------------------------------------------------------------------
-- Fallout: the workbench's record
---------------------------------------------------------------------------------------------
ALTER TABLE order_schema.order_fallout
    DROP CONSTRAINT order_fallout_category_check,
    ADD CONSTRAINT order_fallout_category_check CHECK (category IN ('CAPTURE', 'VALIDATION',
        'DECOMPOSITION', 'EXTERNAL_REJECTION', 'RETRIES_EXHAUSTED', 'COMPENSATION', 'CANCELLATION',
        'RECONCILIATION', 'WORKFLOW')),
    ADD COLUMN assignee          text,
    ADD COLUMN resolved_by       text,
    ADD COLUMN resolution_evidence jsonb CHECK (resolution_evidence IS NULL OR jsonb_typeof(resolution_evidence) = 'object'),
    ADD COLUMN aggregate_version bigint NOT NULL DEFAULT 1 CHECK (aggregate_version >= 1),
    ADD COLUMN updated_at        timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT order_fallout_resolution CHECK ((status IN ('RESOLVED', 'CLOSED'))
        = (resolved_at IS NOT NULL AND resolution_type IS NOT NULL AND resolved_by IS NOT NULL)),
    ADD CONSTRAINT order_fallout_resolution_type CHECK (resolution_type IS NULL OR resolution_type IN (
        'RETRIED', 'CORRECTED_AND_RETRIED', 'SKIPPED', 'FORCE_COMPLETED', 'ITEM_FAILED',
        'ORDER_ABORTED', 'CANCELLED', 'MANUAL_UNDO', 'MANUAL'));
CREATE INDEX order_fallout_queue ON order_schema.order_fallout (tenant_id, status, category, created_at);
-- One open record per failed task, whoever reports the failure (the process or the event).
CREATE UNIQUE INDEX order_fallout_one_open_per_task ON order_schema.order_fallout (tenant_id, task_id)
    WHERE task_id IS NOT NULL AND status NOT IN ('RESOLVED', 'CLOSED');

CREATE FUNCTION order_schema.order_fallout_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM order_schema.order_refuse('order_fallout_never_deleted', 'fallout records are never deleted');
    END IF;
    IF NEW.fallout_id <> OLD.fallout_id OR NEW.tenant_id <> OLD.tenant_id OR NEW.order_id <> OLD.order_id
       OR NEW.order_item_id IS DISTINCT FROM OLD.order_item_id OR NEW.task_id IS DISTINCT FROM OLD.task_id
       OR NEW.category <> OLD.category OR NEW.failure_code <> OLD.failure_code
       OR NEW.created_at <> OLD.created_at THEN
        PERFORM order_schema.order_refuse('order_fallout_identity_immutable',
            'a fallout keeps what failed, where and when');
    END IF;
    IF OLD.status IN ('RESOLVED', 'CLOSED') AND (NEW.resolution_type IS DISTINCT FROM OLD.resolution_type
       OR NEW.resolution_note IS DISTINCT FROM OLD.resolution_note OR NEW.resolved_at IS DISTINCT FROM OLD.resolved_at
       OR NEW.resolved_by IS DISTINCT FROM OLD.resolved_by) THEN
        PERFORM order_schema.order_refuse('order_fallout_resolution_immutable', 'a resolution is never rewritten');
    END IF;
    IF NEW.aggregate_version <> OLD.aggregate_version + 1 THEN
        PERFORM order_schema.order_refuse('order_fallout_version', 'every change bumps the fallout version by one');
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER order_fallout_guard BEFORE UPDATE OR DELETE ON order_schema.order_fallout
    FOR EACH ROW EXECUTE FUNCTION order_schema.order_fallout_guard();

-- fallout_status.rs (FalloutStatus)
CREATE FUNCTION order_schema.order_fallout_transition_allowed(from_status text, to_status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT from_status = to_status OR (from_status, to_status) IN (
        ('OPEN', 'ASSIGNED'), ('OPEN', 'RETRY_SCHEDULED'), ('OPEN', 'WAITING_EXTERNAL'),
        ('OPEN', 'MANUAL_ACTION_REQUIRED'), ('OPEN', 'RESOLVED'),
        ('ASSIGNED', 'RETRY_SCHEDULED'), ('ASSIGNED', 'WAITING_EXTERNAL'),
        ('ASSIGNED', 'MANUAL_ACTION_REQUIRED'), ('ASSIGNED', 'RESOLVED'),
        ('RETRY_SCHEDULED', 'OPEN'), ('RETRY_SCHEDULED', 'RESOLVED'),
        ('WAITING_EXTERNAL', 'ASSIGNED'), ('WAITING_EXTERNAL', 'MANUAL_ACTION_REQUIRED'),
        ('WAITING_EXTERNAL', 'OPEN'), ('WAITING_EXTERNAL', 'RESOLVED'),
        ('MANUAL_ACTION_REQUIRED', 'ASSIGNED'), ('MANUAL_ACTION_REQUIRED', 'RESOLVED'),
        ('RESOLVED', 'CLOSED'))
$$;

CREATE FUNCTION order_schema.order_fallout_initial_status_allowed(status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT status IN ('OPEN', 'MANUAL_ACTION_REQUIRED')
$$;

CREATE OR REPLACE FUNCTION order_schema.status_transition_allowed(machine text, from_status text, to_status text)
RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE machine
        WHEN 'order' THEN order_schema.order_transition_allowed(from_status, to_status)
        WHEN 'order_item' THEN order_schema.order_item_transition_allowed(from_status, to_status)
        WHEN 'fulfilment_task' THEN order_schema.fulfilment_task_transition_allowed(from_status, to_status)
        WHEN 'product_instance' THEN order_schema.product_instance_transition_allowed(from_status, to_status)
        WHEN 'subscription' THEN order_schema.subscription_transition_allowed(from_status, to_status)
        WHEN 'order_fallout' THEN order_schema.order_fallout_transition_allowed(from_status, to_status)
    END
$$;

CREATE OR REPLACE FUNCTION order_schema.initial_status_allowed(machine text, status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE machine
        WHEN 'order' THEN order_schema.order_initial_status_allowed(status)
        WHEN 'order_item' THEN order_schema.order_item_initial_status_allowed(status)
        WHEN 'fulfilment_task' THEN order_schema.fulfilment_task_initial_status_allowed(status)
        WHEN 'product_instance' THEN order_schema.product_instance_initial_status_allowed(status)
        WHEN 'subscription' THEN order_schema.subscription_initial_status_allowed(status)
        WHEN 'order_fallout' THEN order_schema.order_fallout_initial_status_allowed(status)
    END
$$;

CREATE TRIGGER order_fallout_initial_status BEFORE INSERT ON order_schema.order_fallout
    FOR EACH ROW EXECUTE FUNCTION order_schema.status_guard('order_fallout');
CREATE TRIGGER order_fallout_status_transition BEFORE UPDATE OF status ON order_schema.order_fallout
    FOR EACH ROW EXECUTE FUNCTION order_schema.status_guard('order_fallout');

---------------------------------------------------------------------------------------------
-- Cancellations (TMF622 CancelProductOrder): one resource per request
---------------------------------------------------------------------------------------------
CREATE TABLE order_schema.order_cancellation (
    cancellation_id  uuid        PRIMARY KEY,
    tenant_id        text        NOT NULL,
    order_id         uuid        NOT NULL,
    scope            uuid[],
    whole_order      boolean     NOT NULL,
    reason           text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    requested_by     text        NOT NULL,
    state            text        NOT NULL CHECK (state IN ('ASSESSING', 'PENDING', 'DONE', 'FAILED')),
    impact           jsonb       NOT NULL CHECK (jsonb_typeof(impact) = 'object'),
    created_at       timestamptz NOT NULL DEFAULT now(),
    completed_at     timestamptz,
    CONSTRAINT order_cancellation_tenant_key UNIQUE (tenant_id, cancellation_id),
    CONSTRAINT order_cancellation_order_fk FOREIGN KEY (tenant_id, order_id)
        REFERENCES order_schema.customer_order (tenant_id, order_id),
    CONSTRAINT order_cancellation_completed CHECK ((state IN ('DONE', 'FAILED')) = (completed_at IS NOT NULL))
);
CREATE INDEX order_cancellation_order_idx ON order_schema.order_cancellation (tenant_id, order_id, created_at);

CREATE FUNCTION order_schema.order_cancellation_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM order_schema.order_refuse('order_cancellation_never_deleted', 'cancellations are never deleted');
    END IF;
    IF NEW.cancellation_id <> OLD.cancellation_id OR NEW.order_id <> OLD.order_id
       OR NEW.scope IS DISTINCT FROM OLD.scope OR NEW.reason <> OLD.reason OR NEW.impact <> OLD.impact
       OR NEW.requested_by <> OLD.requested_by THEN
        PERFORM order_schema.order_refuse('order_cancellation_immutable', 'a cancellation keeps what was asked and assessed');
    END IF;
    IF NOT (OLD.state = NEW.state OR (OLD.state, NEW.state) IN (('ASSESSING', 'PENDING'), ('ASSESSING', 'DONE'),
            ('ASSESSING', 'FAILED'), ('PENDING', 'DONE'), ('PENDING', 'FAILED'))) THEN
        PERFORM order_schema.order_refuse('order_cancellation_state', 'a cancellation moves assessing → pending → done or failed');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER order_cancellation_guard BEFORE UPDATE OR DELETE ON order_schema.order_cancellation
    FOR EACH ROW EXECUTE FUNCTION order_schema.order_cancellation_guard();

---------------------------------------------------------------------------------------------
-- Amendments: versioned per order, one in flight at a time
---------------------------------------------------------------------------------------------
CREATE TABLE order_schema.order_amendment (
    amendment_id     uuid        PRIMARY KEY,
    tenant_id        text        NOT NULL,
    order_id         uuid        NOT NULL,
    version          integer     NOT NULL CHECK (version >= 1),
    state            text        NOT NULL CHECK (state IN ('PENDING', 'DONE', 'REFUSED')),
    desired          jsonb       NOT NULL CHECK (jsonb_typeof(desired) = 'array'),
    impact           jsonb       NOT NULL CHECK (jsonb_typeof(impact) = 'object'),
    reason           text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    requested_by     text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    completed_at     timestamptz,
    CONSTRAINT order_amendment_tenant_key UNIQUE (tenant_id, amendment_id),
    CONSTRAINT order_amendment_version UNIQUE (tenant_id, order_id, version),
    CONSTRAINT order_amendment_order_fk FOREIGN KEY (tenant_id, order_id)
        REFERENCES order_schema.customer_order (tenant_id, order_id),
    CONSTRAINT order_amendment_completed CHECK ((state = 'PENDING') = (completed_at IS NULL))
);
-- Only one amendment in flight per order.
CREATE UNIQUE INDEX order_amendment_one_pending ON order_schema.order_amendment (tenant_id, order_id)
    WHERE state = 'PENDING';

CREATE FUNCTION order_schema.order_amendment_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM order_schema.order_refuse('order_amendment_never_deleted', 'amendments are never deleted');
    END IF;
    IF NEW.amendment_id <> OLD.amendment_id OR NEW.order_id <> OLD.order_id OR NEW.version <> OLD.version
       OR NEW.desired <> OLD.desired OR NEW.impact <> OLD.impact OR NEW.reason <> OLD.reason
       OR NEW.requested_by <> OLD.requested_by THEN
        PERFORM order_schema.order_refuse('order_amendment_immutable', 'an amendment keeps what was asked and assessed');
    END IF;
    IF NOT (OLD.state = NEW.state OR (OLD.state, NEW.state) = ('PENDING', 'DONE')) THEN
        PERFORM order_schema.order_refuse('order_amendment_state', 'an amendment moves pending → done');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER order_amendment_guard BEFORE UPDATE OR DELETE ON order_schema.order_amendment
    FOR EACH ROW EXECUTE FUNCTION order_schema.order_amendment_guard();

---------------------------------------------------------------------------------------------
-- The installed base: an attached reference is a version of its own
---------------------------------------------------------------------------------------------
ALTER TABLE order_schema.product_instance_history
    DROP CONSTRAINT product_instance_history_change_check,
    ADD CONSTRAINT product_instance_history_change_check
        CHECK (change IN ('ADD', 'MODIFY', 'DELETE', 'STATUS', 'REFERENCE'));

---------------------------------------------------------------------------------------------
-- Tenancy and grants
---------------------------------------------------------------------------------------------
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['order_item_correction', 'order_plan_revision', 'order_cancellation',
                             'order_amendment'] LOOP
        EXECUTE format('ALTER TABLE order_schema.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE order_schema.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON order_schema.%I USING (tenant_id = current_setting(''app.tenant_id'', true)) '
                       'WITH CHECK (tenant_id = current_setting(''app.tenant_id'', true))', t);
    END LOOP;
END $$;

GRANT SELECT, INSERT ON order_schema.order_item_correction, order_schema.order_plan_revision TO order_app, order_jobs;
GRANT SELECT, INSERT, UPDATE ON order_schema.order_cancellation, order_schema.order_fallout,
    order_schema.order_amendment TO order_app, order_jobs;
