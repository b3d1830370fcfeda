-- Runs once, when the compose stack's PostgreSQL volume is first initialised
-- (/docker-entrypoint-initdb.d). ADR 0030: each service handles requests as <service>_app, a
-- login role that cannot bypass row-level security and owns nothing; its migrations create the
-- role without a password when it is missing, which suits trust authentication (./dev up) but
-- not this PostgreSQL, which asks for passwords. So the roles are created here first, with
-- passwords the services' APP__DATABASE__APP_URL carries. The passwords are for local use only:
-- production provisions its own roles and secrets (docs/runbooks/catalog.md, cpq.md,
-- integration.md, order.md, audit.md, ops.md).
-- The work that crosses tenants (relay, /ops/messaging, idempotency purge, quote expiry, the
-- order's consumers and process starter) runs as <service>_jobs: BYPASSRLS, but no superuser,
-- owner of nothing, granted table by table by the migrations
-- (crates/messaging/migrations/20261208000001_jobs_role.sql).
CREATE ROLE catalog_app LOGIN PASSWORD 'catalog-app-local-only'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE ROLE cpq_app LOGIN PASSWORD 'cpq-app-local-only'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE ROLE catalog_jobs LOGIN PASSWORD 'catalog-jobs-local-only'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION BYPASSRLS;
CREATE ROLE cpq_jobs LOGIN PASSWORD 'cpq-jobs-local-only'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION BYPASSRLS;
CREATE ROLE approval_app LOGIN PASSWORD 'approval-app-local-only'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE ROLE approval_jobs LOGIN PASSWORD 'approval-jobs-local-only'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION BYPASSRLS;
CREATE ROLE integration_app LOGIN PASSWORD 'integration-app-local-only'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE ROLE integration_jobs LOGIN PASSWORD 'integration-jobs-local-only'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION BYPASSRLS;
CREATE ROLE order_app LOGIN PASSWORD 'order-app-local-only'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE ROLE order_jobs LOGIN PASSWORD 'order-jobs-local-only'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION BYPASSRLS;
-- The audit service: its roles may only insert and select evidence (migrations/audit).
CREATE ROLE audit_app LOGIN PASSWORD 'audit-app-local-only'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE ROLE audit_jobs LOGIN PASSWORD 'audit-jobs-local-only'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION BYPASSRLS;
-- The ops service: read views only (migrations/ops).
CREATE ROLE ops_app LOGIN PASSWORD 'ops-app-local-only'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE ROLE ops_jobs LOGIN PASSWORD 'ops-jobs-local-only'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION BYPASSRLS;
