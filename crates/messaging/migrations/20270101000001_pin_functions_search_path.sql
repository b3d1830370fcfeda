-- Trigger functions run with the calling session's search_path: an operator's psql session
-- (default "$user", public) met "function ... does not exist" instead of a guard's own refusal,
-- and a function that resolves names late could reach another schema's objects. This helper pins
-- every function of the current schema that does not pin its search_path yet to the caller's
-- search_path (a service's migrations run with it set to the service's schema) and returns how
-- many it pinned. Each service's last migration calls it after the functions it creates, so the
-- platform's functions, the service's and this one all end up pinned; the service's schema-guard
-- test (test_support::assert_functions_pin_search_path) fails if a later migration forgets.
CREATE FUNCTION pin_functions_search_path() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    f regprocedure;
    pinned integer := 0;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure FROM pg_proc p
         WHERE p.pronamespace = current_schema()::regnamespace
           AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) AS c(setting)
                            WHERE c.setting LIKE 'search\_path=%')
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path FROM CURRENT', f);
        pinned := pinned + 1;
    END LOOP;
    RETURN pinned;
END $$;
-- Only migrations (the schema's owner) call it.
REVOKE EXECUTE ON FUNCTION pin_functions_search_path() FROM PUBLIC;
