-- Tenants isolated in the database (ADR 0030), for the platform tables of every service schema.
--
-- Request handling connects as the service's app role, which owns nothing and cannot bypass
-- row-level security, and opens every transaction with `BEGIN; SET LOCAL app.tenant_id = '…'`
-- (`common_kernel::db::begin_for_tenant`). The schema owner (who runs these migrations) keeps the
-- cross-tenant work: the relay, consumers, the idempotency purge.
--
-- The app role is named after the schema: `<service>_schema` → `<service>_app` (`catalog_app`,
-- `cpq_app`), the name `service-host` connects as unless APP__DATABASE__APP_URL says otherwise.
-- Roles are cluster-wide while this file runs once per database (the development database, every
-- test database and template): creating the role tolerates a concurrent creator in another
-- database, and grants are per database and idempotent. Production provisions the role and its
-- password beforehand (runbooks); this file then only checks it and grants.
--
-- What the app role gets, table by table (only what request handling does):
-- * idempotency_record: tenant_id; RLS; SELECT, INSERT, UPDATE, DELETE (claim, replay, complete,
--   release). The purge of expired records crosses tenants and runs on the owner's pool.
-- * outbox_event: tenant_id; RLS; INSERT, and SELECT for the `RETURNING outbox_seq` of the one
--   statement that writes an event and its queue row.
-- * outbox_pending: no tenant column, and none is added: it is the relay's queue, which the
--   owner's pool reads, updates and deletes across tenants. The app role may only INSERT into it
--   (in that same statement), never read, change or delete a queued message, so no tenant can see
--   another's; a policy would add nothing but a copy of the tenant on every queued row.
-- * outbox_key_bucket, outbox_dead_letter: the relay's alone; nothing.
-- * inbox_message, inbox_aggregate_version, consumer_dead_letter: keyed by consumer group and
--   message id, without a tenant; consumers handle every tenant's events and run on the owner's
--   pool; nothing.
-- The identity sequences (outbox_seq) need no grant: an identity column's sequence is advanced by
-- the INSERT itself.

DO $$
DECLARE
    app_role text := regexp_replace(current_schema(), '_schema$', '') || '_app';
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app_role) THEN
        BEGIN
            EXECUTE format(
                'CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS',
                app_role);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            -- A migration of another database created it between the check and here
            -- (duplicate_object), or is creating it right now (unique_violation on pg_authid).
            NULL;
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app_role AND (rolsuper OR rolbypassrls))
       OR pg_has_role(app_role, current_user, 'MEMBER') THEN
        RAISE EXCEPTION 'role % must not bypass row-level security nor act as the schema owner %',
            app_role, current_user;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', current_schema(), app_role);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_record TO %I', app_role);
    EXECUTE format('GRANT SELECT, INSERT ON outbox_event TO %I', app_role);
    EXECUTE format('GRANT INSERT ON outbox_pending TO %I', app_role);
END $$;

ALTER TABLE outbox_event ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbox_event FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON outbox_event
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE idempotency_record ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_record FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON idempotency_record
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
