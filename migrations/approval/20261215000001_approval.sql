-- Approval requests (issue 21): one request per quote revision and price hash with its policy
-- snapshot, its ordered chain of levels, decisions as their own records, delegations, and an
-- append-only history. The domain (services/approval/src/domain) enforces the state machine;
-- these constraints and triggers are the last line of defence, named so the service can map a
-- violation to the same stable code. Tenancy follows ADR 0030 (tenant_id on every table,
-- composite foreign keys, forced row-level security, the app and jobs roles granted only what
-- the code runs).

-- Raised by guards so the service can map violations by constraint name.
CREATE FUNCTION approval_refuse(constraint_name text, message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', message USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = constraint_name;
END $$;

-- Append-only tables refuse every update and delete.
CREATE FUNCTION approval_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM approval_refuse(TG_ARGV[0], TG_TABLE_NAME || ' rows are append-only');
    RETURN NULL;
END $$;

---------------------------------------------------------------------------------------------
-- Request root
---------------------------------------------------------------------------------------------
CREATE TABLE approval_request (
    approval_request_id uuid        PRIMARY KEY,
    tenant_id           text        NOT NULL,
    quote_id            uuid        NOT NULL,
    quote_revision      integer     NOT NULL CHECK (quote_revision >= 1),
    price_hash          text        NOT NULL CHECK (price_hash ~ '^[0-9a-f]{64}$'),
    status              text        NOT NULL CHECK (status IN ('NOT_REQUIRED', 'PENDING', 'APPROVED', 'REJECTED',
                            'CANCELLED', 'EXPIRED', 'SUPERSEDED')),
    submitted_by        text        NOT NULL CHECK (length(submitted_by) BETWEEN 1 AND 128),
    policy_snapshot     jsonb       NOT NULL CHECK (jsonb_typeof(policy_snapshot) = 'object'
                            AND jsonb_typeof(policy_snapshot -> 'requiredLevels') = 'array'),
    expires_at          timestamptz NOT NULL,
    approved_at         timestamptz,
    closed_at           timestamptz,
    aggregate_version   bigint      NOT NULL DEFAULT 1 CHECK (aggregate_version >= 1),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT approval_request_tenant_key UNIQUE (tenant_id, approval_request_id),
    -- Terminal states, and only those, carry the time they ended.
    CONSTRAINT approval_request_closed_at CHECK ((status IN ('REJECTED', 'CANCELLED', 'EXPIRED', 'SUPERSEDED'))
        = (closed_at IS NOT NULL)),
    -- An approval carries its time (kept when it is superseded later).
    CONSTRAINT approval_request_approved_at CHECK (status <> 'APPROVED' OR approved_at IS NOT NULL),
    -- NOT_REQUIRED means the snapshot required no level; PENDING that it required one.
    CONSTRAINT approval_request_levels_match_status CHECK (
        (status <> 'NOT_REQUIRED' OR jsonb_array_length(policy_snapshot -> 'requiredLevels') = 0)
        AND (status <> 'PENDING' OR jsonb_array_length(policy_snapshot -> 'requiredLevels') > 0))
);
-- One open request per quote revision: a second submit while one is PENDING is refused.
CREATE UNIQUE INDEX approval_request_one_open ON approval_request (tenant_id, quote_id, quote_revision)
    WHERE status = 'PENDING';
CREATE INDEX approval_request_quote_idx ON approval_request (tenant_id, quote_id, quote_revision, created_at DESC);
CREATE INDEX approval_request_tenant_status_idx ON approval_request (tenant_id, status, created_at DESC);
-- The expiry job's work list: only PENDING requests expire.
CREATE INDEX approval_request_expiry_idx ON approval_request (expires_at) WHERE status = 'PENDING';

-- The lifecycle as status pairs: the domain's APPROVAL_TRANSITIONS
-- (services/approval/src/domain/lifecycle.rs) without the commands.
CREATE FUNCTION approval_transition_allowed(from_status text, to_status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT (from_status, to_status) IN (
        ('PENDING', 'PENDING'), ('PENDING', 'APPROVED'), ('PENDING', 'REJECTED'), ('PENDING', 'CANCELLED'),
        ('PENDING', 'EXPIRED'), ('PENDING', 'SUPERSEDED'),
        ('APPROVED', 'SUPERSEDED'),
        ('NOT_REQUIRED', 'SUPERSEDED'))
$$;

-- A request is created PENDING or NOT_REQUIRED at version 1; its identity, quote, hash,
-- submitter and snapshot never change; status moves only along the lifecycle (a REJECTED
-- request is never reopened); every change bumps the version by one; nothing is deleted.
CREATE FUNCTION approval_request_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM approval_refuse('approval_request_append_only', 'approval requests are never deleted');
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.status NOT IN ('PENDING', 'NOT_REQUIRED') OR NEW.aggregate_version <> 1 THEN
            PERFORM approval_refuse('approval_request_created_open',
                'a request is created PENDING or NOT_REQUIRED at version 1');
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.approval_request_id <> OLD.approval_request_id OR NEW.tenant_id <> OLD.tenant_id
       OR NEW.quote_id <> OLD.quote_id OR NEW.quote_revision <> OLD.quote_revision
       OR NEW.price_hash <> OLD.price_hash OR NEW.submitted_by <> OLD.submitted_by
       OR NEW.policy_snapshot <> OLD.policy_snapshot OR NEW.created_at <> OLD.created_at THEN
        PERFORM approval_refuse('approval_request_identity_immutable',
            'a request keeps its quote revision, price hash, submitter and policy snapshot');
    END IF;
    IF OLD.status = 'REJECTED' THEN
        PERFORM approval_refuse('approval_request_rejected_final', 'a rejected request is never reused');
    END IF;
    IF NOT approval_transition_allowed(OLD.status, NEW.status) THEN
        PERFORM approval_refuse('approval_request_transition',
            'approval request status ' || OLD.status || ' cannot become ' || NEW.status);
    END IF;
    IF NEW.aggregate_version <> OLD.aggregate_version + 1 THEN
        PERFORM approval_refuse('approval_request_version_transition', 'every change bumps the aggregate version by one');
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER approval_request_guard BEFORE INSERT OR UPDATE OR DELETE ON approval_request
    FOR EACH ROW EXECUTE FUNCTION approval_request_guard();

---------------------------------------------------------------------------------------------
-- Chain levels, in order
---------------------------------------------------------------------------------------------
CREATE TABLE approval_level (
    tenant_id           text        NOT NULL,
    approval_request_id uuid        NOT NULL,
    position            smallint    NOT NULL CHECK (position BETWEEN 0 AND 2),
    level               text        NOT NULL CHECK (level IN ('MANAGER', 'DIRECTOR', 'FINANCE')),
    quorum              text        NOT NULL CHECK (quorum IN ('SINGLE', 'ANY', 'ALL')),
    groups              text[]      NOT NULL,
    escalation_groups   text[]      NOT NULL DEFAULT '{}',
    reminded            boolean     NOT NULL DEFAULT false,
    due_at              timestamptz NOT NULL,
    state               text        NOT NULL DEFAULT 'OPEN' CHECK (state IN ('OPEN', 'SATISFIED', 'SKIPPED', 'REJECTED')),
    decided_at          timestamptz,
    skip_evidence       jsonb,
    PRIMARY KEY (approval_request_id, position),
    CONSTRAINT approval_level_tenant_fk FOREIGN KEY (tenant_id, approval_request_id)
        REFERENCES approval_request (tenant_id, approval_request_id),
    CONSTRAINT approval_level_tenant_key UNIQUE (tenant_id, approval_request_id, level),
    -- A single group, or at least two distinct parallel groups.
    CONSTRAINT approval_level_groups CHECK (array_position(groups, NULL) IS NULL
        AND (quorum = 'SINGLE') = (cardinality(groups) = 1) AND cardinality(groups) >= 1),
    -- Satisfied and rejected levels carry their time; skipped ones, and only those, evidence.
    CONSTRAINT approval_level_decided_at CHECK ((state IN ('SATISFIED', 'REJECTED')) = (decided_at IS NOT NULL)),
    CONSTRAINT approval_level_skip_evidence CHECK ((state = 'SKIPPED')
        = (skip_evidence IS NOT NULL AND jsonb_typeof(skip_evidence) = 'object'))
);

-- A decided level never changes; a level keeps its request, place and name; nothing is deleted.
CREATE FUNCTION approval_level_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM approval_refuse('approval_level_append_only', 'approval levels are never deleted');
    END IF;
    IF OLD.state <> 'OPEN' THEN
        PERFORM approval_refuse('approval_level_decided', 'a decided level never changes');
    END IF;
    IF NEW.tenant_id <> OLD.tenant_id OR NEW.approval_request_id <> OLD.approval_request_id
       OR NEW.position <> OLD.position OR NEW.level <> OLD.level THEN
        PERFORM approval_refuse('approval_level_identity_immutable', 'a level keeps its request, position and name');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER approval_level_guard BEFORE UPDATE OR DELETE ON approval_level
    FOR EACH ROW EXECUTE FUNCTION approval_level_guard();

---------------------------------------------------------------------------------------------
-- Delegations: A lets B decide for A within a window
---------------------------------------------------------------------------------------------
CREATE TABLE approval_delegation (
    delegation_id uuid        PRIMARY KEY,
    tenant_id     text        NOT NULL,
    delegator_id  text        NOT NULL CHECK (length(delegator_id) BETWEEN 1 AND 128),
    delegate_id   text        NOT NULL CHECK (length(delegate_id) BETWEEN 1 AND 128),
    valid_from    timestamptz NOT NULL,
    valid_until   timestamptz NOT NULL,
    revoked_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    text        NOT NULL,
    CONSTRAINT approval_delegation_tenant_key UNIQUE (tenant_id, delegation_id),
    CONSTRAINT approval_delegation_not_self CHECK (delegate_id <> delegator_id),
    CONSTRAINT approval_delegation_window CHECK (valid_until > valid_from)
);
CREATE INDEX approval_delegation_delegate_idx ON approval_delegation (tenant_id, delegate_id, valid_from);
CREATE INDEX approval_delegation_delegator_idx ON approval_delegation (tenant_id, delegator_id, valid_from);

-- A delegation back (B already delegates to A in an overlapping window) is a cycle; longer
-- cycles and transitive use are the domain's (DelegationBook). Grants of one tenant are
-- serialised so two concurrent opposite grants cannot both pass. Only `revoked_at` changes,
-- once; nothing is deleted.
CREATE FUNCTION approval_delegation_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM approval_refuse('approval_delegation_append_only', 'delegations are revoked, never deleted');
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL
           OR (NEW.delegation_id, NEW.tenant_id, NEW.delegator_id, NEW.delegate_id, NEW.valid_from,
               NEW.valid_until, NEW.created_at, NEW.created_by)
              IS DISTINCT FROM (OLD.delegation_id, OLD.tenant_id, OLD.delegator_id, OLD.delegate_id,
               OLD.valid_from, OLD.valid_until, OLD.created_at, OLD.created_by) THEN
            PERFORM approval_refuse('approval_delegation_immutable', 'a delegation only gets revoked, once');
        END IF;
        RETURN NEW;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('approval_delegation:' || NEW.tenant_id));
    IF EXISTS (SELECT 1 FROM approval_delegation d
                WHERE d.tenant_id = NEW.tenant_id AND d.delegator_id = NEW.delegate_id
                  AND d.delegate_id = NEW.delegator_id AND d.revoked_at IS NULL
                  AND tstzrange(d.valid_from, d.valid_until) && tstzrange(NEW.valid_from, NEW.valid_until)) THEN
        PERFORM approval_refuse('approval_delegation_cycle',
            NEW.delegate_id || ' already delegates to ' || NEW.delegator_id || ' in an overlapping window');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER approval_delegation_guard BEFORE INSERT OR UPDATE OR DELETE ON approval_delegation
    FOR EACH ROW EXECUTE FUNCTION approval_delegation_guard();

---------------------------------------------------------------------------------------------
-- Decisions (append-only): actor, on-behalf-of with its delegation, level, verdict, reason, time
---------------------------------------------------------------------------------------------
CREATE TABLE approval_decision (
    approval_decision_id uuid        PRIMARY KEY,
    tenant_id            text        NOT NULL,
    approval_request_id  uuid        NOT NULL,
    level                text        NOT NULL,
    group_id             text        NOT NULL CHECK (length(group_id) BETWEEN 1 AND 128),
    actor_id             text        NOT NULL CHECK (length(actor_id) BETWEEN 1 AND 128),
    on_behalf_of         text        CHECK (on_behalf_of <> actor_id),
    delegation_id        uuid,
    decision             text        NOT NULL CHECK (decision IN ('APPROVE', 'REJECT')),
    reason               text        CHECK (length(btrim(reason)) BETWEEN 1 AND 1000),
    price_hash           text        NOT NULL CHECK (price_hash ~ '^[0-9a-f]{64}$'),
    decided_at           timestamptz NOT NULL,
    CONSTRAINT approval_decision_level_fk FOREIGN KEY (tenant_id, approval_request_id, level)
        REFERENCES approval_level (tenant_id, approval_request_id, level),
    CONSTRAINT approval_decision_delegation_fk FOREIGN KEY (tenant_id, delegation_id)
        REFERENCES approval_delegation (tenant_id, delegation_id),
    -- Deciding on behalf names the delegation used, and only then.
    CONSTRAINT approval_decision_on_behalf CHECK ((on_behalf_of IS NULL) = (delegation_id IS NULL)),
    -- A reject says why.
    CONSTRAINT approval_decision_reject_reason CHECK (decision <> 'REJECT' OR reason IS NOT NULL),
    -- At most one decision per actor per level.
    CONSTRAINT approval_decision_one_per_actor UNIQUE (approval_request_id, level, actor_id)
);
-- … and per principal (the delegator's authority is used once per level, directly or not).
CREATE UNIQUE INDEX approval_decision_one_per_principal
    ON approval_decision (approval_request_id, level, coalesce(on_behalf_of, actor_id));
CREATE INDEX approval_decision_request_idx ON approval_decision (tenant_id, approval_request_id, decided_at);

-- A decision joins a PENDING request, on its price hash, by someone other than its submitter
-- (separation of duties, for the actor and for the principal). Inserted before the request's
-- own update of the same command.
CREATE FUNCTION approval_decision_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    request approval_request%ROWTYPE;
BEGIN
    SELECT * INTO request FROM approval_request r
     WHERE r.tenant_id = NEW.tenant_id AND r.approval_request_id = NEW.approval_request_id;
    IF NOT FOUND THEN
        RETURN NEW; -- the foreign key refuses it
    END IF;
    IF request.status <> 'PENDING' THEN
        PERFORM approval_refuse('approval_decision_request_pending', 'decisions join PENDING requests only');
    END IF;
    IF NEW.price_hash <> request.price_hash THEN
        PERFORM approval_refuse('approval_decision_price_hash', 'a decision covers the request''s price hash');
    END IF;
    IF NEW.actor_id = request.submitted_by OR NEW.on_behalf_of = request.submitted_by THEN
        PERFORM approval_refuse('approval_decision_separation_of_duties',
            'the submitter never decides their own quote''s request');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER approval_decision_guard BEFORE INSERT ON approval_decision
    FOR EACH ROW EXECUTE FUNCTION approval_decision_guard();
CREATE TRIGGER approval_decision_append_only BEFORE UPDATE OR DELETE ON approval_decision
    FOR EACH ROW EXECUTE FUNCTION approval_refuse_change('approval_decision_append_only');

---------------------------------------------------------------------------------------------
-- History (append-only audit evidence): one row per transition
---------------------------------------------------------------------------------------------
CREATE TABLE approval_history (
    history_id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id           text        NOT NULL,
    approval_request_id uuid        NOT NULL,
    command             text        NOT NULL CHECK (command IN ('OPEN', 'RECORD_APPROVAL', 'COMPLETE_APPROVAL',
                            'REJECT', 'RECALL', 'EXPIRE', 'SUPERSEDE', 'ESCALATE', 'REASSIGN')),
    from_status         text,
    to_status           text        NOT NULL CHECK (to_status IN ('NOT_REQUIRED', 'PENDING', 'APPROVED', 'REJECTED',
                            'CANCELLED', 'EXPIRED', 'SUPERSEDED')),
    aggregate_version   bigint      NOT NULL CHECK (aggregate_version >= 1),
    actor_id            text        NOT NULL CHECK (actor_id <> ''),
    actor_type          text        NOT NULL,
    via                 text        CHECK (via <> ''),
    reason              text        CHECK (length(btrim(reason)) BETWEEN 1 AND 1000),
    before              jsonb,
    after               jsonb       NOT NULL CHECK (jsonb_typeof(after) = 'object'),
    details             jsonb,
    correlation_id      text        NOT NULL,
    command_id          uuid        NOT NULL,
    occurred_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT approval_history_tenant_fk FOREIGN KEY (tenant_id, approval_request_id)
        REFERENCES approval_request (tenant_id, approval_request_id),
    -- Only the opening row has no state before.
    CONSTRAINT approval_history_before CHECK ((command = 'OPEN') = (from_status IS NULL AND before IS NULL))
);
CREATE INDEX approval_history_request_idx ON approval_history (tenant_id, approval_request_id, history_id);
CREATE TRIGGER approval_history_append_only BEFORE UPDATE OR DELETE ON approval_history
    FOR EACH ROW EXECUTE FUNCTION approval_refuse_change('approval_history_append_only');

---------------------------------------------------------------------------------------------
-- Row-level security on every table, one policy (ADR 0030)
---------------------------------------------------------------------------------------------
ALTER TABLE approval_request ENABLE ROW LEVEL SECURITY;
ALTER TABLE approval_request FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON approval_request
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE approval_level ENABLE ROW LEVEL SECURITY;
ALTER TABLE approval_level FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON approval_level
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE approval_decision ENABLE ROW LEVEL SECURITY;
ALTER TABLE approval_decision FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON approval_decision
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE approval_delegation ENABLE ROW LEVEL SECURITY;
ALTER TABLE approval_delegation FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON approval_delegation
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE approval_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE approval_history FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON approval_history
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

---------------------------------------------------------------------------------------------
-- The request role, approval_app: what request handling does and nothing more
---------------------------------------------------------------------------------------------
-- The platform migrations create it (crates/messaging/migrations); created here too, tolerating
-- a concurrent creator, so this file also stands alone. Production provisions it beforehand.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'approval_app') THEN
        BEGIN
            CREATE ROLE approval_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- created by a migration of another database meanwhile
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'approval_app' AND (rolsuper OR rolbypassrls))
       OR pg_has_role('approval_app', current_user, 'MEMBER') THEN
        RAISE EXCEPTION 'approval_app must not bypass row-level security nor act as the schema owner %', current_user;
    END IF;
END $$;

-- Requests and levels are created and moved (never deleted); decisions and history are
-- append-only; delegations are granted and revoked. `SELECT … FOR UPDATE` on a request needs
-- UPDATE, which its commands have anyway. The history identity needs no grant.
GRANT USAGE ON SCHEMA approval_schema TO approval_app;
GRANT SELECT, INSERT, UPDATE ON approval_request TO approval_app;
GRANT SELECT, INSERT, UPDATE ON approval_level TO approval_app;
GRANT SELECT, INSERT ON approval_decision TO approval_app;
GRANT SELECT, INSERT, UPDATE ON approval_delegation TO approval_app;
GRANT SELECT, INSERT ON approval_history TO approval_app;

---------------------------------------------------------------------------------------------
-- The jobs role, approval_jobs: expiry and escalation across tenants (BYPASSRLS, owns nothing)
---------------------------------------------------------------------------------------------
-- The platform migration 20261208000001_jobs_role creates it and grants the relay's and the
-- purge's tables. The approval jobs, one transaction per batch, need:
-- * approval_request: SELECT (the due list, the aggregate read whole), UPDATE of the columns an
--   expiry or an escalation writes (`status`, `closed_at`, `aggregate_version`; the guard still
--   checks the transition and sets `updated_at`), which also allows `FOR UPDATE SKIP LOCKED`.
-- * approval_level: SELECT, UPDATE of what an escalation moves (`groups`, `quorum`,
--   `escalation_groups`, `reminded`, `due_at`); never a level's state.
-- * approval_decision: SELECT (the aggregate is read whole); never written by a job.
-- * approval_history: INSERT (the EXPIRE and ESCALATE rows).
-- * outbox_event, outbox_pending: INSERT (`approval.escalated.v1`, the expiry's event, audit).
-- * approval_delegation: nothing.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'approval_jobs') THEN
        RAISE EXCEPTION 'approval_jobs does not exist: the platform migration 20261208000001_jobs_role creates it';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'approval_jobs' AND rolsuper)
       OR pg_has_role('approval_jobs', current_user, 'MEMBER') THEN
        RAISE EXCEPTION 'approval_jobs must be no superuser and no member of the schema owner %', current_user;
    END IF;
END $$;

GRANT SELECT ON approval_request TO approval_jobs;
GRANT UPDATE (status, closed_at, aggregate_version) ON approval_request TO approval_jobs;
GRANT SELECT ON approval_level TO approval_jobs;
GRANT UPDATE (groups, quorum, escalation_groups, reminded, due_at) ON approval_level TO approval_jobs;
GRANT SELECT ON approval_decision TO approval_jobs;
GRANT INSERT ON approval_history TO approval_jobs;
GRANT INSERT ON outbox_event TO approval_jobs;
GRANT INSERT ON outbox_pending TO approval_jobs;
