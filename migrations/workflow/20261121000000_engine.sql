-- Embedded Zeebe-compatible workflow engine (ADR 0014). All state lives here; the engine
-- process keeps nothing that a restart would lose.

-- Zeebe-style 64-bit keys for every record (deployments, definitions, instances, element
-- instances, jobs, incidents), starting where partition 1 of a Zeebe cluster starts.
CREATE SEQUENCE record_key START WITH 2251799813685249;

CREATE TABLE deployment (
    deployment_key bigint PRIMARY KEY DEFAULT nextval('record_key'),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE process_definition (
    process_definition_key bigint PRIMARY KEY DEFAULT nextval('record_key'),
    deployment_key bigint NOT NULL REFERENCES deployment,
    bpmn_process_id text NOT NULL,
    version integer NOT NULL CHECK (version > 0),
    resource_name text NOT NULL,
    -- SHA-256 of the whole resource: redeploying identical content yields the same version.
    checksum bytea NOT NULL,
    bpmn_xml text NOT NULL,
    deployed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT process_definition_version_key UNIQUE (bpmn_process_id, version),
    CONSTRAINT process_definition_checksum_key UNIQUE (bpmn_process_id, checksum)
);

CREATE TABLE process_instance (
    process_instance_key bigint PRIMARY KEY DEFAULT nextval('record_key'),
    process_definition_key bigint NOT NULL REFERENCES process_definition,
    bpmn_process_id text NOT NULL,
    version integer NOT NULL,
    state text NOT NULL CHECK (state IN ('ACTIVE', 'COMPLETED', 'CANCELED')),
    created_at timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz
);

-- Tokens waiting in an element: service tasks (with their job) and elements held by an
-- incident. Pass-through elements (gateways, events) are stepped inside one transaction and
-- leave no row unless they raise an incident.
CREATE TABLE element_instance (
    element_instance_key bigint PRIMARY KEY DEFAULT nextval('record_key'),
    process_instance_key bigint NOT NULL REFERENCES process_instance ON DELETE CASCADE,
    element_id text NOT NULL,
    state text NOT NULL CHECK (state IN ('ACTIVE', 'COMPLETED', 'TERMINATED')),
    -- What resolving an incident on this element re-runs.
    resume text NOT NULL DEFAULT 'ACTIVATE' CHECK (resume IN ('ACTIVATE', 'COMPLETE')),
    -- The job's (or error's) variables, kept for output mappings re-run after an incident.
    completion_variables jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX element_instance_active_idx ON element_instance (process_instance_key)
    WHERE state = 'ACTIVE';

-- Tokens that reached a parallel join through one incoming flow and wait for the others.
CREATE TABLE join_arrival (
    join_arrival_id bigserial PRIMARY KEY,
    process_instance_key bigint NOT NULL REFERENCES process_instance ON DELETE CASCADE,
    element_id text NOT NULL,
    flow_id text NOT NULL
);
CREATE INDEX join_arrival_gateway_idx ON join_arrival (process_instance_key, element_id);

-- Variables per scope: the process instance key for instance variables, an element instance
-- key for an element's local (input-mapped) variables.
CREATE TABLE variable (
    scope_key bigint NOT NULL,
    name text NOT NULL,
    process_instance_key bigint NOT NULL REFERENCES process_instance ON DELETE CASCADE,
    value jsonb NOT NULL,
    PRIMARY KEY (scope_key, name)
);
CREATE INDEX variable_instance_idx ON variable (process_instance_key);

-- Jobs for workers. A completed job row is deleted: completing it again is NOT_FOUND, as in
-- Zeebe. Activatable = ACTIVATABLE and due, or ACTIVATED with its deadline passed.
CREATE TABLE job (
    job_key bigint PRIMARY KEY DEFAULT nextval('record_key'),
    job_type text NOT NULL,
    process_instance_key bigint NOT NULL REFERENCES process_instance ON DELETE CASCADE,
    element_instance_key bigint NOT NULL REFERENCES element_instance ON DELETE CASCADE,
    element_id text NOT NULL,
    bpmn_process_id text NOT NULL,
    process_definition_key bigint NOT NULL,
    process_definition_version integer NOT NULL,
    state text NOT NULL CHECK (state IN ('ACTIVATABLE', 'ACTIVATED', 'FAILED', 'ERROR_THROWN')),
    retries integer NOT NULL,
    custom_headers jsonb NOT NULL,
    worker text,
    deadline timestamptz,
    -- Back-off after a failure: not activatable before this instant.
    due_at timestamptz NOT NULL DEFAULT now(),
    error_message text,
    created_at timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 80);
CREATE INDEX job_activatable_idx ON job (job_type, due_at, job_key) WHERE state = 'ACTIVATABLE';
CREATE INDEX job_activated_idx ON job (job_type, deadline) WHERE state = 'ACTIVATED';

CREATE TABLE incident (
    incident_key bigint PRIMARY KEY DEFAULT nextval('record_key'),
    process_instance_key bigint NOT NULL REFERENCES process_instance ON DELETE CASCADE,
    element_instance_key bigint NOT NULL REFERENCES element_instance ON DELETE CASCADE,
    element_id text NOT NULL,
    job_key bigint,
    error_type text NOT NULL CHECK (error_type IN ('JOB_NO_RETRIES', 'CONDITION_ERROR',
        'IO_MAPPING_ERROR', 'EXTRACT_VALUE_ERROR', 'UNHANDLED_ERROR_EVENT')),
    error_message text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incident_instance_idx ON incident (process_instance_key);
