-- Claiming a row only touches locked_until and attempts. With no index mentioning those columns
-- (not even in a predicate) and free space on each page, PostgreSQL can update the row in place
-- (a HOT update) instead of inserting a new entry into every index, which is most of a claim's
-- cost. Measured with `cargo bench -p messaging --bench relay`.
DROP INDEX outbox_event_in_flight_idx;
DROP INDEX outbox_event_published_idx;
ALTER TABLE outbox_event SET (fillfactor = 70);
