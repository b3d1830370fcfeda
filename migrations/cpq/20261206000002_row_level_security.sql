-- Row-level security on every CPQ table (ADR 0030): enabled and forced (the owner is subject to
-- it too unless it bypasses RLS, as the superuser and a BYPASSRLS owner do), one policy for every
-- command. Request handling connects as `cpq_app` and sets `app.tenant_id` at the start of each
-- transaction; without it a query sees no row and an insert is refused. The expiry job crosses
-- tenants and runs on the owner's pool (docs/runbooks/cpq.md).
--
-- `cpq_app` gets what the code does and nothing more: history and conversions are append-only
-- (their triggers stay), quotes are never deleted, overrides go with their items by cascade
-- (run as the owner). `SELECT … FOR UPDATE` on a quote needs UPDATE, which commands have anyway.
-- Identity sequences (quote_history, quote_price_override) need no grant.

-- The role exists once the platform migrations ran (crates/messaging/migrations); created here
-- too, tolerating a concurrent creator, so this file also stands alone. Production provisions the
-- role and its password beforehand (docs/runbooks/cpq.md).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cpq_app') THEN
        BEGIN
            CREATE ROLE cpq_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- created by a migration of another database meanwhile
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cpq_app' AND (rolsuper OR rolbypassrls))
       OR pg_has_role('cpq_app', current_user, 'MEMBER') THEN
        RAISE EXCEPTION 'cpq_app must not bypass row-level security nor act as the schema owner %', current_user;
    END IF;
END $$;

GRANT USAGE ON SCHEMA cpq_schema TO cpq_app;
GRANT SELECT, INSERT, UPDATE ON quote TO cpq_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON quote_item TO cpq_app;
GRANT SELECT, INSERT, UPDATE ON quote_price_snapshot TO cpq_app;
GRANT SELECT, INSERT, UPDATE ON quote_price_override TO cpq_app;
GRANT INSERT ON quote_history TO cpq_app;
GRANT SELECT, INSERT ON quote_conversion TO cpq_app;

ALTER TABLE quote ENABLE ROW LEVEL SECURITY;
ALTER TABLE quote FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON quote
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE quote_item ENABLE ROW LEVEL SECURITY;
ALTER TABLE quote_item FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON quote_item
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE quote_price_snapshot ENABLE ROW LEVEL SECURITY;
ALTER TABLE quote_price_snapshot FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON quote_price_snapshot
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE quote_price_override ENABLE ROW LEVEL SECURITY;
ALTER TABLE quote_price_override FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON quote_price_override
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE quote_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE quote_history FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON quote_history
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE quote_conversion ENABLE ROW LEVEL SECURITY;
ALTER TABLE quote_conversion FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON quote_conversion
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
