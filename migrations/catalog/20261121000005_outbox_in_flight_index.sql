-- The relay asks "which keys have a row in flight (leased or backing off)?" on every claim; this
-- keeps that question proportional to the rows in flight, not to the backlog.
CREATE INDEX outbox_event_in_flight_idx ON outbox_event (topic, partition_key)
    WHERE published_at IS NULL AND dead_lettered_at IS NULL AND (locked_until IS NOT NULL OR attempts > 0);
