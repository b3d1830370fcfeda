-- Vacuuming the queue never truncates it (ADR 0020). Truncation needs an ACCESS EXCLUSIVE lock:
-- while any command transaction holds its ordinary lock on the queue, VACUUM retries for up to
-- five seconds and gives up, and when it does get the lock every command that writes an event
-- waits behind it. The queue refills at once, so the empty pages it would give back are
-- reused anyway. Applies to autovacuum and to the relay's own vacuum alike.
ALTER TABLE outbox_pending SET (vacuum_truncate = false);
