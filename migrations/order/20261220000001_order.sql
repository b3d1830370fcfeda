-- Order (issue 23): orders captured from a quote snapshot or directly, their items, the
-- fulfilment plan (one row per task, a DAG over items and tasks), the installed base (product
-- instances with their history and the operation guard), subscriptions and the minimal fallout
-- record. The domain (services/order/src/domain) owns every lifecycle; the CHECKs here and the
-- transition triggers of 20261220000002 are the last line of defence. Tenancy follows ADR 0030.

CREATE FUNCTION order_refuse(constraint_name text, message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', message USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = constraint_name;
END $$;

---------------------------------------------------------------------------------------------
-- Orders
---------------------------------------------------------------------------------------------
CREATE TABLE customer_order (
    order_id                uuid        PRIMARY KEY,
    tenant_id               text        NOT NULL,
    customer_id             text        NOT NULL CHECK (length(customer_id) BETWEEN 1 AND 128),
    status                  text        NOT NULL CHECK (status IN ('DRAFT', 'ACKNOWLEDGED', 'VALIDATED',
                                'DECOMPOSED', 'IN_PROGRESS', 'HELD', 'PARTIALLY_COMPLETED', 'COMPLETED',
                                'CANCELLATION_PENDING', 'CANCELLED', 'FAILED', 'FALLOUT', 'CLOSED')),
    origin                  text        NOT NULL CHECK (origin IN ('QUOTE', 'DIRECT')),
    quote_id                uuid,
    quote_revision          integer     CHECK (quote_revision >= 1),
    snapshot                jsonb,
    snapshot_hash           text        CHECK (snapshot_hash ~ '^[0-9a-f]{64}$'),
    capture_evidence        jsonb       NOT NULL CHECK (jsonb_typeof(capture_evidence) = 'object'),
    currency                text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    plan_hash               text        CHECK (plan_hash ~ '^[0-9a-f]{64}$'),
    failure_code            text,
    failure_reason          text,
    aggregate_version       bigint      NOT NULL DEFAULT 1 CHECK (aggregate_version >= 1),
    created_by              text        NOT NULL,
    correlation_id          text        NOT NULL,
    business_transaction_id text        NOT NULL,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    completed_at            timestamptz,
    CONSTRAINT customer_order_tenant_key UNIQUE (tenant_id, order_id),
    -- One order per quote: 1,000 concurrent conversions of one quote give one order.
    CONSTRAINT customer_order_one_per_quote UNIQUE (tenant_id, quote_id),
    CONSTRAINT customer_order_quote_origin CHECK ((origin = 'QUOTE') = (quote_id IS NOT NULL
        AND quote_revision IS NOT NULL AND snapshot IS NOT NULL AND snapshot_hash IS NOT NULL)),
    CONSTRAINT customer_order_plan_before_progress CHECK (plan_hash IS NOT NULL
        OR status IN ('DRAFT', 'ACKNOWLEDGED', 'VALIDATED', 'FAILED', 'FALLOUT', 'CANCELLATION_PENDING',
                      'CANCELLED', 'CLOSED')),
    CONSTRAINT customer_order_failure CHECK (status NOT IN ('FAILED', 'FALLOUT') OR failure_code IS NOT NULL),
    CONSTRAINT customer_order_completed_at CHECK ((status = 'COMPLETED') <= (completed_at IS NOT NULL))
);
CREATE INDEX customer_order_customer_idx ON customer_order (tenant_id, customer_id, created_at DESC);
CREATE INDEX customer_order_status_idx ON customer_order (tenant_id, status, updated_at);

-- The frozen snapshot, its hash, the origin and the plan hash never change once set; the
-- version moves by one per change.
CREATE FUNCTION order_customer_order_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM order_schema.order_refuse('customer_order_never_deleted', 'orders are never deleted');
    END IF;
    IF NEW.order_id <> OLD.order_id OR NEW.tenant_id <> OLD.tenant_id OR NEW.customer_id <> OLD.customer_id
       OR NEW.origin <> OLD.origin OR NEW.quote_id IS DISTINCT FROM OLD.quote_id
       OR NEW.quote_revision IS DISTINCT FROM OLD.quote_revision
       OR NEW.snapshot IS DISTINCT FROM OLD.snapshot OR NEW.snapshot_hash IS DISTINCT FROM OLD.snapshot_hash
       OR NEW.capture_evidence IS DISTINCT FROM OLD.capture_evidence OR NEW.created_at <> OLD.created_at THEN
        PERFORM order_schema.order_refuse('customer_order_capture_immutable',
            'an order keeps its customer, origin, quote snapshot and capture evidence');
    END IF;
    IF OLD.plan_hash IS NOT NULL AND NEW.plan_hash IS DISTINCT FROM OLD.plan_hash THEN
        PERFORM order_schema.order_refuse('customer_order_plan_immutable', 'a stored plan never changes silently');
    END IF;
    IF NEW.aggregate_version <> OLD.aggregate_version + 1 THEN
        PERFORM order_schema.order_refuse('customer_order_version', 'every change bumps the order version by one');
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER customer_order_guard BEFORE UPDATE OR DELETE ON customer_order
    FOR EACH ROW EXECUTE FUNCTION order_customer_order_guard();

CREATE TABLE order_item (
    order_item_id       uuid        PRIMARY KEY,
    tenant_id           text        NOT NULL,
    order_id            uuid        NOT NULL,
    line_no             integer     NOT NULL CHECK (line_no >= 1),
    action              text        NOT NULL CHECK (action IN ('ADD', 'MODIFY', 'DELETE', 'NO_CHANGE')),
    offering_id         uuid        NOT NULL,
    offering_version    integer     NOT NULL CHECK (offering_version >= 1),
    quantity            integer     NOT NULL CHECK (quantity >= 1),
    characteristics     jsonb       NOT NULL CHECK (jsonb_typeof(characteristics) = 'object'),
    parent_item_id      uuid,
    product_instance_id uuid,
    mandatory           boolean     NOT NULL DEFAULT true,
    recurring_charge    numeric(19, 4),
    one_time_charge     numeric(19, 4),
    quote_item_id       text,
    status              text        NOT NULL CHECK (status IN ('PENDING', 'VALIDATED', 'READY', 'BLOCKED',
                            'IN_PROGRESS', 'COMPLETED', 'SKIPPED', 'FAILED', 'CANCEL_PENDING', 'CANCELLED',
                            'COMPENSATING', 'COMPENSATED')),
    failure_code        text,
    failure_reason      text,
    failure_retryable   boolean,
    aggregate_version   bigint      NOT NULL DEFAULT 1 CHECK (aggregate_version >= 1),
    completed_at        timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT order_item_tenant_key UNIQUE (tenant_id, order_item_id),
    CONSTRAINT order_item_line UNIQUE (tenant_id, order_id, line_no),
    CONSTRAINT order_item_order_fk FOREIGN KEY (tenant_id, order_id)
        REFERENCES customer_order (tenant_id, order_id),
    CONSTRAINT order_item_parent_fk FOREIGN KEY (tenant_id, parent_item_id)
        REFERENCES order_item (tenant_id, order_item_id),
    CONSTRAINT order_item_not_own_parent CHECK (parent_item_id IS DISTINCT FROM order_item_id),
    -- MODIFY and DELETE name the product instance they change.
    CONSTRAINT order_item_target_instance CHECK (action IN ('ADD', 'NO_CHANGE') OR product_instance_id IS NOT NULL),
    CONSTRAINT order_item_failure CHECK (status <> 'FAILED' OR failure_code IS NOT NULL),
    -- Completes once: the completion time is set with COMPLETED and never moves.
    CONSTRAINT order_item_completed_at CHECK ((status = 'COMPLETED') = (completed_at IS NOT NULL))
);
CREATE INDEX order_item_order_idx ON order_item (tenant_id, order_id, line_no);

CREATE FUNCTION order_item_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM order_schema.order_refuse('order_item_never_deleted', 'order items are never deleted');
    END IF;
    IF NEW.order_item_id <> OLD.order_item_id OR NEW.order_id <> OLD.order_id OR NEW.tenant_id <> OLD.tenant_id
       OR NEW.action <> OLD.action OR NEW.offering_id <> OLD.offering_id
       OR NEW.offering_version <> OLD.offering_version OR NEW.quantity <> OLD.quantity
       OR NEW.characteristics IS DISTINCT FROM OLD.characteristics
       OR NEW.parent_item_id IS DISTINCT FROM OLD.parent_item_id
       OR NEW.product_instance_id IS DISTINCT FROM OLD.product_instance_id THEN
        PERFORM order_schema.order_refuse('order_item_immutable',
            'an order item keeps its order, action, offering, quantity, characteristics and target');
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
CREATE TRIGGER order_item_guard BEFORE UPDATE OR DELETE ON order_item
    FOR EACH ROW EXECUTE FUNCTION order_item_guard();

---------------------------------------------------------------------------------------------
-- The fulfilment plan: one row per task; the edges are the task's dependencies
---------------------------------------------------------------------------------------------
CREATE TABLE fulfilment_task (
    task_id             uuid        PRIMARY KEY,
    tenant_id           text        NOT NULL,
    order_id            uuid        NOT NULL,
    order_item_id       uuid        NOT NULL,
    sequence_no         integer     NOT NULL CHECK (sequence_no >= 0),
    task_type           text        NOT NULL CHECK (task_type ~ '^[A-Z][A-Z0-9_]{1,63}$'),
    operation           text        NOT NULL CHECK (operation IN ('INVENTORY_RESERVE', 'INVENTORY_RELEASE',
                            'PROVISIONING_ACTIVATE', 'PROVISIONING_MODIFY', 'PROVISIONING_DEACTIVATE',
                            'BILLING_START', 'BILLING_REVERSE', 'CRM_UPDATE_ORDER_STATUS',
                            'CONTRACT_REGISTER', 'NOTIFICATION_SEND')),
    depends_on          uuid[]      NOT NULL DEFAULT '{}',
    reversible          boolean     NOT NULL,
    compensation        text,
    point_of_no_return  boolean     NOT NULL DEFAULT false,
    status              text        NOT NULL CHECK (status IN ('CREATED', 'WAITING_DEPENDENCY', 'READY',
                            'DISPATCHED', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED_RETRYABLE',
                            'FAILED_NON_RETRYABLE', 'TIMED_OUT', 'CANCELLED', 'COMPENSATING', 'COMPENSATED')),
    attempts            integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    external_reference  text,
    external_state      text,
    failure_code        text,
    failure_reason      text,
    aggregate_version   bigint      NOT NULL DEFAULT 1 CHECK (aggregate_version >= 1),
    created_at          timestamptz NOT NULL DEFAULT now(),
    dispatched_at       timestamptz,
    finished_at         timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT fulfilment_task_tenant_key UNIQUE (tenant_id, task_id),
    CONSTRAINT fulfilment_task_sequence UNIQUE (tenant_id, order_id, sequence_no),
    CONSTRAINT fulfilment_task_type_per_item UNIQUE (tenant_id, order_item_id, task_type),
    CONSTRAINT fulfilment_task_order_fk FOREIGN KEY (tenant_id, order_id)
        REFERENCES customer_order (tenant_id, order_id),
    CONSTRAINT fulfilment_task_item_fk FOREIGN KEY (tenant_id, order_item_id)
        REFERENCES order_item (tenant_id, order_item_id),
    CONSTRAINT fulfilment_task_compensation CHECK (reversible = (compensation IS NOT NULL)),
    CONSTRAINT fulfilment_task_not_own_dependency CHECK (NOT (task_id = ANY (depends_on))),
    CONSTRAINT fulfilment_task_failure CHECK (status NOT IN ('FAILED_RETRYABLE', 'FAILED_NON_RETRYABLE')
        OR failure_code IS NOT NULL)
);
CREATE INDEX fulfilment_task_order_idx ON fulfilment_task (tenant_id, order_id, sequence_no);

-- The plan never changes silently: a task keeps its item, type, operation and dependencies;
-- no task starts before every dependency SUCCEEDED.
CREATE FUNCTION order_fulfilment_task_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    unfinished integer;
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
           OR NEW.point_of_no_return <> OLD.point_of_no_return THEN
            PERFORM order_schema.order_refuse('fulfilment_task_plan_immutable',
                'a planned task keeps its item, type, operation and dependencies');
        END IF;
        IF NEW.aggregate_version <> OLD.aggregate_version + 1 THEN
            PERFORM order_schema.order_refuse('fulfilment_task_version', 'every change bumps the task version by one');
        END IF;
        NEW.updated_at := now();
    END IF;
    IF NEW.status IN ('DISPATCHED', 'IN_PROGRESS', 'SUCCEEDED')
       AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM NEW.status) THEN
        SELECT count(*) INTO unfinished FROM order_schema.fulfilment_task d
         WHERE d.tenant_id = NEW.tenant_id AND d.task_id = ANY (NEW.depends_on) AND d.status <> 'SUCCEEDED';
        IF unfinished > 0 THEN
            PERFORM order_schema.order_refuse('fulfilment_task_dependencies_first',
                'a task starts only after every dependency SUCCEEDED');
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER fulfilment_task_guard BEFORE INSERT OR UPDATE OR DELETE ON fulfilment_task
    FOR EACH ROW EXECUTE FUNCTION order_fulfilment_task_guard();

---------------------------------------------------------------------------------------------
-- The installed base: product instances (TMF637), their history, the operation guard
---------------------------------------------------------------------------------------------
CREATE TABLE subscription (
    subscription_id     uuid        PRIMARY KEY,
    tenant_id           text        NOT NULL,
    customer_id         text        NOT NULL,
    status              text        NOT NULL CHECK (status IN ('PENDING_ACTIVATION', 'ACTIVE', 'SUSPENDED',
                            'TERMINATED', 'CANCELLED')),
    aggregate_version   bigint      NOT NULL DEFAULT 1 CHECK (aggregate_version >= 1),
    order_id            uuid        NOT NULL,
    root_item_id        uuid        NOT NULL,
    start_date          timestamptz,
    end_date            timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT subscription_tenant_key UNIQUE (tenant_id, subscription_id),
    CONSTRAINT subscription_one_per_root_item UNIQUE (tenant_id, root_item_id),
    CONSTRAINT subscription_active_has_start CHECK (status NOT IN ('ACTIVE', 'SUSPENDED') OR start_date IS NOT NULL),
    CONSTRAINT subscription_terminated_has_end CHECK (status <> 'TERMINATED' OR end_date IS NOT NULL)
);
CREATE INDEX subscription_customer_idx ON subscription (tenant_id, customer_id, created_at DESC);

CREATE FUNCTION order_subscription_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM order_schema.order_refuse('subscription_never_deleted', 'subscriptions are never deleted');
    END IF;
    IF NEW.customer_id <> OLD.customer_id OR NEW.tenant_id <> OLD.tenant_id
       OR NEW.subscription_id <> OLD.subscription_id THEN
        PERFORM order_schema.order_refuse('subscription_customer_fixed', 'a subscription keeps its customer');
    END IF;
    IF NEW.aggregate_version <> OLD.aggregate_version + 1 THEN
        PERFORM order_schema.order_refuse('subscription_version', 'every change bumps the subscription version by one');
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER subscription_guard BEFORE UPDATE OR DELETE ON subscription
    FOR EACH ROW EXECUTE FUNCTION order_subscription_guard();

CREATE TABLE product_instance (
    product_instance_id uuid        PRIMARY KEY,
    tenant_id           text        NOT NULL,
    customer_id         text        NOT NULL,
    offering_id         uuid        NOT NULL,
    offering_version    integer     NOT NULL CHECK (offering_version >= 1),
    characteristics     jsonb       NOT NULL CHECK (jsonb_typeof(characteristics) = 'object'),
    status              text        NOT NULL CHECK (status IN ('PENDING_ACTIVATION', 'ACTIVE',
                            'PENDING_MODIFICATION', 'SUSPENDED', 'PENDING_DISCONNECT', 'DISCONNECTED',
                            'CANCELLED', 'ERROR')),
    aggregate_version   bigint      NOT NULL DEFAULT 1 CHECK (aggregate_version >= 1),
    parent_instance_id  uuid,
    subscription_id     uuid,
    -- The downstream references of the effects that made it (reservation, service, charge), in
    -- the core's words: what a later MODIFY or DELETE names.
    external_references jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(external_references) = 'object'),
    activation_date     timestamptz,
    termination_date    timestamptz,
    origin_order_id     uuid        NOT NULL,
    origin_item_id      uuid        NOT NULL,
    last_order_id       uuid        NOT NULL,
    last_item_id        uuid        NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT product_instance_tenant_key UNIQUE (tenant_id, product_instance_id),
    CONSTRAINT product_instance_one_per_item UNIQUE (tenant_id, origin_item_id),
    CONSTRAINT product_instance_parent_fk FOREIGN KEY (tenant_id, parent_instance_id)
        REFERENCES product_instance (tenant_id, product_instance_id),
    CONSTRAINT product_instance_subscription_fk FOREIGN KEY (tenant_id, subscription_id)
        REFERENCES subscription (tenant_id, subscription_id),
    -- No ACTIVE asset without an activation date; no DISCONNECTED one without a termination date.
    CONSTRAINT product_instance_active_has_activation CHECK (status NOT IN ('ACTIVE', 'PENDING_MODIFICATION',
        'SUSPENDED', 'PENDING_DISCONNECT', 'DISCONNECTED') OR activation_date IS NOT NULL),
    CONSTRAINT product_instance_disconnected_has_termination CHECK (status <> 'DISCONNECTED'
        OR termination_date IS NOT NULL)
);
CREATE INDEX product_instance_customer_idx ON product_instance (tenant_id, customer_id, created_at);

CREATE TABLE product_instance_history (
    product_instance_id uuid        NOT NULL,
    tenant_id           text        NOT NULL,
    version             bigint      NOT NULL CHECK (version >= 1),
    status              text        NOT NULL,
    change              text        NOT NULL CHECK (change IN ('ADD', 'MODIFY', 'DELETE', 'STATUS')),
    characteristics     jsonb       NOT NULL,
    order_id            uuid        NOT NULL,
    order_item_id       uuid        NOT NULL,
    changed_at          timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, product_instance_id, version),
    CONSTRAINT product_instance_history_fk FOREIGN KEY (tenant_id, product_instance_id)
        REFERENCES product_instance (tenant_id, product_instance_id)
);

CREATE FUNCTION order_history_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM order_schema.order_refuse('product_instance_history_append_only',
        'product instance history is append-only');
    RETURN NULL;
END $$;
CREATE TRIGGER product_instance_history_append_only BEFORE UPDATE OR DELETE ON product_instance_history
    FOR EACH ROW EXECUTE FUNCTION order_history_append_only();
CREATE TRIGGER product_instance_history_no_truncate BEFORE TRUNCATE ON product_instance_history
    FOR EACH STATEMENT EXECUTE FUNCTION order_history_append_only();

-- A product instance keeps its customer and origin; a DISCONNECTED one never changes again;
-- every change bumps the version by one and has its history row (written in the same
-- transaction, checked at commit).
CREATE FUNCTION order_product_instance_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM order_schema.order_refuse('product_instance_never_deleted', 'product instances are never deleted');
    END IF;
    IF NEW.product_instance_id <> OLD.product_instance_id OR NEW.tenant_id <> OLD.tenant_id
       OR NEW.customer_id <> OLD.customer_id OR NEW.origin_order_id <> OLD.origin_order_id
       OR NEW.origin_item_id <> OLD.origin_item_id OR NEW.offering_id <> OLD.offering_id THEN
        PERFORM order_schema.order_refuse('product_instance_identity_immutable',
            'a product instance keeps its customer, offering and origin');
    END IF;
    IF OLD.status = 'DISCONNECTED' THEN
        PERFORM order_schema.order_refuse('product_instance_disconnected_final', 'a DISCONNECTED product instance never changes');
    END IF;
    IF NEW.aggregate_version <> OLD.aggregate_version + 1 THEN
        PERFORM order_schema.order_refuse('product_instance_version', 'every change bumps the product instance version by one');
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER product_instance_guard BEFORE UPDATE OR DELETE ON product_instance
    FOR EACH ROW EXECUTE FUNCTION order_product_instance_guard();

CREATE FUNCTION order_product_instance_has_history() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM order_schema.product_instance_history h
                    WHERE h.tenant_id = NEW.tenant_id AND h.product_instance_id = NEW.product_instance_id
                      AND h.version = NEW.aggregate_version) THEN
        PERFORM order_schema.order_refuse('product_instance_history_per_version',
            'every product instance version has its history row');
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER product_instance_has_history AFTER INSERT OR UPDATE ON product_instance
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION order_product_instance_has_history();

-- The operation guard: one operation in flight per product instance (a second MODIFY or DELETE
-- of the same instance is refused while the first holds it).
CREATE TABLE product_instance_guard (
    product_instance_id uuid        NOT NULL,
    tenant_id           text        NOT NULL,
    order_id            uuid        NOT NULL,
    order_item_id       uuid        NOT NULL,
    action              text        NOT NULL CHECK (action IN ('MODIFY', 'DELETE')),
    acquired_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, product_instance_id),
    CONSTRAINT product_instance_guard_instance_fk FOREIGN KEY (tenant_id, product_instance_id)
        REFERENCES product_instance (tenant_id, product_instance_id),
    CONSTRAINT product_instance_guard_item_fk FOREIGN KEY (tenant_id, order_item_id)
        REFERENCES order_item (tenant_id, order_item_id)
);

---------------------------------------------------------------------------------------------
-- Fallout: the minimal record (issue 24 builds the workbench on it)
---------------------------------------------------------------------------------------------
CREATE TABLE order_fallout (
    fallout_id          uuid        PRIMARY KEY,
    tenant_id           text        NOT NULL,
    order_id            uuid        NOT NULL,
    order_item_id       uuid,
    task_id             uuid,
    severity            text        NOT NULL CHECK (severity IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')),
    category            text        NOT NULL CHECK (category IN ('CAPTURE', 'VALIDATION', 'DECOMPOSITION',
                            'EXTERNAL_REJECTION', 'RETRIES_EXHAUSTED', 'WORKFLOW')),
    status              text        NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'ASSIGNED', 'RETRY_SCHEDULED',
                            'WAITING_EXTERNAL', 'MANUAL_ACTION_REQUIRED', 'RESOLVED', 'CLOSED')),
    failure_code        text        NOT NULL,
    message             text        NOT NULL,
    retryable           boolean     NOT NULL,
    owner_team          text        NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    last_attempt_at     timestamptz,
    resolved_at         timestamptz,
    resolution_type     text,
    resolution_note     text,
    CONSTRAINT order_fallout_tenant_key UNIQUE (tenant_id, fallout_id),
    CONSTRAINT order_fallout_order_fk FOREIGN KEY (tenant_id, order_id)
        REFERENCES customer_order (tenant_id, order_id)
);
-- One open fallout per order and failure (a redelivered failure records nothing new).
CREATE UNIQUE INDEX order_fallout_one_open ON order_fallout (tenant_id, order_id, failure_code,
    coalesce(task_id, '00000000-0000-0000-0000-000000000000'::uuid)) WHERE status NOT IN ('RESOLVED', 'CLOSED');

---------------------------------------------------------------------------------------------
-- The link from an order to its fulfilment process instance (one per order)
---------------------------------------------------------------------------------------------
CREATE TABLE order_process (
    order_id             uuid        NOT NULL,
    tenant_id            text        NOT NULL,
    process_instance_key bigint      NOT NULL,
    started_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, order_id),
    CONSTRAINT order_process_order_fk FOREIGN KEY (tenant_id, order_id)
        REFERENCES customer_order (tenant_id, order_id)
);

---------------------------------------------------------------------------------------------
-- Tenancy
---------------------------------------------------------------------------------------------
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['customer_order', 'order_item', 'fulfilment_task', 'subscription',
                             'product_instance', 'product_instance_history', 'product_instance_guard',
                             'order_fallout', 'order_process'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_setting(''app.tenant_id'', true)) '
                       'WITH CHECK (tenant_id = current_setting(''app.tenant_id'', true))', t);
    END LOOP;
END $$;

---------------------------------------------------------------------------------------------
-- The request role, order_app: HTTP commands and reads, and the workers (per tenant)
---------------------------------------------------------------------------------------------
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'order_app') THEN
        BEGIN
            CREATE ROLE order_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'order_app' AND (rolsuper OR rolbypassrls))
       OR pg_has_role('order_app', current_user, 'MEMBER') THEN
        RAISE EXCEPTION 'order_app must not bypass row-level security nor act as the schema owner %', current_user;
    END IF;
END $$;

GRANT USAGE ON SCHEMA order_schema TO order_app;
GRANT SELECT, INSERT, UPDATE ON customer_order, order_item, fulfilment_task, subscription, product_instance
    TO order_app;
GRANT SELECT, INSERT ON product_instance_history, order_fallout, order_process TO order_app;
GRANT SELECT, INSERT, DELETE ON product_instance_guard TO order_app;

---------------------------------------------------------------------------------------------
-- The jobs role, order_jobs (created by the platform migration): the consumers (capture from a
-- quote, integration outcomes) and the process starter, across tenants
---------------------------------------------------------------------------------------------
GRANT SELECT, INSERT, UPDATE ON customer_order, order_item, fulfilment_task, subscription, product_instance
    TO order_jobs;
GRANT SELECT, INSERT ON product_instance_history, order_fallout, order_process TO order_jobs;
GRANT SELECT, INSERT, DELETE ON product_instance_guard TO order_jobs;
-- Capture and outcomes write events and evidence in the consumer's transaction.
GRANT INSERT ON outbox_event, outbox_pending TO order_jobs;
