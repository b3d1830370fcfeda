-- The narrow role of the work that crosses tenants (ADR 0030), for the platform tables of every
-- service schema.
--
-- The outbox relay, its housekeeping, `/ops/messaging`, the idempotency purge, event consumers
-- and a service's own background jobs (CPQ's quote expiry) must see every tenant's rows, which
-- row-level security hides from `<service>_app`. They used to run as the schema owner, who can
-- also run DDL. They now connect as `<service>_jobs` (`catalog_jobs`, `cpq_jobs`; the name
-- `service-host` connects as unless APP__DATABASE__JOBS_URL says otherwise): a login role with
-- `BYPASSRLS` that is no superuser, owns nothing, is no member of the owner and gets, table by
-- table, only the statements that work runs. It cannot create, alter or drop anything.
--
-- Creating a `BYPASSRLS` role needs a superuser (PostgreSQL 15; from 16 a `CREATEROLE` role that
-- has `BYPASSRLS` itself). Locally the owner is the superuser and this file creates the role
-- when it is missing, tolerating a concurrent creator in another database as the app role's
-- creation does. Where the owner may not, the migration fails and names the statement that
-- provisions the role: skipping would record this file as applied without its grants, and a role
-- provisioned later would never get them. Production provisions the role and its password
-- beforehand (runbooks); this file then only checks it and grants.
--
-- What the jobs role gets, table by table (only what the code runs):
-- * outbox_event: SELECT (the relay reads messages queued without one from the log, copies a
--   poison row's identity into its dead letter, pruning and the backlog read it), UPDATE of
--   `dead_lettered_at` only (marking a dead-lettered event; the message itself stays as written),
--   DELETE (pruning published events past the retention). No INSERT here: a service whose job
--   writes events grants that in its own migration (CPQ's expiry).
-- * outbox_pending: SELECT, UPDATE of the retry columns only (`attempts`, `next_attempt_at`,
--   `last_error`), DELETE (a published or dead-lettered row leaves the queue).
-- * outbox_key_bucket: SELECT, and UPDATE because a claim locks its buckets `FOR UPDATE`.
-- * outbox_dead_letter: SELECT (`ON CONFLICT (outbox_seq)` and `/ops/messaging`), INSERT.
-- * inbox_message: SELECT (`ON CONFLICT` on the key, the stale-marking UPDATE's key), INSERT,
--   UPDATE of `outcome` only.
-- * inbox_aggregate_version: SELECT, INSERT, UPDATE of `aggregate_version` only (the upsert of
--   the version guard).
-- * consumer_dead_letter: INSERT, and SELECT of the key columns only (`ON CONFLICT` and the
--   per-group counts of `/ops/messaging`): never the dead-lettered payloads.
-- * idempotency_record: DELETE, and SELECT of `expires_at` only (the purge's condition): never
--   the stored responses, which are tenants' data.
-- * the migration bookkeeping tables: nothing.
-- The queue's VACUUM needs the table's owner (PostgreSQL 15 has no MAINTAIN privilege): the relay
-- runs that one statement on the owner's pool, which `service-host` keeps at one connection.

DO $$
DECLARE
    jobs_role text := regexp_replace(current_schema(), '_schema$', '') || '_jobs';
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = jobs_role) THEN
        BEGIN
            EXECUTE format(
                'CREATE ROLE %I LOGIN BYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION',
                jobs_role);
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN
                -- A migration of another database created it between the check and here
                -- (duplicate_object), or is creating it right now (unique_violation on pg_authid).
                NULL;
            WHEN insufficient_privilege THEN
                RAISE EXCEPTION 'role % does not exist and % may not create a BYPASSRLS role',
                    jobs_role, current_user
                    USING HINT = format(
                        'Provision it before the first start, as a superuser: CREATE ROLE %I LOGIN '
                        'PASSWORD ''…'' BYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE; then set '
                        'APP__DATABASE__JOBS_URL (docs/runbooks).', jobs_role);
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = jobs_role AND rolsuper)
       OR pg_has_role(jobs_role, current_user, 'MEMBER') THEN
        RAISE EXCEPTION 'role % must be no superuser and no member of the schema owner %',
            jobs_role, current_user;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', current_schema(), jobs_role);
    EXECUTE format('GRANT SELECT, DELETE ON outbox_event TO %I', jobs_role);
    EXECUTE format('GRANT UPDATE (dead_lettered_at) ON outbox_event TO %I', jobs_role);
    EXECUTE format('GRANT SELECT, DELETE ON outbox_pending TO %I', jobs_role);
    EXECUTE format(
        'GRANT UPDATE (attempts, next_attempt_at, last_error) ON outbox_pending TO %I', jobs_role);
    EXECUTE format('GRANT SELECT, UPDATE ON outbox_key_bucket TO %I', jobs_role);
    EXECUTE format('GRANT SELECT, INSERT ON outbox_dead_letter TO %I', jobs_role);
    EXECUTE format('GRANT SELECT, INSERT ON inbox_message TO %I', jobs_role);
    EXECUTE format('GRANT UPDATE (outcome) ON inbox_message TO %I', jobs_role);
    EXECUTE format('GRANT SELECT, INSERT ON inbox_aggregate_version TO %I', jobs_role);
    EXECUTE format('GRANT UPDATE (aggregate_version) ON inbox_aggregate_version TO %I', jobs_role);
    EXECUTE format(
        'GRANT SELECT (consumer_group, topic, kafka_partition, kafka_offset), INSERT '
        'ON consumer_dead_letter TO %I', jobs_role);
    EXECUTE format('GRANT SELECT (expires_at), DELETE ON idempotency_record TO %I', jobs_role);
END $$;
