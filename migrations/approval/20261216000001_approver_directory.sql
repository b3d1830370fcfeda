-- Approvers are known by name (issue 21).
--
-- `approver`: the tenant's approver directory. A decision taken in Tasklist arrives with the
-- task's assignee name only, never the approver's bearer token, so the service itself must know
-- each approver's roles (the realm role names of `domain_kernel::access::Role`) and approver
-- groups (Tasklist candidate groups, `approver-manager`, …). Operators maintain it through
-- `PUT /approvers/{actorId}`; the REST door still takes the acting user's roles from their token.
-- (A request's engine instance is linked in 20261216000002, table `approval_process`.)

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
