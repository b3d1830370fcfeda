//! A schema-wide check that no function of a service schema depends on the caller's
//! `search_path`. Trigger functions run with the session's: an operator's psql session (default
//! `"$user", public`) would otherwise meet "function … does not exist" instead of the guard's own
//! refusal, and a function resolving names late could be pointed at another schema's objects.

use sqlx::PgPool;

/// The functions of `schema` whose settings do not pin `search_path`, as `name(argument types)`.
pub async fn functions_without_pinned_search_path(pool: &PgPool, schema: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE n.nspname = $1
            AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) AS c(setting)
                             WHERE c.setting LIKE 'search\\_path=%')
          ORDER BY 1",
    )
    .bind(schema)
    .fetch_all(pool)
    .await
    .expect("read the schema's functions")
}

/// Asserts that every function of `schema` pins its `search_path` (a migration that adds one
/// ends with `ALTER FUNCTION … SET search_path FROM CURRENT`).
pub async fn assert_functions_pin_search_path(pool: &PgPool, schema: &str) {
    let unpinned = functions_without_pinned_search_path(pool, schema).await;
    assert!(
        unpinned.is_empty(),
        "functions of {schema} that resolve names with the caller's search_path: {unpinned:?}"
    );
}
