-- CPQ follows the approval service's events (ADR 0035). A submit now only takes a quote to
-- SUBMITTED; the approval service decides, and its events on `cpq.approval.events.v1` move the
-- quote (SUBMITTED -> APPROVAL_PENDING / APPROVED, APPROVAL_PENDING -> APPROVED / REJECTED, and
-- SUBMITTED -> APPROVED / REJECTED when an outcome arrives without a PENDING request first).
--
-- 1. The quote root names the approval request its approval stage rests on. Quotes submitted
--    before this change keep their `policy_snapshot` (CPQ's retired in-process policy v1) and
--    stay readable; a revision rests on one or the other, never both.
-- 2. `quote_transition_allowed` follows the domain's QUOTE_TRANSITIONS again: the submit no
--    longer writes PRICED -> APPROVED / APPROVAL_PENDING in one step, and SUBMITTED may now be
--    REJECTED. An instance of the previous release still submitting during a rolling deploy is
--    refused with `quote_transition` (409 ILLEGAL_TRANSITION); docs/runbooks/cpq.md says to
--    drain old instances first.
-- 3. `quote_approval_request`: what the approval service said about each request of a quote
--    (status, policy, chain, decisions), fed by the consumer `cpq.approval-outcomes` and shown
--    by GET /quotes/{id}. One row per request, replaced only by a newer request version.
-- 4. Grants: the consumer runs on the jobs role's pool (`cpq_jobs`, cross-tenant); it gets
--    exactly what the handler writes beyond the expiry's grants. The app role may read the
--    evidence.

---------------------------------------------------------------------------------------------
-- 1. The approval basis of a quote revision
---------------------------------------------------------------------------------------------
ALTER TABLE quote
    ADD COLUMN approval_request_id uuid,
    ADD COLUMN approval_policy_id text CONSTRAINT quote_approval_policy_id_not_blank CHECK (approval_policy_id <> ''),
    ADD COLUMN approval_policy_version text
        CONSTRAINT quote_approval_policy_version_not_blank CHECK (approval_policy_version <> ''),
    -- The request and its policy are named together or not at all.
    ADD CONSTRAINT quote_approval_request_named CHECK ((approval_request_id IS NULL) = (approval_policy_id IS NULL)
        AND (approval_request_id IS NULL) = (approval_policy_version IS NULL)),
    -- A revision rests on the approval service's request or on a stored v1 evaluation, not both.
    ADD CONSTRAINT quote_one_approval_basis CHECK (approval_request_id IS NULL OR policy_snapshot IS NULL),
    -- A quote waiting for an approver, or refused by one, names what it waits on.
    ADD CONSTRAINT quote_referred_has_basis CHECK (status NOT IN ('APPROVAL_PENDING', 'REJECTED')
        OR policy_snapshot IS NOT NULL OR approval_request_id IS NOT NULL),
    -- A submitted quote waits for the approval service and holds no approval evidence yet.
    ADD CONSTRAINT quote_submitted_awaits_approval CHECK (status <> 'SUBMITTED'
        OR (approval_request_id IS NULL AND policy_snapshot IS NULL AND approved_price_hash IS NULL));

-- APPROVED, ACCEPTED and CONVERTED quotes hold a frozen price equal to the approved one, and the
-- approval rests on a request (or, for quotes approved before ADR 0035, on the v1 evaluation).
ALTER TABLE quote DROP CONSTRAINT quote_approved_price_frozen;
ALTER TABLE quote ADD CONSTRAINT quote_approved_price_frozen CHECK (status NOT IN ('APPROVED', 'ACCEPTED', 'CONVERTED')
    OR (pricing_state = 'FROZEN' AND approved_price_hash IS NOT NULL AND price_hash = approved_price_hash
        AND (policy_snapshot IS NOT NULL OR approval_request_id IS NOT NULL)));

---------------------------------------------------------------------------------------------
-- 2. The lifecycle pairs (the domain's QUOTE_TRANSITIONS, with one update per command)
---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION quote_transition_allowed(from_status text, to_status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT (from_status, to_status) IN (
        ('DRAFT', 'DRAFT'), ('DRAFT', 'CONFIGURED'), ('DRAFT', 'EXPIRED'), ('DRAFT', 'CANCELLED'),
        ('CONFIGURED', 'DRAFT'), ('CONFIGURED', 'CONFIGURED'), ('CONFIGURED', 'PRICED'),
        ('CONFIGURED', 'EXPIRED'), ('CONFIGURED', 'CANCELLED'),
        ('PRICED', 'DRAFT'), ('PRICED', 'CONFIGURED'), ('PRICED', 'PRICED'), ('PRICED', 'SUBMITTED'),
        ('PRICED', 'EXPIRED'), ('PRICED', 'CANCELLED'),
        ('SUBMITTED', 'APPROVAL_PENDING'), ('SUBMITTED', 'APPROVED'), ('SUBMITTED', 'REJECTED'),
        ('SUBMITTED', 'DRAFT'), ('SUBMITTED', 'EXPIRED'), ('SUBMITTED', 'CANCELLED'),
        ('APPROVAL_PENDING', 'APPROVED'), ('APPROVAL_PENDING', 'REJECTED'), ('APPROVAL_PENDING', 'DRAFT'),
        ('APPROVAL_PENDING', 'EXPIRED'), ('APPROVAL_PENDING', 'CANCELLED'),
        ('APPROVED', 'ACCEPTED'), ('APPROVED', 'DRAFT'), ('APPROVED', 'EXPIRED'), ('APPROVED', 'CANCELLED'),
        ('REJECTED', 'DRAFT'), ('REJECTED', 'EXPIRED'),
        ('ACCEPTED', 'CONVERTED'))
$$;

---------------------------------------------------------------------------------------------
-- 3. Approval evidence per request, as the approval service published it
---------------------------------------------------------------------------------------------
CREATE TABLE quote_approval_request (
    approval_request_id uuid        PRIMARY KEY,
    tenant_id           text        NOT NULL,
    quote_id            uuid        NOT NULL,
    revision            integer     NOT NULL CHECK (revision >= 1),
    price_hash          text        NOT NULL CHECK (price_hash ~ '^[0-9a-f]{64}$'),
    status              text        NOT NULL CHECK (status IN ('NOT_REQUIRED', 'PENDING', 'APPROVED', 'REJECTED',
                            'CANCELLED', 'EXPIRED', 'SUPERSEDED')),
    policy_id           text        NOT NULL CHECK (policy_id <> ''),
    policy_version      text        NOT NULL CHECK (policy_version <> ''),
    levels              jsonb       NOT NULL CHECK (jsonb_typeof(levels) = 'array'),
    decisions           jsonb       NOT NULL CHECK (jsonb_typeof(decisions) = 'array'),
    -- The request's aggregate version in the approval service: only a newer one replaces the row.
    request_version     bigint      NOT NULL CHECK (request_version >= 1),
    last_event_id       uuid        NOT NULL,
    last_event_type     text        NOT NULL CHECK (last_event_type LIKE 'approval.%'),
    -- When the approval service says the last fact happened.
    occurred_at         timestamptz NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT quote_approval_request_tenant_fk FOREIGN KEY (tenant_id, quote_id) REFERENCES quote (tenant_id, quote_id)
);
CREATE INDEX quote_approval_request_quote_idx ON quote_approval_request (tenant_id, quote_id, revision, created_at DESC);

-- A request is about one quote revision and price, under one policy, for its whole life; rows
-- are never deleted.
CREATE FUNCTION quote_approval_request_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM cpq_refuse('quote_approval_request_append_only', 'approval evidence is never deleted');
    END IF;
    IF NEW.tenant_id <> OLD.tenant_id OR NEW.quote_id <> OLD.quote_id OR NEW.revision <> OLD.revision
       OR NEW.price_hash <> OLD.price_hash OR NEW.policy_id <> OLD.policy_id
       OR NEW.policy_version <> OLD.policy_version OR NEW.created_at <> OLD.created_at THEN
        PERFORM cpq_refuse('quote_approval_request_immutable',
            'an approval request keeps its quote, revision, price hash and policy');
    END IF;
    IF NEW.request_version <= OLD.request_version THEN
        PERFORM cpq_refuse('quote_approval_request_version_transition',
            'approval evidence is replaced only by a newer request version');
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER quote_approval_request_guard BEFORE UPDATE OR DELETE ON quote_approval_request
    FOR EACH ROW EXECUTE FUNCTION quote_approval_request_guard();

ALTER TABLE quote_approval_request ENABLE ROW LEVEL SECURITY;
ALTER TABLE quote_approval_request FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON quote_approval_request
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

---------------------------------------------------------------------------------------------
-- 4. Grants
---------------------------------------------------------------------------------------------
-- Request handling reads the evidence (GET /quotes/{id}); it never writes it.
GRANT SELECT ON quote_approval_request TO cpq_app;

-- The consumer `cpq.approval-outcomes`, on `cpq_jobs`, in the inbox's transaction (the platform
-- grants the inbox and dead-letter tables). Beyond the expiry's grants (20261208000001) it
-- writes:
-- * quote_approval_request: INSERT, and UPDATE guarded by `ON CONFLICT ... WHERE` on the request
--   version (which needs SELECT). Never DELETE.
-- * quote_price_snapshot: UPDATE of `frozen` only (an approval freezes the approved price).
-- Everything else it does — lock and update the quote root, read items, snapshot and overrides,
-- append history, write the quote event and the audit evidence to the outbox — the expiry's
-- grants already cover. It never reads `quote_conversion`: a converted quote is screened on its
-- root alone.
GRANT SELECT, INSERT, UPDATE ON quote_approval_request TO cpq_jobs;
GRANT UPDATE (frozen) ON quote_price_snapshot TO cpq_jobs;
