-- Row-level security on every catalog table (ADR 0030): enabled and forced (the owner is subject
-- to it too unless it bypasses RLS, as the superuser and a BYPASSRLS owner do), one policy for
-- every command. Request handling connects as `catalog_app` and sets `app.tenant_id` at the start
-- of each transaction; without it a query sees no row and an insert is refused.
--
-- `catalog_app` gets what the code does and nothing more: specifications and their definitions
-- are immutable, history is append-only (their triggers stay), relationships are replaced on a
-- draft's edit (DELETE), versions and charges are never deleted by the service. `SELECT … FOR
-- UPDATE` on an offering or price book root needs UPDATE, which commands have anyway. Identity
-- sequences (history ids) need no grant.

-- The role exists once the platform migrations ran (crates/messaging/migrations); created here
-- too, tolerating a concurrent creator, so this file also stands alone. Production provisions the
-- role and its password beforehand (docs/runbooks/catalog.md).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'catalog_app') THEN
        BEGIN
            CREATE ROLE catalog_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- created by a migration of another database meanwhile
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'catalog_app' AND (rolsuper OR rolbypassrls))
       OR pg_has_role('catalog_app', current_user, 'MEMBER') THEN
        RAISE EXCEPTION 'catalog_app must not bypass row-level security nor act as the schema owner %', current_user;
    END IF;
END $$;

GRANT USAGE ON SCHEMA catalog_schema TO catalog_app;
GRANT SELECT, INSERT ON product_specification TO catalog_app;
GRANT SELECT, INSERT ON characteristic_definition TO catalog_app;
GRANT SELECT, INSERT, UPDATE ON product_offering TO catalog_app;
GRANT SELECT, INSERT, UPDATE ON product_offering_version TO catalog_app;
GRANT SELECT, INSERT, DELETE ON offering_relationship TO catalog_app;
GRANT INSERT ON product_offering_history TO catalog_app;
GRANT SELECT, INSERT, UPDATE ON price_book TO catalog_app;
GRANT SELECT, INSERT, UPDATE ON price_book_version TO catalog_app;
GRANT SELECT, INSERT ON price_book_charge TO catalog_app;
GRANT INSERT ON price_book_history TO catalog_app;

ALTER TABLE product_specification ENABLE ROW LEVEL SECURITY;
ALTER TABLE product_specification FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON product_specification
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE characteristic_definition ENABLE ROW LEVEL SECURITY;
ALTER TABLE characteristic_definition FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON characteristic_definition
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE product_offering ENABLE ROW LEVEL SECURITY;
ALTER TABLE product_offering FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON product_offering
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE product_offering_version ENABLE ROW LEVEL SECURITY;
ALTER TABLE product_offering_version FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON product_offering_version
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE offering_relationship ENABLE ROW LEVEL SECURITY;
ALTER TABLE offering_relationship FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON offering_relationship
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE product_offering_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE product_offering_history FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON product_offering_history
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE price_book ENABLE ROW LEVEL SECURITY;
ALTER TABLE price_book FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON price_book
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE price_book_version ENABLE ROW LEVEL SECURITY;
ALTER TABLE price_book_version FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON price_book_version
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE price_book_charge ENABLE ROW LEVEL SECURITY;
ALTER TABLE price_book_charge FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON price_book_charge
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE price_book_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE price_book_history FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON price_book_history
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
