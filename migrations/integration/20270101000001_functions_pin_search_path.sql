-- Every function of this schema (the platform's included) resolves names in this schema only,
-- whatever search_path the calling session has. Trigger functions run with the caller's: an
-- operator's psql session (default "$user", public) met "function ... does not exist" instead of
-- the guard's own refusal. FROM CURRENT is the migration's search_path, the service's schema.
-- A later migration that adds a function pins it the same way; the service's schema-guard test
-- (test_support::assert_functions_pin_search_path) fails otherwise.
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure FROM pg_proc p
         WHERE p.pronamespace = current_schema()::regnamespace
           AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) AS c(setting)
                            WHERE c.setting LIKE 'search\_path=%')
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path FROM CURRENT', f);
    END LOOP;
END $$;
