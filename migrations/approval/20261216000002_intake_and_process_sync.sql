-- Issue 21, wiring: the consumer of CPQ's submissions opens requests on the jobs role, and each
-- PENDING request is linked to the `quote-approval` instance that offers its levels as user
-- tasks (services/approval/src/infra/process_sync.rs).

---------------------------------------------------------------------------------------------
-- approval_process: a request's engine instance
---------------------------------------------------------------------------------------------
-- Kept beside the request, not in it: starting or cancelling an instance is not a transition of
-- the request (its guard refuses any change that does not bump its version), and the link is
-- written after the engine answered, with no lock held across the call.
CREATE TABLE approval_process (
    tenant_id            text        NOT NULL,
    approval_request_id  uuid        NOT NULL,
    process_instance_key bigint      NOT NULL CHECK (process_instance_key > 0),
    started_at           timestamptz NOT NULL DEFAULT now(),
    -- When the instance was cancelled (or found ended) because the request no longer waits.
    closed_at            timestamptz,
    PRIMARY KEY (tenant_id, approval_request_id),
    CONSTRAINT approval_process_request_fkey FOREIGN KEY (tenant_id, approval_request_id)
        REFERENCES approval_request (tenant_id, approval_request_id),
    CONSTRAINT approval_process_instance_unique UNIQUE (process_instance_key),
    CONSTRAINT approval_process_closed_after_start CHECK (closed_at IS NULL OR closed_at >= started_at)
);
-- The sync's work list: links whose instance may still run.
CREATE INDEX approval_process_open_idx ON approval_process (started_at) WHERE closed_at IS NULL;
-- And PENDING requests without a link (the anti-join reads the request side by status).
CREATE INDEX approval_request_pending_idx ON approval_request (created_at) WHERE status = 'PENDING';

-- One instance per request for good: the link is never re-pointed nor deleted, and closing it
-- happens once.
CREATE FUNCTION approval_process_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM approval_refuse('approval_process_append_only', 'a request''s process link is never deleted');
    END IF;
    IF NEW.tenant_id <> OLD.tenant_id OR NEW.approval_request_id <> OLD.approval_request_id
       OR NEW.process_instance_key <> OLD.process_instance_key OR NEW.started_at <> OLD.started_at THEN
        PERFORM approval_refuse('approval_process_immutable', 'a request keeps the instance it was linked to');
    END IF;
    IF OLD.closed_at IS NOT NULL AND NEW.closed_at IS DISTINCT FROM OLD.closed_at THEN
        PERFORM approval_refuse('approval_process_closed_once', 'a closed process link stays closed');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER approval_process_guard BEFORE UPDATE OR DELETE ON approval_process
    FOR EACH ROW EXECUTE FUNCTION approval_process_guard();

ALTER TABLE approval_process ENABLE ROW LEVEL SECURITY;
ALTER TABLE approval_process FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON approval_process
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- Request handling reads the link (the approver's inbox joins engine tasks to requests by it).
GRANT SELECT ON approval_process TO approval_app;

---------------------------------------------------------------------------------------------
-- approval_jobs: what the consumer and the process sync add
---------------------------------------------------------------------------------------------
-- * approval_request, approval_level: INSERT — the consumer of `cpq.quote.submitted.v1` opens
--   requests of every tenant in its inbox transaction (the request's guard still admits only a
--   PENDING or NOT_REQUIRED row at version 1); UPDATE of `approved_at` for a request smart
--   re-approval approves at once.
-- * approval_history: SELECT — the aggregate is read whole (its escalation facts are restored
--   from history), by the consumer's supersession and re-approval and by expiry.
-- * approval_process: SELECT, INSERT (the link after the engine started the instance), UPDATE
--   of `closed_at` only.
GRANT SELECT ON approval_history TO approval_jobs;
GRANT INSERT ON approval_request TO approval_jobs;
GRANT UPDATE (approved_at) ON approval_request TO approval_jobs;
GRANT INSERT ON approval_level TO approval_jobs;
GRANT SELECT, INSERT ON approval_process TO approval_jobs;
GRANT UPDATE (closed_at) ON approval_process TO approval_jobs;
