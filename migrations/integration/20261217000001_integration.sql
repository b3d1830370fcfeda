-- Integration (issue 22): one external operation per side effect, keyed by the idempotency key
-- derived from its business identity, and the external call log, one row per attempt or status
-- query. The domain (services/integration/src/domain) enforces the lifecycle; these constraints
-- and triggers are the last line of defence, named so the service can map a violation to the
-- same stable code. Tenancy follows ADR 0030 (tenant_id on every table, composite foreign keys,
-- forced row-level security, the app role granted only what the code runs).

CREATE FUNCTION integration_refuse(constraint_name text, message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', message USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = constraint_name;
END $$;

---------------------------------------------------------------------------------------------
-- External operations
---------------------------------------------------------------------------------------------
CREATE TABLE external_operation (
    external_operation_id      uuid        PRIMARY KEY,
    tenant_id                  text        NOT NULL,
    idempotency_key            text        NOT NULL CHECK (idempotency_key ~ '^[a-z]+-[a-z-]+-[0-9a-f]{40}$'),
    system                     text        NOT NULL CHECK (system IN ('INVENTORY', 'PROVISIONING', 'BILLING', 'CRM',
                                   'CONTRACT', 'NOTIFICATION')),
    operation                  text        NOT NULL CHECK (operation IN ('INVENTORY_RESERVE', 'INVENTORY_RELEASE',
                                   'PROVISIONING_ACTIVATE', 'PROVISIONING_MODIFY', 'PROVISIONING_DEACTIVATE',
                                   'BILLING_START', 'BILLING_REVERSE', 'CRM_UPDATE_ORDER_STATUS',
                                   'CONTRACT_REGISTER', 'NOTIFICATION_SEND')),
    order_id                   uuid        NOT NULL,
    order_item_id              uuid,
    task_id                    uuid        NOT NULL,
    status                     text        NOT NULL CHECK (status IN ('PENDING', 'IN_FLIGHT', 'RETRY_WAIT',
                                   'OUTCOME_UNKNOWN', 'SUCCEEDED', 'REJECTED', 'EXHAUSTED')),
    attempts                   integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    failures                   integer     NOT NULL DEFAULT 0 CHECK (failures >= 0),
    unanswered_reconciliations integer     NOT NULL DEFAULT 0 CHECK (unanswered_reconciliations >= 0),
    unknown_since              timestamptz,
    result                     jsonb,
    rejection_code             text        CHECK (length(rejection_code) BETWEEN 1 AND 200),
    rejection_message          text,
    last_error                 text,
    request                    jsonb       NOT NULL CHECK (jsonb_typeof(request) = 'object'),
    aggregate_version          bigint      NOT NULL DEFAULT 1 CHECK (aggregate_version >= 1),
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    settled_at                 timestamptz,
    CONSTRAINT external_operation_tenant_key UNIQUE (tenant_id, external_operation_id),
    -- One operation per side effect: the key is derived from the business identity.
    CONSTRAINT external_operation_one_per_key UNIQUE (tenant_id, idempotency_key),
    CONSTRAINT external_operation_one_per_task UNIQUE (tenant_id, task_id, operation),
    CONSTRAINT external_operation_system_of_operation CHECK (operation LIKE system || '\_%'),
    CONSTRAINT external_operation_result CHECK ((status = 'SUCCEEDED') = (result IS NOT NULL
        AND jsonb_typeof(result) = 'object' AND result ? 'externalState')),
    CONSTRAINT external_operation_rejection CHECK ((status = 'REJECTED') = (rejection_code IS NOT NULL)),
    CONSTRAINT external_operation_unknown_since CHECK ((status = 'OUTCOME_UNKNOWN') = (unknown_since IS NOT NULL)),
    CONSTRAINT external_operation_sent CHECK (status = 'PENDING' OR attempts >= 1),
    CONSTRAINT external_operation_settled_at CHECK ((status IN ('SUCCEEDED', 'REJECTED')) = (settled_at IS NOT NULL))
);
CREATE INDEX external_operation_order_idx ON external_operation (tenant_id, order_id, created_at);
CREATE INDEX external_operation_open_idx ON external_operation (tenant_id, status, updated_at)
    WHERE status NOT IN ('SUCCEEDED', 'REJECTED');

-- The lifecycle as status pairs: the domain's OperationStatus::TRANSITIONS
-- (services/integration/src/domain/lifecycle.rs) without the commands.
CREATE FUNCTION integration_operation_transition_allowed(from_status text, to_status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT (from_status, to_status) IN (
        ('PENDING', 'IN_FLIGHT'), ('RETRY_WAIT', 'IN_FLIGHT'),
        ('IN_FLIGHT', 'SUCCEEDED'), ('IN_FLIGHT', 'REJECTED'), ('IN_FLIGHT', 'RETRY_WAIT'),
        ('IN_FLIGHT', 'EXHAUSTED'), ('IN_FLIGHT', 'OUTCOME_UNKNOWN'),
        ('OUTCOME_UNKNOWN', 'SUCCEEDED'), ('OUTCOME_UNKNOWN', 'RETRY_WAIT'), ('OUTCOME_UNKNOWN', 'EXHAUSTED'),
        ('OUTCOME_UNKNOWN', 'OUTCOME_UNKNOWN'),
        ('EXHAUSTED', 'RETRY_WAIT'))
$$;

-- An operation is created PENDING at version 1 with nothing sent; its identity never changes;
-- a settled one (SUCCEEDED, REJECTED) never changes again; status moves only along the
-- lifecycle; the attempt count never goes down; every change bumps the version by one; nothing
-- is deleted.
CREATE FUNCTION integration_operation_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM integration_refuse('external_operation_append_only', 'external operations are never deleted');
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'PENDING' OR NEW.aggregate_version <> 1 OR NEW.attempts <> 0 THEN
            PERFORM integration_refuse('external_operation_created_pending',
                'an external operation is created PENDING at version 1 with no attempt');
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.external_operation_id <> OLD.external_operation_id OR NEW.tenant_id <> OLD.tenant_id
       OR NEW.idempotency_key <> OLD.idempotency_key OR NEW.operation <> OLD.operation
       OR NEW.order_id <> OLD.order_id OR NEW.order_item_id IS DISTINCT FROM OLD.order_item_id
       OR NEW.task_id <> OLD.task_id OR NEW.created_at <> OLD.created_at THEN
        PERFORM integration_refuse('external_operation_identity_immutable',
            'an external operation keeps its key, operation, order, item and task');
    END IF;
    IF OLD.status IN ('SUCCEEDED', 'REJECTED') THEN
        PERFORM integration_refuse('external_operation_settled_final',
            'a settled external operation (' || OLD.status || ') never changes');
    END IF;
    IF NOT integration_operation_transition_allowed(OLD.status, NEW.status) THEN
        PERFORM integration_refuse('external_operation_transition',
            'external operation status ' || OLD.status || ' cannot become ' || NEW.status);
    END IF;
    IF NEW.attempts < OLD.attempts OR (NEW.status = 'IN_FLIGHT') <> (NEW.attempts = OLD.attempts + 1) THEN
        PERFORM integration_refuse('external_operation_attempts',
            'an attempt is counted exactly when one is sent');
    END IF;
    IF NEW.aggregate_version <> OLD.aggregate_version + 1 THEN
        PERFORM integration_refuse('external_operation_version', 'every change bumps the aggregate version by one');
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER external_operation_guard BEFORE INSERT OR UPDATE OR DELETE ON external_operation
    FOR EACH ROW EXECUTE FUNCTION integration_operation_guard();

---------------------------------------------------------------------------------------------
-- External call log: one row per attempt and per status query, append-only
---------------------------------------------------------------------------------------------
CREATE TABLE external_call (
    external_call_id        uuid        PRIMARY KEY,
    tenant_id               text        NOT NULL,
    external_operation_id   uuid        NOT NULL,
    kind                    text        NOT NULL CHECK (kind IN ('ATTEMPT', 'STATUS_QUERY')),
    sequence                integer     NOT NULL CHECK (sequence >= 1),
    system                  text        NOT NULL,
    operation               text        NOT NULL,
    idempotency_key         text        NOT NULL,
    order_id                uuid        NOT NULL,
    order_item_id           uuid,
    task_id                 uuid        NOT NULL,
    started_at              timestamptz NOT NULL,
    latency_us              bigint      NOT NULL CHECK (latency_us >= 0),
    http_status             integer     CHECK (http_status BETWEEN 100 AND 599),
    -- An attempt's class (the taxonomy); a status query's finding.
    classification          text        CHECK (classification IN ('SUCCEEDED', 'REJECTED_BUSINESS',
                                'FAILED_TECHNICAL', 'OUTCOME_UNKNOWN')),
    reconciliation          text        CHECK (reconciliation IN ('APPLIED', 'NOT_APPLIED', 'UNANSWERED')),
    failure_code            text        CHECK (length(failure_code) BETWEEN 1 AND 200),
    detail                  text,
    request_hash            text        NOT NULL CHECK (request_hash ~ '^[0-9a-f]{64}$'),
    request_body            text        NOT NULL,
    request_truncated       boolean     NOT NULL,
    response_hash           text        CHECK (response_hash ~ '^[0-9a-f]{64}$'),
    response_body           text,
    response_truncated      boolean     NOT NULL DEFAULT false,
    job_key                 bigint,
    actor_id                text        NOT NULL,
    correlation_id          text        NOT NULL,
    causation_id            text,
    business_transaction_id text        NOT NULL,
    recorded_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT external_call_operation_fk FOREIGN KEY (tenant_id, external_operation_id)
        REFERENCES external_operation (tenant_id, external_operation_id),
    CONSTRAINT external_call_sequence UNIQUE (external_operation_id, kind, sequence),
    CONSTRAINT external_call_finding CHECK ((kind = 'ATTEMPT' AND classification IS NOT NULL AND reconciliation IS NULL)
        OR (kind = 'STATUS_QUERY' AND reconciliation IS NOT NULL AND classification IS NULL)),
    CONSTRAINT external_call_response CHECK ((response_body IS NULL) = (response_hash IS NULL)),
    -- A success is a 2xx answer.
    CONSTRAINT external_call_success_answered CHECK (classification <> 'SUCCEEDED' OR http_status BETWEEN 200 AND 299)
);
CREATE INDEX external_call_order_idx ON external_call (tenant_id, order_id, started_at, external_call_id);
CREATE INDEX external_call_operation_idx ON external_call (external_operation_id, started_at);
CREATE INDEX external_call_recent_idx ON external_call (tenant_id, started_at DESC, external_call_id DESC);

CREATE FUNCTION integration_call_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM integration_refuse('external_call_append_only', 'the external call log is append-only');
    RETURN NULL;
END $$;
CREATE TRIGGER external_call_append_only BEFORE UPDATE OR DELETE ON external_call
    FOR EACH ROW EXECUTE FUNCTION integration_call_append_only();
CREATE TRIGGER external_call_no_truncate BEFORE TRUNCATE ON external_call
    FOR EACH STATEMENT EXECUTE FUNCTION integration_call_append_only();

---------------------------------------------------------------------------------------------
-- Tenancy
---------------------------------------------------------------------------------------------
ALTER TABLE external_operation ENABLE ROW LEVEL SECURITY;
ALTER TABLE external_operation FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON external_operation
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE external_call ENABLE ROW LEVEL SECURITY;
ALTER TABLE external_call FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON external_call
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

---------------------------------------------------------------------------------------------
-- The request role, integration_app: the workers and the HTTP reads, nothing more
---------------------------------------------------------------------------------------------
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'integration_app') THEN
        BEGIN
            CREATE ROLE integration_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- created by a migration of another database meanwhile
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'integration_app' AND (rolsuper OR rolbypassrls))
       OR pg_has_role('integration_app', current_user, 'MEMBER') THEN
        RAISE EXCEPTION 'integration_app must not bypass row-level security nor act as the schema owner %', current_user;
    END IF;
END $$;

-- Operations are created and moved (never deleted; `FOR UPDATE` needs UPDATE, which the
-- workers have anyway); calls are appended and read.
GRANT USAGE ON SCHEMA integration_schema TO integration_app;
GRANT SELECT, INSERT, UPDATE ON external_operation TO integration_app;
GRANT SELECT, INSERT ON external_call TO integration_app;
