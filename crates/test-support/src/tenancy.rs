//! A schema-wide check of tenant isolation (ADR 0030), so a table added without row-level
//! security fails its service's tests instead of leaking.

use sqlx::PgPool;

/// What one table of a service schema looks like to the isolation rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableIsolation {
    /// Table name.
    pub table: String,
    /// Whether it has a `tenant_id` column.
    pub has_tenant: bool,
    /// Row-level security enabled and forced (the owner included).
    pub forced_rls: bool,
    /// Its policies' `USING` and `WITH CHECK` expressions, as PostgreSQL prints them.
    pub policies: Vec<(String, String)>,
    /// The privileges `app_role` holds on it (`SELECT`, `INSERT`, …), sorted.
    pub app_privileges: Vec<String>,
}

/// One row of the isolation query: table, has tenant, forced RLS, policies' USING and CHECK
/// expressions, the app role's privileges.
type IsolationRow = (String, bool, bool, Vec<String>, Vec<String>, Vec<String>);

/// Every ordinary table of `schema` with its isolation facts for `app_role`, by table name.
pub async fn table_isolation(pool: &PgPool, schema: &str, app_role: &str) -> Vec<TableIsolation> {
    let rows: Vec<IsolationRow> = sqlx::query_as(
        "SELECT c.relname::text,
                EXISTS (SELECT 1 FROM pg_attribute a
                         WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped),
                c.relrowsecurity AND c.relforcerowsecurity,
                coalesce((SELECT array_agg(coalesce(p.qual, '') ORDER BY p.policyname)
                            FROM pg_policies p WHERE p.schemaname = $1 AND p.tablename = c.relname), '{}'),
                coalesce((SELECT array_agg(coalesce(p.with_check, '') ORDER BY p.policyname)
                            FROM pg_policies p WHERE p.schemaname = $1 AND p.tablename = c.relname), '{}'),
                coalesce((SELECT array_agg(g.privilege_type::text ORDER BY g.privilege_type)
                            FROM information_schema.role_table_grants g
                           WHERE g.table_schema = $1 AND g.table_name = c.relname
                             AND g.grantee = $2), '{}')
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
          ORDER BY c.relname",
    )
    .bind(schema)
    .bind(app_role)
    .fetch_all(pool)
    .await
    .expect("read the schema's isolation facts");
    rows.into_iter()
        .map(
            |(table, has_tenant, forced_rls, using, checks, app_privileges)| TableIsolation {
                table,
                has_tenant,
                forced_rls,
                policies: using.into_iter().zip(checks).collect(),
                app_privileges,
            },
        )
        .collect()
}

/// The one policy expression every tenant table carries, as PostgreSQL prints it back.
pub const TENANT_POLICY: &str = "(tenant_id = current_setting('app.tenant_id'::text, true))";

/// Asserts the isolation rules over every table of `schema`: a table the app role can touch
/// has a tenant, forced row-level security and exactly the tenant policy, unless it is one of
/// `tenantless` (named with the privileges the role may hold there, e.g. an insert-only queue).
pub async fn assert_schema_isolated(
    pool: &PgPool,
    schema: &str,
    app_role: &str,
    tenantless: &[(&str, &[&str])],
) {
    let tables = table_isolation(pool, schema, app_role).await;
    assert!(!tables.is_empty(), "{schema} has no tables");
    let mut faults = Vec::new();
    for facts in &tables {
        if let Some((_, allowed)) = tenantless.iter().find(|(name, _)| *name == facts.table) {
            if !facts
                .app_privileges
                .iter()
                .all(|p| allowed.contains(&p.as_str()))
            {
                faults.push(format!(
                    "{}: {app_role} holds {:?}, only {allowed:?} allowed",
                    facts.table, facts.app_privileges
                ));
            }
            continue;
        }
        if facts.app_privileges.is_empty() {
            continue;
        }
        let policy_ok = !facts.policies.is_empty()
            && facts
                .policies
                .iter()
                .all(|(using, check)| using == TENANT_POLICY && check == TENANT_POLICY);
        if !facts.has_tenant || !facts.forced_rls || !policy_ok {
            faults.push(format!("{}: {facts:?}", facts.table));
        }
    }
    assert!(
        faults.is_empty(),
        "tables {app_role} can reach without tenant isolation:\n{}",
        faults.join("\n")
    );
}

/// What the platform migrations grant every service's `<service>_jobs` role
/// (`crates/messaging/migrations/20261208000001_jobs_role.sql`), in [`role_grants`]'s form: a
/// service's test adds what its own jobs are granted and compares.
pub const PLATFORM_JOBS_GRANTS: [&str; 25] = [
    "consumer_dead_letter(consumer_group): SELECT",
    "consumer_dead_letter(kafka_offset): SELECT",
    "consumer_dead_letter(kafka_partition): SELECT",
    "consumer_dead_letter(topic): SELECT",
    "consumer_dead_letter: INSERT",
    "idempotency_record(expires_at): SELECT",
    "idempotency_record: DELETE",
    "inbox_aggregate_version(aggregate_version): UPDATE",
    "inbox_aggregate_version: INSERT",
    "inbox_aggregate_version: SELECT",
    "inbox_message(outcome): UPDATE",
    "inbox_message: INSERT",
    "inbox_message: SELECT",
    "outbox_dead_letter: INSERT",
    "outbox_dead_letter: SELECT",
    "outbox_event(dead_lettered_at): UPDATE",
    "outbox_event: DELETE",
    "outbox_event: SELECT",
    "outbox_key_bucket: SELECT",
    "outbox_key_bucket: UPDATE",
    "outbox_pending(attempts): UPDATE",
    "outbox_pending(last_error): UPDATE",
    "outbox_pending(next_attempt_at): UPDATE",
    "outbox_pending: DELETE",
    "outbox_pending: SELECT",
];

/// Everything `role` may do in `schema`, for a test that pins a role to exactly its grants (the
/// jobs role, ADR 0030): `table: PRIVILEGE` for a table-level grant, `table(column): PRIVILEGE`
/// for a column's, and `member of <role>` for each role it belongs to, sorted.
pub async fn role_grants(pool: &PgPool, schema: &str, role: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT grant_text FROM (
         SELECT c.relname || ': ' || a.privilege_type
           FROM pg_class c, aclexplode(c.relacl) a
          WHERE c.relnamespace = $1::text::regnamespace AND a.grantee = $2::text::regrole
         UNION ALL
         SELECT c.relname || '(' || att.attname || '): ' || a.privilege_type
           FROM pg_class c JOIN pg_attribute att ON att.attrelid = c.oid, aclexplode(att.attacl) a
          WHERE c.relnamespace = $1::text::regnamespace AND a.grantee = $2::text::regrole
         UNION ALL
         SELECT 'member of ' || m.roleid::regrole::text
           FROM pg_auth_members m WHERE m.member = $2::text::regrole
         ) AS grants(grant_text)
          ORDER BY grant_text COLLATE \"C\"",
    )
    .bind(schema)
    .bind(role)
    .fetch_all(pool)
    .await
    .expect("read the role's grants")
}
