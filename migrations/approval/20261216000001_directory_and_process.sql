-- Approval requests meet the workflow engine, and approvers are known by name (issue 21).
--
-- 1. `approval_request.process_instance_key`: the engine's `quote-approval` instance that runs
--    the request's chain. The engine's user tasks name only their process instance, so this is
--    the one join from a task (Tasklist, `/v2/user-tasks`) to the request it decides. It is set
--    once, after the instance starts, and never changed: a task of another instance must never
--    decide this request. Expand only: the column is nullable, so requests opened before it (and
--    requests whose instance has not started yet) stay valid.
-- 2. `approver`: the tenant's approver directory. A decision taken in Tasklist arrives with the
--    task's assignee name only, never the approver's bearer token, so the service itself must know
--    each approver's roles (the realm role names of `domain_kernel::access::Role`) and approver
--    groups (Tasklist candidate groups, `approver-manager`, …). Operators maintain it through
--    `PUT /approvers/{actorId}`; the REST door still takes the acting user's roles from their token.

---------------------------------------------------------------------------------------------
-- The request's process instance
---------------------------------------------------------------------------------------------
ALTER TABLE approval_request ADD COLUMN process_instance_key bigint
    CONSTRAINT approval_request_process_instance_key_positive CHECK (process_instance_key > 0);
-- One instance runs one request; the inbox looks requests up by instance.
CREATE UNIQUE INDEX approval_request_process_instance_idx ON approval_request (process_instance_key)
    WHERE process_instance_key IS NOT NULL;

-- The guard of 20261215000001, plus the link to the instance: linking is its own update (no other
-- column changes with it, no version bump, in any status: it records where the chain runs, it
-- does not move the request), and it happens once.
CREATE OR REPLACE FUNCTION approval_request_guard() RETURNS trigger
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
    IF NEW.process_instance_key IS DISTINCT FROM OLD.process_instance_key THEN
        IF OLD.process_instance_key IS NOT NULL THEN
            PERFORM approval_refuse('approval_request_process_instance_set_once',
                'a request''s process instance is set once and never changes');
        END IF;
        IF (to_jsonb(NEW) - 'process_instance_key' - 'updated_at')
           <> (to_jsonb(OLD) - 'process_instance_key' - 'updated_at') THEN
            PERFORM approval_refuse('approval_request_process_instance_alone',
                'linking a request to its process instance changes nothing else');
        END IF;
        NEW.updated_at := now();
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

-- approval_app reads the column (table-level SELECT, 20261215000001) and, with its table-level
-- UPDATE, may link a request it handles. The workers that start instances run as approval_jobs:
-- they may read the link and write it, and nothing else of the request beyond their earlier grant.
GRANT UPDATE (process_instance_key) ON approval_request TO approval_jobs;

---------------------------------------------------------------------------------------------
-- The approver directory
---------------------------------------------------------------------------------------------
-- Whether `names` is a set (no NULL, no repeat) of trimmed names of 1-`max_length` characters;
-- a CHECK cannot hold a subquery, a function can.
CREATE FUNCTION approval_name_set_valid(names text[], max_length integer) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT array_position(names, NULL) IS NULL
       AND cardinality(names) = (SELECT count(DISTINCT n) FROM unnest(names) AS n)
       AND NOT EXISTS (SELECT 1 FROM unnest(names) AS n
                        WHERE length(n) = 0 OR length(n) > max_length OR n <> btrim(n))
$$;

CREATE TABLE approver (
    tenant_id  text        NOT NULL,
    actor_id   text        NOT NULL CHECK (length(actor_id) BETWEEN 1 AND 128),
    -- Realm role names (domain_kernel::access::Role::as_str), each once.
    roles      text[]      NOT NULL CONSTRAINT approver_roles_known CHECK (
                   approval_name_set_valid(roles, 64)
                   AND roles <@ ARRAY['sales-agent', 'approver-manager', 'approver-director', 'approver-finance',
                       'operator', 'auditor', 'partner', 'catalog-admin', 'service', 'workflow-worker']::text[]),
    -- Approver groups (Tasklist candidate groups), each once.
    groups     text[]      NOT NULL CONSTRAINT approver_groups_valid CHECK (approval_name_set_valid(groups, 128)),
    version    bigint      NOT NULL DEFAULT 1 CHECK (version >= 1),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text        NOT NULL CHECK (length(updated_by) BETWEEN 1 AND 128),
    PRIMARY KEY (tenant_id, actor_id)
);

-- An entry keeps its tenant and actor, is created at version 1, and every change bumps the
-- version by one and stamps the time; entries are never deleted (an approver who leaves keeps an
-- entry without roles or groups, so the evidence of who could decide stays readable).
CREATE FUNCTION approver_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM approval_refuse('approver_append_only', 'approver entries are never deleted');
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.version <> 1 THEN
            PERFORM approval_refuse('approver_version_transition', 'an approver entry is created at version 1');
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.tenant_id <> OLD.tenant_id OR NEW.actor_id <> OLD.actor_id THEN
        PERFORM approval_refuse('approver_identity_immutable', 'an approver entry keeps its tenant and actor');
    END IF;
    IF NEW.version <> OLD.version + 1 THEN
        PERFORM approval_refuse('approver_version_transition', 'every change bumps the version by one');
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER approver_guard BEFORE INSERT OR UPDATE OR DELETE ON approver
    FOR EACH ROW EXECUTE FUNCTION approver_guard();

ALTER TABLE approver ENABLE ROW LEVEL SECURITY;
ALTER TABLE approver FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON approver
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- Request handling reads the directory (decisions, the inbox) and maintains it (the operators'
-- `PUT /approvers/{actorId}`); `SELECT … FOR UPDATE` of an entry needs UPDATE, which the upsert
-- has anyway. The jobs role gets nothing: the directory is read per tenant.
GRANT SELECT, INSERT, UPDATE ON approver TO approval_app;
