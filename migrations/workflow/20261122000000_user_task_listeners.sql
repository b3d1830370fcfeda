-- Completing task listeners on Camunda user tasks (ADR 0034). A completion of a task with
-- `completing` listeners is held: the task is COMPLETING and the request waits in a
-- user_task_completion row while the listener jobs run one after another. The last listener
-- allowing it completes the task with the stored variables; a denial returns the task to
-- CREATED and discards them. Expand only: existing rows keep their meaning.

ALTER TABLE user_task
    DROP CONSTRAINT user_task_state_check,
    ADD CONSTRAINT user_task_state_check
        CHECK (state IN ('CREATED', 'COMPLETING', 'COMPLETED', 'CANCELED'));

-- One row per completion request that met listeners; kept after it is decided, so denials
-- (with the listener's reason) stay visible to operators.
CREATE TABLE user_task_completion (
    completion_key bigint PRIMARY KEY DEFAULT nextval('record_key'),
    user_task_key bigint NOT NULL REFERENCES user_task ON DELETE CASCADE,
    process_instance_key bigint NOT NULL REFERENCES process_instance ON DELETE CASCADE,
    -- The variables the task completes with once every listener allowed it.
    variables jsonb NOT NULL,
    -- The request's action (`complete` unless the caller named another), for the listeners.
    action text NOT NULL,
    -- Position of the running listener among the task's completing listeners.
    listener_index integer NOT NULL DEFAULT 0 CHECK (listener_index >= 0),
    outcome text NOT NULL DEFAULT 'PENDING'
        CHECK (outcome IN ('PENDING', 'COMPLETED', 'DENIED', 'CANCELED')),
    denied_reason text,
    requested_at timestamptz NOT NULL DEFAULT now(),
    decided_at timestamptz,
    CONSTRAINT user_task_completion_decided CHECK ((outcome = 'PENDING') = (decided_at IS NULL)),
    CONSTRAINT user_task_completion_reason CHECK (denied_reason IS NULL OR outcome = 'DENIED')
);
-- A task has at most one completion in flight (it is COMPLETING while it does).
CREATE UNIQUE INDEX user_task_completion_pending_key ON user_task_completion (user_task_key)
    WHERE outcome = 'PENDING';
CREATE INDEX user_task_completion_instance_idx ON user_task_completion (process_instance_key);

-- Listener jobs live in the job table (ActivateJobs, retries, incidents work unchanged); they
-- point at the completion they decide. Zeebe's JobKind names.
ALTER TABLE job
    ADD COLUMN kind text NOT NULL DEFAULT 'BPMN_ELEMENT'
        CHECK (kind IN ('BPMN_ELEMENT', 'TASK_LISTENER')),
    ADD COLUMN completion_key bigint REFERENCES user_task_completion ON DELETE CASCADE,
    ADD CONSTRAINT job_listener_completion CHECK ((kind = 'TASK_LISTENER') = (completion_key IS NOT NULL));

-- A listener job without retries raises Zeebe's TASK_LISTENER_NO_RETRIES.
ALTER TABLE incident
    DROP CONSTRAINT incident_error_type_check,
    ADD CONSTRAINT incident_error_type_check CHECK (error_type IN ('JOB_NO_RETRIES',
        'TASK_LISTENER_NO_RETRIES', 'CONDITION_ERROR', 'IO_MAPPING_ERROR', 'EXTRACT_VALUE_ERROR',
        'UNHANDLED_ERROR_EVENT'));

-- LISTENER: resolving an incident on the element re-creates the job of the running listener
-- (its type or retries expression failed).
ALTER TABLE element_instance
    DROP CONSTRAINT element_instance_resume_check,
    ADD CONSTRAINT element_instance_resume_check CHECK (resume IN ('ACTIVATE', 'COMPLETE', 'LISTENER'));
