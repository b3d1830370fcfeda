-- A pending row carries the whole Kafka message (ADR 0018): headers as columns and the envelope as
-- the exact text to send. The relay then reads the queue alone, in commit order, instead of
-- looking up each event in the log and rendering its jsonb envelope as text, which was most of
-- the relay's database time. The copy lives only until the broker acknowledges the event.
--
-- Expand-only: the columns are nullable and not backfilled. A row without a message (written
-- before this migration, or by an older writer during a rolling deploy) is read from the log.
ALTER TABLE outbox_pending
    ADD COLUMN event_id       uuid,
    ADD COLUMN event_type     text,
    ADD COLUMN event_version  integer,
    ADD COLUMN occurred_at    timestamptz,
    ADD COLUMN correlation_id text,
    ADD COLUMN causation_id   text,
    ADD COLUMN traceparent    text,
    ADD COLUMN envelope       json,
    -- The headers the relay sends are the envelope's own identity, never something else. A
    -- missing field makes a comparison NULL, which a CHECK would let through: hence coalesce.
    ADD CONSTRAINT outbox_pending_message_consistent CHECK (
        envelope IS NULL OR coalesce(
            json_typeof(envelope) = 'object'
            AND occurred_at IS NOT NULL
            AND envelope->>'eventId' = event_id::text
            AND envelope->>'eventType' = event_type
            AND envelope->>'eventVersion' = event_version::text, false));
