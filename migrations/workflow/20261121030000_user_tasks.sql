-- Camunda user tasks (zeebe:userTask) of the embedded engine (ADR 0014). The token waits in
-- the task's element instance; this row is what task lists search, assign and complete through
-- the engine's REST API (shaped like Camunda 8's /v2/user-tasks). Rows stay after the task
-- ends (COMPLETED or CANCELED), so a second completion is answered 409, not 404.
CREATE TABLE user_task (
    user_task_key bigint PRIMARY KEY DEFAULT nextval('record_key'),
    element_instance_key bigint NOT NULL REFERENCES element_instance ON DELETE CASCADE,
    process_instance_key bigint NOT NULL REFERENCES process_instance ON DELETE CASCADE,
    process_definition_key bigint NOT NULL,
    process_definition_version integer NOT NULL,
    bpmn_process_id text NOT NULL,
    element_id text NOT NULL,
    name text,
    state text NOT NULL CHECK (state IN ('CREATED', 'COMPLETED', 'CANCELED')),
    assignee text,
    candidate_groups text[] NOT NULL DEFAULT '{}',
    candidate_users text[] NOT NULL DEFAULT '{}',
    due_date timestamptz,
    follow_up_date timestamptz,
    -- zeebe:formDefinition formKey / externalReference, handed to task lists unchanged.
    external_form_reference text,
    priority integer NOT NULL DEFAULT 50 CHECK (priority BETWEEN 0 AND 100),
    creation_date timestamptz NOT NULL DEFAULT now(),
    completion_date timestamptz,
    CONSTRAINT user_task_element_instance_key UNIQUE (element_instance_key)
);
CREATE INDEX user_task_open_idx ON user_task (creation_date, user_task_key) WHERE state = 'CREATED';
CREATE INDEX user_task_instance_idx ON user_task (process_instance_key);
CREATE INDEX user_task_assignee_idx ON user_task (assignee) WHERE assignee IS NOT NULL;
CREATE INDEX user_task_candidate_groups_idx ON user_task USING gin (candidate_groups);
