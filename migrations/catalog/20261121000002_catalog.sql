-- Catalog: product specifications, product offerings with immutable versions, relationship
-- rules, price books with immutable versions, and append-only history.

-- Raised by guards so the service can map violations by constraint name.
CREATE FUNCTION catalog_refuse(constraint_name text, message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', message USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = constraint_name;
END $$;

-- Append-only / immutable tables refuse every update and delete.
CREATE FUNCTION catalog_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM catalog_refuse(TG_ARGV[0], TG_TABLE_NAME || ' rows are immutable');
    RETURN NULL;
END $$;

---------------------------------------------------------------------------------------------
-- Product specifications (immutable once created; a change is a new specification)
---------------------------------------------------------------------------------------------
CREATE TABLE product_specification (
    product_specification_id uuid        PRIMARY KEY,
    tenant_id                text        NOT NULL,
    code                     text        NOT NULL CHECK (code ~ '^[A-Z0-9][A-Z0-9_-]{0,63}$'),
    name                     text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description              text        CHECK (length(description) <= 4000),
    created_at               timestamptz NOT NULL DEFAULT now(),
    created_by               text        NOT NULL,
    CONSTRAINT product_specification_code_key UNIQUE (tenant_id, code),
    UNIQUE (tenant_id, product_specification_id)
);

CREATE TABLE characteristic_definition (
    product_specification_id uuid    NOT NULL REFERENCES product_specification,
    position                 integer NOT NULL CHECK (position >= 0),
    name                     text    NOT NULL CHECK (name ~ '^[A-Za-z][A-Za-z0-9_]{0,63}$'),
    value_type               text    NOT NULL CHECK (value_type IN ('STRING', 'INTEGER', 'DECIMAL', 'BOOLEAN')),
    required                 boolean NOT NULL,
    allowed_values           jsonb   CHECK (allowed_values IS NULL OR jsonb_typeof(allowed_values) = 'array'),
    min_value                numeric,
    max_value                numeric,
    default_value            jsonb,
    unit                     text    CHECK (length(unit) <= 32),
    description              text    CHECK (length(description) <= 2000),
    PRIMARY KEY (product_specification_id, name),
    UNIQUE (product_specification_id, position),
    CHECK (min_value IS NULL OR max_value IS NULL OR min_value <= max_value),
    CHECK (value_type IN ('INTEGER', 'DECIMAL') OR (min_value IS NULL AND max_value IS NULL))
);

CREATE TRIGGER product_specification_immutable BEFORE UPDATE OR DELETE ON product_specification
    FOR EACH ROW EXECUTE FUNCTION catalog_refuse_change('product_specification_immutable');
CREATE TRIGGER characteristic_definition_immutable BEFORE UPDATE OR DELETE ON characteristic_definition
    FOR EACH ROW EXECUTE FUNCTION catalog_refuse_change('characteristic_definition_immutable');

---------------------------------------------------------------------------------------------
-- Product offerings: a root (identity, code, aggregate version) and immutable versions
---------------------------------------------------------------------------------------------
CREATE TABLE product_offering (
    product_offering_id uuid        PRIMARY KEY,
    tenant_id           text        NOT NULL,
    code                text        NOT NULL CHECK (code ~ '^[A-Z0-9][A-Z0-9_-]{0,63}$'),
    aggregate_version   bigint      NOT NULL DEFAULT 1 CHECK (aggregate_version >= 1),
    created_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text        NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT product_offering_code_key UNIQUE (tenant_id, code),
    UNIQUE (tenant_id, product_offering_id)
);

CREATE TABLE product_offering_version (
    product_offering_id      uuid        NOT NULL,
    version                  integer     NOT NULL CHECK (version >= 1),
    tenant_id                text        NOT NULL,
    status                   text        NOT NULL
        CONSTRAINT offering_version_status_check
        CHECK (status IN ('DRAFT', 'READY_FOR_REVIEW', 'PUBLISHED', 'RETIRED', 'ARCHIVED')),
    name                     text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description              text        CHECK (length(description) <= 4000),
    product_specification_id uuid        NOT NULL,
    created_at               timestamptz NOT NULL DEFAULT now(),
    created_by               text        NOT NULL,
    submitted_at             timestamptz,
    published_at             timestamptz,
    retired_at               timestamptz,
    archived_at              timestamptz,
    PRIMARY KEY (product_offering_id, version),
    FOREIGN KEY (tenant_id, product_offering_id) REFERENCES product_offering (tenant_id, product_offering_id),
    FOREIGN KEY (tenant_id, product_specification_id)
        REFERENCES product_specification (tenant_id, product_specification_id),
    CONSTRAINT offering_version_published_has_date
        CHECK (status NOT IN ('PUBLISHED', 'RETIRED', 'ARCHIVED') OR published_at IS NOT NULL),
    CONSTRAINT offering_version_retired_has_date
        CHECK (status NOT IN ('RETIRED', 'ARCHIVED') OR retired_at IS NOT NULL),
    CONSTRAINT offering_version_archived_has_date
        CHECK (status <> 'ARCHIVED' OR archived_at IS NOT NULL)
);

-- At most one version being worked on and at most one on sale per offering.
CREATE UNIQUE INDEX offering_one_working_version ON product_offering_version (product_offering_id)
    WHERE status IN ('DRAFT', 'READY_FOR_REVIEW');
CREATE UNIQUE INDEX offering_one_published_version ON product_offering_version (product_offering_id)
    WHERE status = 'PUBLISHED';
CREATE INDEX offering_version_tenant_status_idx ON product_offering_version (tenant_id, status);

-- The lifecycle transition table, enforced again at the database.
CREATE FUNCTION offering_transition_allowed(from_status text, to_status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT (from_status, to_status) IN (
        ('DRAFT', 'READY_FOR_REVIEW'),
        ('READY_FOR_REVIEW', 'DRAFT'),
        ('READY_FOR_REVIEW', 'PUBLISHED'),
        ('PUBLISHED', 'RETIRED'),
        ('RETIRED', 'ARCHIVED'))
$$;

-- Only a DRAFT version's content may change; afterwards only its lifecycle moves, and only
-- along the transition table. Lifecycle timestamps are write-once.
CREATE FUNCTION offering_version_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    lifecycle text[] := ARRAY['status', 'submitted_at', 'published_at', 'retired_at', 'archived_at'];
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'DRAFT' THEN
            PERFORM catalog_refuse('offering_version_immutable', 'only DRAFT offering versions can be deleted');
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'DRAFT' AND (to_jsonb(NEW) - lifecycle) IS DISTINCT FROM (to_jsonb(OLD) - lifecycle) THEN
        PERFORM catalog_refuse('offering_version_immutable',
            'offering version ' || OLD.version || ' is ' || OLD.status || ' and can no longer change');
    END IF;
    IF (OLD.published_at IS NOT NULL AND NEW.published_at IS DISTINCT FROM OLD.published_at)
       OR (OLD.retired_at IS NOT NULL AND NEW.retired_at IS DISTINCT FROM OLD.retired_at)
       OR (OLD.archived_at IS NOT NULL AND NEW.archived_at IS DISTINCT FROM OLD.archived_at) THEN
        PERFORM catalog_refuse('offering_version_immutable', 'lifecycle dates are written once');
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT offering_transition_allowed(OLD.status, NEW.status) THEN
        PERFORM catalog_refuse('offering_version_transition',
            'illegal offering transition ' || OLD.status || ' -> ' || NEW.status);
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER offering_version_guard BEFORE UPDATE OR DELETE ON product_offering_version
    FOR EACH ROW EXECUTE FUNCTION offering_version_guard();

-- New versions are born DRAFT.
CREATE FUNCTION offering_version_born_draft() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> 'DRAFT' THEN
        PERFORM catalog_refuse('offering_version_transition', 'offering versions are created as DRAFT');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER offering_version_born_draft BEFORE INSERT ON product_offering_version
    FOR EACH ROW EXECUTE FUNCTION offering_version_born_draft();

CREATE TABLE offering_relationship (
    product_offering_id uuid    NOT NULL,
    version             integer NOT NULL,
    tenant_id           text    NOT NULL,
    relationship_type   text    NOT NULL CHECK (relationship_type IN ('REQUIRES', 'EXCLUDES', 'ADD_ON_OF')),
    target_offering_id  uuid    NOT NULL,
    min_cardinality     integer NOT NULL CHECK (min_cardinality >= 0),
    max_cardinality     integer CHECK (max_cardinality IS NULL OR (max_cardinality >= 1 AND max_cardinality >= min_cardinality)),
    PRIMARY KEY (product_offering_id, version, relationship_type, target_offering_id),
    FOREIGN KEY (product_offering_id, version) REFERENCES product_offering_version,
    FOREIGN KEY (tenant_id, target_offering_id) REFERENCES product_offering (tenant_id, product_offering_id),
    CONSTRAINT offering_relationship_not_self CHECK (target_offering_id <> product_offering_id)
);

-- Relationships belong to a version's content: they change only while the version is DRAFT.
CREATE FUNCTION offering_relationship_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    owner_id uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.product_offering_id ELSE NEW.product_offering_id END;
    owner_version integer := CASE WHEN TG_OP = 'DELETE' THEN OLD.version ELSE NEW.version END;
    owner_status text;
BEGIN
    SELECT status INTO owner_status FROM product_offering_version
     WHERE product_offering_id = owner_id AND version = owner_version;
    IF owner_status IS DISTINCT FROM 'DRAFT' AND owner_status IS NOT NULL THEN
        PERFORM catalog_refuse('offering_version_immutable', 'relationships of a ' || owner_status || ' version cannot change');
    END IF;
    IF TG_OP = 'UPDATE' AND (OLD.product_offering_id, OLD.version) IS DISTINCT FROM (NEW.product_offering_id, NEW.version) THEN
        PERFORM catalog_refuse('offering_version_immutable', 'relationships cannot move between versions');
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE TRIGGER offering_relationship_guard BEFORE INSERT OR UPDATE OR DELETE ON offering_relationship
    FOR EACH ROW EXECUTE FUNCTION offering_relationship_guard();

CREATE TABLE product_offering_history (
    history_id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_offering_id uuid        NOT NULL REFERENCES product_offering,
    version             integer     NOT NULL,
    tenant_id           text        NOT NULL,
    command             text        NOT NULL,
    from_status         text,
    to_status           text        NOT NULL,
    aggregate_version   bigint      NOT NULL,
    actor_id            text        NOT NULL,
    actor_type          text        NOT NULL,
    channel             text        NOT NULL,
    reason              text,
    correlation_id      text        NOT NULL,
    command_id          uuid        NOT NULL,
    occurred_at         timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (product_offering_id, version) REFERENCES product_offering_version
);
CREATE INDEX product_offering_history_offering_idx ON product_offering_history (product_offering_id, history_id);
CREATE TRIGGER product_offering_history_append_only BEFORE UPDATE OR DELETE ON product_offering_history
    FOR EACH ROW EXECUTE FUNCTION catalog_refuse_change('product_offering_history_append_only');

---------------------------------------------------------------------------------------------
-- Price books: a root (code, currency, aggregate version) and immutable versions of charges
---------------------------------------------------------------------------------------------
CREATE TABLE price_book (
    price_book_id     uuid        PRIMARY KEY,
    tenant_id         text        NOT NULL,
    code              text        NOT NULL CHECK (code ~ '^[A-Z0-9][A-Z0-9_-]{0,63}$'),
    currency          text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    aggregate_version bigint      NOT NULL DEFAULT 1 CHECK (aggregate_version >= 1),
    created_at        timestamptz NOT NULL DEFAULT now(),
    created_by        text        NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT price_book_code_key UNIQUE (tenant_id, code),
    UNIQUE (tenant_id, price_book_id)
);

-- A price book's currency is part of its identity.
CREATE FUNCTION price_book_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.currency IS DISTINCT FROM OLD.currency OR NEW.code IS DISTINCT FROM OLD.code
       OR NEW.tenant_id IS DISTINCT FROM OLD.tenant_id THEN
        PERFORM catalog_refuse('price_book_immutable', 'a price book keeps its tenant, code and currency');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER price_book_guard BEFORE UPDATE ON price_book FOR EACH ROW EXECUTE FUNCTION price_book_guard();

CREATE TABLE price_book_version (
    price_book_id uuid        NOT NULL,
    version       integer     NOT NULL CHECK (version >= 1),
    tenant_id     text        NOT NULL,
    status        text        NOT NULL
        CONSTRAINT price_book_version_status_check CHECK (status IN ('DRAFT', 'PUBLISHED', 'RETIRED')),
    name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    text        NOT NULL,
    published_at  timestamptz,
    retired_at    timestamptz,
    PRIMARY KEY (price_book_id, version),
    FOREIGN KEY (tenant_id, price_book_id) REFERENCES price_book (tenant_id, price_book_id),
    CONSTRAINT price_book_version_published_has_date
        CHECK (status = 'DRAFT' OR published_at IS NOT NULL),
    CONSTRAINT price_book_version_retired_has_date
        CHECK (status <> 'RETIRED' OR retired_at IS NOT NULL)
);
CREATE UNIQUE INDEX price_book_one_draft_version ON price_book_version (price_book_id) WHERE status = 'DRAFT';
CREATE UNIQUE INDEX price_book_one_published_version ON price_book_version (price_book_id) WHERE status = 'PUBLISHED';

CREATE FUNCTION price_book_version_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    lifecycle text[] := ARRAY['status', 'published_at', 'retired_at'];
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'DRAFT' THEN
            PERFORM catalog_refuse('price_book_version_transition', 'price book versions are created as DRAFT');
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'DRAFT' THEN
            PERFORM catalog_refuse('price_book_version_immutable', 'only DRAFT price book versions can be deleted');
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'DRAFT' AND (to_jsonb(NEW) - lifecycle) IS DISTINCT FROM (to_jsonb(OLD) - lifecycle) THEN
        PERFORM catalog_refuse('price_book_version_immutable',
            'price book version ' || OLD.version || ' is ' || OLD.status || ' and can no longer change');
    END IF;
    IF (OLD.published_at IS NOT NULL AND NEW.published_at IS DISTINCT FROM OLD.published_at)
       OR (OLD.retired_at IS NOT NULL AND NEW.retired_at IS DISTINCT FROM OLD.retired_at) THEN
        PERFORM catalog_refuse('price_book_version_immutable', 'lifecycle dates are written once');
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status
       AND (OLD.status, NEW.status) NOT IN (('DRAFT', 'PUBLISHED'), ('PUBLISHED', 'RETIRED')) THEN
        PERFORM catalog_refuse('price_book_version_transition',
            'illegal price book transition ' || OLD.status || ' -> ' || NEW.status);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER price_book_version_guard BEFORE INSERT OR UPDATE OR DELETE ON price_book_version
    FOR EACH ROW EXECUTE FUNCTION price_book_version_guard();

CREATE TABLE price_book_charge (
    price_book_id       uuid          NOT NULL,
    version             integer       NOT NULL,
    position            integer       NOT NULL CHECK (position >= 0),
    tenant_id           text          NOT NULL,
    product_offering_id uuid          NOT NULL,
    offering_version    integer       NOT NULL,
    charge_type         text          NOT NULL CHECK (charge_type IN ('ONE_TIME', 'RECURRING')),
    period              text          CHECK (period IN ('MONTH', 'QUARTER', 'YEAR')),
    unit_price          numeric(20,4) CHECK (unit_price >= 0),
    tier_mode           text          CHECK (tier_mode IN ('RANGE', 'SLAB')),
    tiers               jsonb         CHECK (tiers IS NULL OR (jsonb_typeof(tiers) = 'array' AND jsonb_array_length(tiers) > 0)),
    PRIMARY KEY (price_book_id, version, position),
    FOREIGN KEY (price_book_id, version) REFERENCES price_book_version,
    FOREIGN KEY (tenant_id, product_offering_id) REFERENCES product_offering (tenant_id, product_offering_id),
    FOREIGN KEY (product_offering_id, offering_version) REFERENCES product_offering_version (product_offering_id, version),
    CONSTRAINT price_charge_period_matches_type CHECK ((charge_type = 'RECURRING') = (period IS NOT NULL)),
    CONSTRAINT price_charge_flat_or_tiered CHECK ((unit_price IS NULL) <> (tier_mode IS NULL)),
    CONSTRAINT price_charge_tiers_with_mode CHECK ((tier_mode IS NULL) = (tiers IS NULL))
);
CREATE INDEX price_book_charge_offering_idx ON price_book_charge (product_offering_id, offering_version);

CREATE FUNCTION price_book_charge_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    owner_status text;
BEGIN
    SELECT status INTO owner_status FROM price_book_version
     WHERE price_book_id = COALESCE(NEW.price_book_id, OLD.price_book_id) AND version = COALESCE(NEW.version, OLD.version);
    IF owner_status IS DISTINCT FROM 'DRAFT' AND owner_status IS NOT NULL THEN
        PERFORM catalog_refuse('price_book_version_immutable', 'charges of a ' || owner_status || ' price book version cannot change');
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER price_book_charge_guard BEFORE INSERT OR UPDATE OR DELETE ON price_book_charge
    FOR EACH ROW EXECUTE FUNCTION price_book_charge_guard();

CREATE TABLE price_book_history (
    history_id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    price_book_id     uuid        NOT NULL REFERENCES price_book,
    version           integer     NOT NULL,
    tenant_id         text        NOT NULL,
    command           text        NOT NULL,
    from_status       text,
    to_status         text        NOT NULL,
    aggregate_version bigint      NOT NULL,
    actor_id          text        NOT NULL,
    actor_type        text        NOT NULL,
    channel           text        NOT NULL,
    reason            text,
    correlation_id    text        NOT NULL,
    command_id        uuid        NOT NULL,
    occurred_at       timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (price_book_id, version) REFERENCES price_book_version
);
CREATE INDEX price_book_history_book_idx ON price_book_history (price_book_id, history_id);
CREATE TRIGGER price_book_history_append_only BEFORE UPDATE OR DELETE ON price_book_history
    FOR EACH ROW EXECUTE FUNCTION catalog_refuse_change('price_book_history_append_only');
