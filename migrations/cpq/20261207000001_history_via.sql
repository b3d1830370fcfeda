-- A call made on a user's behalf names the service it came through (ADR 0030): the history row
-- keeps the user as the actor and the service's client id as `via`; NULL when the user called
-- directly (and for every row written before this migration, which could not know).
-- Expand only: a nullable column, written by the code that ships with it; nothing to backfill.

ALTER TABLE quote_history
    ADD COLUMN via text CONSTRAINT quote_history_via_not_blank CHECK (via <> '');
