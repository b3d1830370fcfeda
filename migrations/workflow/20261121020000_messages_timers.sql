-- Messages and timers (ADR 0014, second slice). Waiting events hold an element_instance row
-- (the catch event's own, or the task a boundary event is attached to); the rows below say
-- what they wait for and are deleted when that element instance is left.

-- Published messages, buffered until expires_at (TTL 0 ⇒ expires at once, never buffered).
CREATE TABLE message (
    message_key bigint PRIMARY KEY DEFAULT nextval('record_key'),
    name text NOT NULL,
    correlation_key text NOT NULL,
    -- Optional publisher id: a second publish with the same (name, correlation key, id) while
    -- the first is buffered is refused (ALREADY_EXISTS), as in Zeebe.
    message_id text,
    variables jsonb NOT NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX message_correlation_idx ON message (name, correlation_key, message_key);
CREATE INDEX message_expiry_idx ON message (expires_at);

-- A message correlates at most once per BPMN process id (across versions), as in Zeebe.
CREATE TABLE message_correlation (
    message_key bigint NOT NULL REFERENCES message ON DELETE CASCADE,
    bpmn_process_id text NOT NULL,
    process_instance_key bigint NOT NULL,
    PRIMARY KEY (message_key, bpmn_process_id)
);

-- Open subscriptions of message catch events and message boundary events.
CREATE TABLE message_subscription (
    message_subscription_key bigint PRIMARY KEY DEFAULT nextval('record_key'),
    process_instance_key bigint NOT NULL REFERENCES process_instance ON DELETE CASCADE,
    bpmn_process_id text NOT NULL,
    -- The waiting element instance (catch event, or the task the boundary is attached to).
    element_instance_key bigint NOT NULL REFERENCES element_instance ON DELETE CASCADE,
    -- The event that fires (catch event or boundary event id).
    element_id text NOT NULL,
    message_name text NOT NULL,
    correlation_key text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX message_subscription_match_idx ON message_subscription (message_name, correlation_key);
CREATE INDEX message_subscription_element_idx ON message_subscription (element_instance_key);

-- Timers of timer catch events and timer boundary events; claimed by the scheduler with
-- FOR UPDATE SKIP LOCKED once due.
CREATE TABLE timer (
    timer_key bigint PRIMARY KEY DEFAULT nextval('record_key'),
    process_instance_key bigint NOT NULL REFERENCES process_instance ON DELETE CASCADE,
    element_instance_key bigint NOT NULL REFERENCES element_instance ON DELETE CASCADE,
    element_id text NOT NULL,
    due_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX timer_due_idx ON timer (due_at);
CREATE INDEX timer_element_idx ON timer (element_instance_key);
