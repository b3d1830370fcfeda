-- The audit evidence log (issue 25, ADR 0044): one append-only, tamper-evident log per tenant.
--
-- * evidence_entry: the normalised entries in log order. `canonical` is the exact text the
--   entry's leaf hash covers (docs/audit-evidence-format.md); the other columns are copies of
--   its fields for the dispute queries, and `/audit/verify` checks they still agree.
-- * merkle_node: every perfect subtree (2^level leaves, level >= 1) an append completed. It
--   never changes once written; roots and proofs of any tree size fold a few of them.
-- * checkpoint: signed tree heads (Ed25519 over a text note).
-- * quarantined_evidence: submitted evidence that failed its schema or could not be read as an
--   entry. Kept whole, visible and counted: nothing submitted is dropped.
-- * entry_redaction: the documented redaction procedure's record (audit_redact_entry below).
--
-- Append-only: triggers refuse UPDATE, DELETE and TRUNCATE on every table here, for every role
-- including the owner. The one exception is audit_redact_entry, which may replace an entry's
-- content (never its position, id or leaf hash) inside its own transaction. The service's roles
-- get INSERT and SELECT only.

CREATE FUNCTION audit_refuse(constraint_name text, message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', message USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = constraint_name;
END $$;

-- Rows of the log are never changed or removed; an entry's content may be replaced only by the
-- redaction procedure, which keeps everything that places it in the tree.
CREATE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Nested, because PL/pgSQL does not promise to stop at the first false condition and
    -- only evidence_entry rows have these fields.
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'evidence_entry'
       AND current_setting('audit.redaction', true) = 'on' THEN
        IF NEW.tenant_id = OLD.tenant_id AND NEW.leaf_index = OLD.leaf_index
           AND NEW.audit_event_id = OLD.audit_event_id AND NEW.leaf_hash = OLD.leaf_hash
           AND OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL THEN
            RETURN NEW;
        END IF;
    END IF;
    PERFORM audit_refuse(TG_ARGV[0], TG_TABLE_NAME || ' is append-only: ' || TG_OP || ' refused');
    RETURN NULL;
END $$;

CREATE FUNCTION audit_refuse_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM audit_refuse(TG_ARGV[0], TG_TABLE_NAME || ' is append-only: TRUNCATE refused');
    RETURN NULL;
END $$;

---------------------------------------------------------------------------------------------
-- The tenants that have a log (the checkpoint job's work list)
---------------------------------------------------------------------------------------------
CREATE TABLE tenant_log (
    tenant_id  text        PRIMARY KEY CHECK (length(tenant_id) BETWEEN 1 AND 64),
    created_at timestamptz NOT NULL DEFAULT now()
);

---------------------------------------------------------------------------------------------
-- Entries
---------------------------------------------------------------------------------------------
CREATE TABLE evidence_entry (
    tenant_id               text        NOT NULL REFERENCES tenant_log (tenant_id),
    leaf_index              bigint      NOT NULL CHECK (leaf_index >= 0),
    audit_event_id          uuid        NOT NULL,
    event_type              text        NOT NULL,
    occurred_at             timestamptz NOT NULL,
    actor_id                text        NOT NULL,
    resource_type           text        NOT NULL CHECK (resource_type ~ '^[A-Z0-9]+(_[A-Z0-9]+)*$'),
    resource_id             text        NOT NULL,
    correlation_id          text        NOT NULL,
    business_transaction_id text        NOT NULL,
    canonical               text        NOT NULL,
    leaf_hash               bytea       NOT NULL CHECK (length(leaf_hash) = 32),
    redacted_at             timestamptz,
    ingested_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, leaf_index),
    -- One entry per audit event, whichever way it arrives.
    CONSTRAINT evidence_entry_event_once UNIQUE (audit_event_id),
    -- The leaf hash is RFC 6962's over the stored content (until a redaction replaces it).
    CONSTRAINT evidence_entry_leaf_hash CHECK (
        redacted_at IS NOT NULL
        OR leaf_hash = sha256('\x00'::bytea || convert_to(canonical, 'UTF8')))
);
CREATE INDEX evidence_entry_resource_idx
    ON evidence_entry (tenant_id, resource_type, resource_id, occurred_at, leaf_index);
CREATE INDEX evidence_entry_actor_idx ON evidence_entry (tenant_id, actor_id, occurred_at, leaf_index);
CREATE INDEX evidence_entry_transaction_idx
    ON evidence_entry (tenant_id, business_transaction_id, occurred_at, leaf_index);
CREATE INDEX evidence_entry_correlation_idx
    ON evidence_entry (tenant_id, correlation_id, occurred_at, leaf_index);
CREATE INDEX evidence_entry_time_idx ON evidence_entry (tenant_id, occurred_at, leaf_index);

-- The log has no gaps: an entry's position is 0 or follows a stored one (with the primary key,
-- positions are 0, 1, 2, … without repeats). A point lookup on the primary key, whose plan
-- stays an index probe however the table grows.
CREATE FUNCTION audit_next_position() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.leaf_index > 0 AND NOT EXISTS (
        SELECT 1 FROM evidence_entry WHERE tenant_id = NEW.tenant_id AND leaf_index = NEW.leaf_index - 1
    ) THEN
        PERFORM audit_refuse('evidence_entry_contiguous',
            format('entry %s of tenant %s would leave a gap: entry %s is not in the log',
                   NEW.leaf_index, NEW.tenant_id, NEW.leaf_index - 1));
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER evidence_entry_contiguous BEFORE INSERT ON evidence_entry
    FOR EACH ROW EXECUTE FUNCTION audit_next_position();

---------------------------------------------------------------------------------------------
-- Perfect subtrees and checkpoints
---------------------------------------------------------------------------------------------
CREATE TABLE merkle_node (
    tenant_id  text     NOT NULL REFERENCES tenant_log (tenant_id),
    level      smallint NOT NULL CHECK (level BETWEEN 1 AND 62),
    node_index bigint   NOT NULL CHECK (node_index >= 0),
    hash       bytea    NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (tenant_id, level, node_index)
);

CREATE TABLE checkpoint (
    tenant_id  text        NOT NULL REFERENCES tenant_log (tenant_id),
    tree_size  bigint      NOT NULL CHECK (tree_size >= 1),
    root_hash  bytea       NOT NULL CHECK (length(root_hash) = 32),
    issued_at  timestamptz NOT NULL,
    key_id     text        NOT NULL CHECK (key_id ~ '^[0-9a-f]{16}$'),
    note       text        NOT NULL,
    signature  bytea       NOT NULL CHECK (length(signature) = 64),
    PRIMARY KEY (tenant_id, tree_size)
);

---------------------------------------------------------------------------------------------
-- Quarantine and redactions
---------------------------------------------------------------------------------------------
CREATE TABLE quarantined_evidence (
    quarantine_id   uuid        PRIMARY KEY,
    event_id        uuid        UNIQUE,
    tenant_id       text,
    topic           text        NOT NULL,
    kafka_partition integer     NOT NULL,
    kafka_offset    bigint      NOT NULL,
    reasons         jsonb       NOT NULL CHECK (jsonb_typeof(reasons) = 'array' AND jsonb_array_length(reasons) > 0),
    envelope        text        NOT NULL,
    quarantined_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quarantined_evidence_tenant_idx ON quarantined_evidence (tenant_id, quarantined_at);

CREATE TABLE entry_redaction (
    tenant_id    text        NOT NULL,
    leaf_index   bigint      NOT NULL,
    reason       text        NOT NULL CHECK (length(btrim(reason)) > 0),
    requested_by text        NOT NULL CHECK (length(btrim(requested_by)) > 0),
    redacted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, leaf_index),
    FOREIGN KEY (tenant_id, leaf_index) REFERENCES evidence_entry (tenant_id, leaf_index)
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['tenant_log', 'evidence_entry', 'merkle_node', 'checkpoint',
                             'quarantined_evidence', 'entry_redaction'] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW '
                       'EXECUTE FUNCTION audit_refuse_change(%L)',
                       t || '_append_only', t, t || '_append_only');
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT '
                       'EXECUTE FUNCTION audit_refuse_truncate(%L)',
                       t || '_no_truncate', t, t || '_append_only');
    END LOOP;
END $$;

-- The documented redaction procedure (docs/runbooks/audit.md): replaces an entry's content
-- with a stub naming the redaction, keeps its position, id and leaf hash (so the tree, every
-- checkpoint and every proof of other entries stay valid), and records who asked and why.
-- Only the schema owner may run it; `/audit/verify` reports redacted entries as such.
CREATE FUNCTION audit_redact_entry(p_tenant text, p_leaf bigint, p_reason text, p_requested_by text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('audit.redaction', 'on', true);
    UPDATE evidence_entry
       SET canonical = json_build_object('formatVersion', 1, 'redacted', true,
                                         'auditEventId', audit_event_id)::text,
           redacted_at = now()
     WHERE tenant_id = p_tenant AND leaf_index = p_leaf AND redacted_at IS NULL;
    IF NOT FOUND THEN
        PERFORM audit_refuse('entry_redaction_target',
            format('no unredacted entry %s in the log of tenant %s', p_leaf, p_tenant));
    END IF;
    INSERT INTO entry_redaction (tenant_id, leaf_index, reason, requested_by)
        VALUES (p_tenant, p_leaf, p_reason, p_requested_by);
    PERFORM set_config('audit.redaction', 'off', true);
END $$;
REVOKE EXECUTE ON FUNCTION audit_redact_entry(text, bigint, text, text) FROM PUBLIC;

-- The functions name their tables unqualified: pin them to this schema, so they work whatever
-- search_path the calling session has (an operator's psql included).
ALTER FUNCTION audit_refuse(text, text) SET search_path FROM CURRENT;
ALTER FUNCTION audit_refuse_change() SET search_path FROM CURRENT;
ALTER FUNCTION audit_refuse_truncate() SET search_path FROM CURRENT;
ALTER FUNCTION audit_next_position() SET search_path FROM CURRENT;
ALTER FUNCTION audit_redact_entry(text, bigint, text, text) SET search_path FROM CURRENT;

---------------------------------------------------------------------------------------------
-- Row-level security (ADR 0030)
---------------------------------------------------------------------------------------------
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['tenant_log', 'evidence_entry', 'merkle_node', 'checkpoint',
                             'quarantined_evidence', 'entry_redaction'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I '
                       'USING (tenant_id = current_setting(''app.tenant_id'', true)) '
                       'WITH CHECK (tenant_id = current_setting(''app.tenant_id'', true))', t);
    END LOOP;
END $$;

---------------------------------------------------------------------------------------------
-- The request role, audit_app: reads, and publishing a checkpoint on demand
---------------------------------------------------------------------------------------------
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'audit_app') THEN
        BEGIN
            CREATE ROLE audit_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- created by a migration of another database meanwhile
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'audit_app' AND (rolsuper OR rolbypassrls))
       OR pg_has_role('audit_app', current_user, 'MEMBER') THEN
        RAISE EXCEPTION 'audit_app must not bypass row-level security nor act as the schema owner %', current_user;
    END IF;
END $$;

GRANT USAGE ON SCHEMA audit_schema TO audit_app;
GRANT SELECT ON tenant_log, evidence_entry, merkle_node, checkpoint, quarantined_evidence,
    entry_redaction TO audit_app;
GRANT INSERT ON checkpoint TO audit_app;

---------------------------------------------------------------------------------------------
-- The jobs role, audit_jobs: the evidence consumer and the checkpoint job (INSERT and SELECT)
---------------------------------------------------------------------------------------------
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'audit_jobs') THEN
        RAISE EXCEPTION 'audit_jobs does not exist: the platform migration 20261208000001_jobs_role creates it';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'audit_jobs' AND rolsuper)
       OR pg_has_role('audit_jobs', current_user, 'MEMBER') THEN
        RAISE EXCEPTION 'audit_jobs must be no superuser and no member of the schema owner %', current_user;
    END IF;
END $$;

GRANT SELECT, INSERT ON tenant_log, evidence_entry, merkle_node, checkpoint, quarantined_evidence
    TO audit_jobs;
