-- Operator views (ADR 0014): incidents are kept after resolution so operators can see what
-- happened. Expand only: existing rows are ACTIVE (resolved incidents used to be deleted).
ALTER TABLE incident
    ADD COLUMN state text NOT NULL DEFAULT 'ACTIVE' CHECK (state IN ('ACTIVE', 'RESOLVED')),
    ADD COLUMN resolved_at timestamptz;
CREATE INDEX incident_active_idx ON incident (created_at, incident_key) WHERE state = 'ACTIVE';
