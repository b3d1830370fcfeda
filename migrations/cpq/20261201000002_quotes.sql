-- CPQ quotes: the quote root with its lifecycle and pins, items and price snapshots per revision,
-- manual overrides, append-only history and the one conversion per quote (ADR 0013).
-- The application enforces the state machines; these constraints and triggers are the last line
-- of defence, named so the service maps a violation to the same stable code.

-- Raised by guards so the service can map violations by constraint name.
CREATE FUNCTION cpq_refuse(constraint_name text, message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', message USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = constraint_name;
END $$;

-- Append-only tables refuse every update and delete.
CREATE FUNCTION cpq_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM cpq_refuse(TG_ARGV[0], TG_TABLE_NAME || ' rows are append-only');
    RETURN NULL;
END $$;

---------------------------------------------------------------------------------------------
-- Quote root
---------------------------------------------------------------------------------------------
CREATE TABLE quote (
    quote_id             uuid        PRIMARY KEY,
    tenant_id            text        NOT NULL,
    customer_id          text        NOT NULL CHECK (length(customer_id) BETWEEN 1 AND 128),
    currency             text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status               text        NOT NULL CHECK (status IN ('DRAFT', 'CONFIGURED', 'PRICED', 'SUBMITTED',
                             'APPROVAL_PENDING', 'APPROVED', 'REJECTED', 'ACCEPTED', 'EXPIRED', 'CANCELLED', 'CONVERTED')),
    revision             integer     NOT NULL DEFAULT 1 CHECK (revision >= 1),
    valid_until          timestamptz NOT NULL,
    aggregate_version    bigint      NOT NULL DEFAULT 1 CHECK (aggregate_version >= 1),
    price_book_id        uuid        NOT NULL,
    price_book_version   integer     NOT NULL CHECK (price_book_version >= 1),
    pricing_state        text        NOT NULL DEFAULT 'NOT_PRICED' CHECK (pricing_state IN ('NOT_PRICED', 'PRICED',
                             'PRICE_STALE', 'OVERRIDE_PENDING_APPROVAL', 'APPROVED', 'REJECTED', 'FROZEN')),
    price_hash           text        CHECK (price_hash ~ '^[0-9a-f]{64}$'),
    approved_price_hash  text        CHECK (approved_price_hash ~ '^[0-9a-f]{64}$'),
    approved_at          timestamptz,
    approved_by          text,
    policy_snapshot      jsonb       CHECK (policy_snapshot IS NULL OR jsonb_typeof(policy_snapshot) = 'object'),
    accepted_at          timestamptz,
    accepted_by          text,
    acceptance_channel   text,
    acceptance_reference text        CHECK (length(acceptance_reference) <= 200),
    created_at           timestamptz NOT NULL DEFAULT now(),
    created_by           text        NOT NULL,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    -- Something priced has a hash; nothing unpriced has one.
    CONSTRAINT quote_priced_has_hash CHECK ((pricing_state = 'NOT_PRICED') = (price_hash IS NULL)),
    -- Approval evidence exists exactly when an approval is in force.
    CONSTRAINT quote_approval_evidence CHECK ((approved_price_hash IS NULL) = (approved_at IS NULL)
        AND (approved_price_hash IS NULL) = (approved_by IS NULL)),
    -- APPROVED, ACCEPTED and CONVERTED quotes hold a frozen price equal to the approved one.
    CONSTRAINT quote_approved_price_frozen CHECK (status NOT IN ('APPROVED', 'ACCEPTED', 'CONVERTED')
        OR (pricing_state = 'FROZEN' AND approved_price_hash IS NOT NULL AND price_hash = approved_price_hash
            AND policy_snapshot IS NOT NULL)),
    -- Acceptance evidence exists exactly for accepted (and then converted) quotes.
    CONSTRAINT quote_acceptance_evidence CHECK ((status IN ('ACCEPTED', 'CONVERTED'))
        = (accepted_at IS NOT NULL AND accepted_by IS NOT NULL AND acceptance_channel IS NOT NULL)),
    -- A frozen price belongs to an approved quote (or one that ended after approval).
    CONSTRAINT quote_frozen_means_approved CHECK (pricing_state <> 'FROZEN'
        OR status IN ('APPROVED', 'ACCEPTED', 'CONVERTED', 'EXPIRED', 'CANCELLED'))
);
CREATE INDEX quote_tenant_created_idx ON quote (tenant_id, created_at DESC, quote_id);
CREATE INDEX quote_tenant_customer_idx ON quote (tenant_id, customer_id, created_at DESC);
CREATE INDEX quote_tenant_status_idx ON quote (tenant_id, status, created_at DESC);
-- The expiry job's work list: only quotes that can still expire.
CREATE INDEX quote_expiry_idx ON quote (valid_until)
    WHERE status IN ('DRAFT', 'CONFIGURED', 'PRICED', 'SUBMITTED', 'APPROVAL_PENDING', 'APPROVED', 'REJECTED');

-- The quote lifecycle as status pairs (the domain's QUOTE_TRANSITIONS; a submit writes its
-- final state directly, so PRICED -> APPROVED / APPROVAL_PENDING appear as one step).
CREATE FUNCTION quote_transition_allowed(from_status text, to_status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT (from_status, to_status) IN (
        ('DRAFT', 'DRAFT'), ('DRAFT', 'CONFIGURED'), ('DRAFT', 'EXPIRED'), ('DRAFT', 'CANCELLED'),
        ('CONFIGURED', 'DRAFT'), ('CONFIGURED', 'PRICED'), ('CONFIGURED', 'EXPIRED'), ('CONFIGURED', 'CANCELLED'),
        ('PRICED', 'DRAFT'), ('PRICED', 'PRICED'), ('PRICED', 'SUBMITTED'), ('PRICED', 'APPROVED'),
        ('PRICED', 'APPROVAL_PENDING'), ('PRICED', 'EXPIRED'), ('PRICED', 'CANCELLED'),
        ('SUBMITTED', 'APPROVAL_PENDING'), ('SUBMITTED', 'APPROVED'), ('SUBMITTED', 'DRAFT'),
        ('SUBMITTED', 'EXPIRED'), ('SUBMITTED', 'CANCELLED'),
        ('APPROVAL_PENDING', 'APPROVED'), ('APPROVAL_PENDING', 'REJECTED'), ('APPROVAL_PENDING', 'DRAFT'),
        ('APPROVAL_PENDING', 'EXPIRED'), ('APPROVAL_PENDING', 'CANCELLED'),
        ('APPROVED', 'ACCEPTED'), ('APPROVED', 'DRAFT'), ('APPROVED', 'EXPIRED'), ('APPROVED', 'CANCELLED'),
        ('REJECTED', 'DRAFT'), ('REJECTED', 'EXPIRED'),
        ('ACCEPTED', 'CONVERTED'))
$$;

-- Identity and ownership never change; status moves only along the lifecycle; the revision
-- moves only by one, and only when a revise opens the next DRAFT; every change bumps the
-- aggregate version.
CREATE FUNCTION quote_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM cpq_refuse('quote_append_only', 'quotes are never deleted');
    END IF;
    IF NEW.quote_id <> OLD.quote_id OR NEW.tenant_id <> OLD.tenant_id THEN
        PERFORM cpq_refuse('quote_identity_immutable', 'a quote keeps its id and tenant');
    END IF;
    IF NEW.customer_id <> OLD.customer_id THEN
        PERFORM cpq_refuse('quote_customer_immutable', 'a quote keeps its customer');
    END IF;
    IF NEW.currency <> OLD.currency OR NEW.created_at <> OLD.created_at OR NEW.created_by <> OLD.created_by THEN
        PERFORM cpq_refuse('quote_identity_immutable', 'a quote keeps its currency and creation facts');
    END IF;
    IF NOT quote_transition_allowed(OLD.status, NEW.status) THEN
        PERFORM cpq_refuse('quote_transition', 'quote status ' || OLD.status || ' cannot become ' || NEW.status);
    END IF;
    IF NEW.revision <> OLD.revision AND NOT (NEW.revision = OLD.revision + 1 AND NEW.status = 'DRAFT'
        AND OLD.status IN ('SUBMITTED', 'APPROVAL_PENDING', 'APPROVED', 'REJECTED')) THEN
        PERFORM cpq_refuse('quote_revision_transition', 'the revision only moves by one, through revise');
    END IF;
    IF NEW.aggregate_version <> OLD.aggregate_version + 1 THEN
        PERFORM cpq_refuse('quote_version_transition', 'every change bumps the aggregate version by one');
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER quote_guard BEFORE UPDATE OR DELETE ON quote FOR EACH ROW EXECUTE FUNCTION quote_guard();

---------------------------------------------------------------------------------------------
-- Items per revision (each pins the offering version it was configured against)
---------------------------------------------------------------------------------------------
CREATE TABLE quote_item (
    quote_id             uuid        NOT NULL REFERENCES quote,
    revision             integer     NOT NULL CHECK (revision >= 1),
    item_id              text        NOT NULL CHECK (length(item_id) BETWEEN 1 AND 64),
    position             integer     NOT NULL CHECK (position >= 0),
    offering_id          uuid        NOT NULL,
    offering_version     integer     NOT NULL CHECK (offering_version >= 1),
    quantity             bigint      NOT NULL CHECK (quantity > 0),
    term_months          integer     CHECK (term_months > 0),
    discount_percent     numeric     CHECK (discount_percent >= 0 AND discount_percent <= 100),
    characteristics      jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(characteristics) = 'object'),
    parent_item_id       text        CHECK (parent_item_id <> item_id),
    configuration_status text        NOT NULL CHECK (configuration_status IN ('EMPTY', 'IN_PROGRESS', 'VALID', 'INVALID', 'FROZEN')),
    configuration_hash   text,
    configuration        jsonb,
    violations           jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(violations) = 'array'),
    PRIMARY KEY (quote_id, revision, item_id),
    UNIQUE (quote_id, revision, position),
    -- VALID and FROZEN configurations, and only those, carry a hash and the resolved snapshot.
    CONSTRAINT quote_item_valid_has_hash CHECK ((configuration_status IN ('VALID', 'FROZEN'))
        = (configuration_hash IS NOT NULL AND configuration IS NOT NULL)),
    CONSTRAINT quote_item_invalid_has_violations CHECK (configuration_status <> 'INVALID' OR jsonb_array_length(violations) > 0)
);

-- A FROZEN configuration never changes; items of a past revision are never touched.
CREATE FUNCTION quote_item_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.configuration_status = 'FROZEN' THEN
        PERFORM cpq_refuse('quote_item_frozen', 'a frozen configuration never changes');
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER quote_item_guard BEFORE UPDATE OR DELETE ON quote_item FOR EACH ROW EXECUTE FUNCTION quote_item_guard();

---------------------------------------------------------------------------------------------
-- Price snapshot per revision (the engine's result with its trace and hash)
---------------------------------------------------------------------------------------------
CREATE TABLE quote_price_snapshot (
    quote_id           uuid        NOT NULL REFERENCES quote,
    revision           integer     NOT NULL CHECK (revision >= 1),
    price_hash         text        NOT NULL CHECK (price_hash ~ '^[0-9a-f]{64}$'),
    trace_hash         text        NOT NULL,
    currency           text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    price_book_id      uuid        NOT NULL,
    price_book_version integer     NOT NULL,
    one_time_total     numeric     NOT NULL CHECK (one_time_total >= 0),
    result             jsonb       NOT NULL CHECK (jsonb_typeof(result) = 'object'),
    trace              jsonb       NOT NULL CHECK (jsonb_typeof(trace) = 'array'),
    frozen             boolean     NOT NULL DEFAULT false,
    priced_at          timestamptz NOT NULL DEFAULT now(),
    priced_by          text        NOT NULL,
    PRIMARY KEY (quote_id, revision)
);

-- A frozen snapshot never changes (freezing is the last allowed update).
CREATE FUNCTION quote_price_snapshot_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.frozen THEN
        PERFORM cpq_refuse('quote_price_snapshot_frozen', 'a frozen price snapshot never changes');
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER quote_price_snapshot_guard BEFORE UPDATE OR DELETE ON quote_price_snapshot
    FOR EACH ROW EXECUTE FUNCTION quote_price_snapshot_guard();

---------------------------------------------------------------------------------------------
-- Manual price overrides: original, new, actor, reason (a Money invariant)
---------------------------------------------------------------------------------------------
CREATE TABLE quote_price_override (
    override_id    bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    quote_id       uuid        NOT NULL,
    revision       integer     NOT NULL,
    item_id        text        NOT NULL,
    charge         text        NOT NULL CHECK (charge IN ('ONE_TIME', 'RECURRING_MONTH', 'RECURRING_QUARTER', 'RECURRING_YEAR')),
    currency       text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    original_price numeric     NOT NULL CHECK (original_price >= 0),
    new_price      numeric     NOT NULL CHECK (new_price >= 0),
    actor_id       text        NOT NULL CHECK (actor_id <> ''),
    actor_type     text        NOT NULL,
    reason         text        NOT NULL CHECK (length(btrim(reason)) BETWEEN 1 AND 1000),
    created_at     timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (quote_id, revision, item_id) REFERENCES quote_item ON DELETE CASCADE,
    CONSTRAINT quote_price_override_one_per_charge UNIQUE (quote_id, revision, item_id, charge)
);

---------------------------------------------------------------------------------------------
-- History (append-only): one row per transition, naming command, actor and revision
---------------------------------------------------------------------------------------------
CREATE TABLE quote_history (
    history_id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    quote_id          uuid        NOT NULL REFERENCES quote,
    revision          integer     NOT NULL,
    tenant_id         text        NOT NULL,
    command           text        NOT NULL,
    from_status       text,
    to_status         text        NOT NULL,
    aggregate_version bigint      NOT NULL,
    actor_id          text        NOT NULL,
    actor_type        text        NOT NULL,
    channel           text        NOT NULL,
    reason            text,
    details           jsonb,
    correlation_id    text        NOT NULL,
    command_id        uuid        NOT NULL,
    occurred_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quote_history_quote_idx ON quote_history (quote_id, history_id);
CREATE TRIGGER quote_history_append_only BEFORE UPDATE OR DELETE ON quote_history
    FOR EACH ROW EXECUTE FUNCTION cpq_refuse_change('quote_history_append_only');

---------------------------------------------------------------------------------------------
-- Conversion: the primary key makes "exactly one conversion per quote" a database fact
---------------------------------------------------------------------------------------------
CREATE TABLE quote_conversion (
    quote_id     uuid        PRIMARY KEY REFERENCES quote,
    tenant_id    text        NOT NULL,
    order_id     uuid        NOT NULL UNIQUE,
    revision     integer     NOT NULL,
    price_hash   text        NOT NULL CHECK (price_hash ~ '^[0-9a-f]{64}$'),
    snapshot     jsonb       NOT NULL CHECK (jsonb_typeof(snapshot) = 'object'),
    converted_at timestamptz NOT NULL DEFAULT now(),
    converted_by text        NOT NULL
);
CREATE TRIGGER quote_conversion_append_only BEFORE UPDATE OR DELETE ON quote_conversion
    FOR EACH ROW EXECUTE FUNCTION cpq_refuse_change('quote_conversion_append_only');
