-- What CPQ's cross-tenant job, the quote expiry, runs as `cpq_jobs` (ADR 0030,
-- docs/runbooks/cpq.md). The platform migrations create the role (BYPASSRLS, no superuser,
-- owns nothing) and grant it the relay's, the purge's and the consumers' tables; this file grants
-- only what the expiry does, in one transaction per batch:
-- * quote: SELECT, and UPDATE: it locks due quotes `FOR UPDATE SKIP LOCKED` and writes the
--   EXPIRED root through the same statement every command uses (`quote_guard` still checks the
--   transition). No INSERT, no DELETE.
-- * quote_item, quote_price_snapshot, quote_price_override: SELECT (the quote is read whole
--   before it expires); never written by the expiry.
-- * quote_history: INSERT (the EXPIRE row; the table is append-only).
-- * outbox_event, outbox_pending: INSERT, the quote's `cpq.quote.expired.v1` event and its audit
--   evidence, written the way commands write events (the platform grants the SELECT that the
--   insert's `RETURNING outbox_seq` needs).
-- * quote_conversion: nothing. A converted quote never expires, so its conversion is never read.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cpq_jobs') THEN
        RAISE EXCEPTION 'cpq_jobs does not exist: the platform migration 20261208000001_jobs_role creates it';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cpq_jobs' AND rolsuper)
       OR pg_has_role('cpq_jobs', current_user, 'MEMBER') THEN
        RAISE EXCEPTION 'cpq_jobs must be no superuser and no member of the schema owner %', current_user;
    END IF;
END $$;

GRANT SELECT, UPDATE ON quote TO cpq_jobs;
GRANT SELECT ON quote_item TO cpq_jobs;
GRANT SELECT ON quote_price_snapshot TO cpq_jobs;
GRANT SELECT ON quote_price_override TO cpq_jobs;
GRANT INSERT ON quote_history TO cpq_jobs;
GRANT INSERT ON outbox_event TO cpq_jobs;
GRANT INSERT ON outbox_pending TO cpq_jobs;
