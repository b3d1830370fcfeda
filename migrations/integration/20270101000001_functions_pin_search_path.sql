-- Every function of this schema (the platform's included) resolves names in this schema only,
-- whatever search_path the calling session has (crates/messaging/migrations, 20270101000001).
SELECT pin_functions_search_path();
