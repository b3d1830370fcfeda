//! The jobs role (ADR 0030): `catalog_jobs` crosses tenants on the platform tables, runs nothing
//! it was not granted and no DDL, and `check_jobs_role` refuses a role that could do more or
//! that cannot cross tenants. The relay, consumer and `/ops/messaging` tests run on this role's
//! pool too, which proves its grants suffice for them.

use std::time::Duration;

use common_kernel::db::{self, DbError};
use common_kernel::idempotency::CommandRunner;
use common_kernel::settings::{DatabaseSettings, Secret, app_database_url};
use sqlx::PgPool;

use crate::support::{Db, database};

/// The SQLSTATE of a refused statement.
fn refusal<T: std::fmt::Debug>(what: &str, result: Result<T, sqlx::Error>) -> String {
    match result {
        Err(sqlx::Error::Database(db)) => db.code().unwrap_or_default().into_owned(),
        other => panic!("{what}: expected a refusal, got {other:?}"),
    }
}

/// One outbox event and one expired idempotency record for each of two tenants, written by the
/// owner.
async fn two_tenants(db: &Db) {
    for tenant in ["acme", "globex"] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "INSERT INTO outbox_event (event_id, topic, partition_key, event_type, event_version, \
               aggregate_type, aggregate_id, aggregate_version, tenant_id, envelope, occurred_at) \
             VALUES (gen_random_uuid(), 't', 'k', 'x.created.v1', 1, 'X', '1', 1, '{tenant}', '{{}}', now()); \
             INSERT INTO idempotency_record (tenant_id, idempotency_key, command_type, request_hash, \
               status, lease_token, locked_until, expires_at) \
             VALUES ('{tenant}', 'key', 'c', 'h', 'IN_PROGRESS', gen_random_uuid(), now(), \
               now() - interval '1 minute')"
        )))
        .execute(&db.pool)
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn the_jobs_role_sees_every_tenant_and_purges_every_tenants_expired_records() {
    let db = database().await;
    two_tenants(&db).await;
    // No tenant set, as the relay and the purge run.
    let tenants: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT tenant_id FROM outbox_event ORDER BY 1")
            .fetch_all(&db.jobs)
            .await
            .unwrap();
    assert_eq!(tenants, ["acme", "globex"]);
    let purged = CommandRunner::new(db.jobs.clone(), Duration::from_secs(60))
        .with_purge_pool(db.jobs.clone())
        .purge_expired()
        .await
        .unwrap();
    assert_eq!(purged, 2, "both tenants' expired records");
}

#[tokio::test]
async fn the_jobs_role_cannot_run_ddl() {
    let db = database().await;
    let mut conn = db.jobs.acquire().await.unwrap();
    for ddl in [
        "CREATE TABLE sneaky (id int)",
        "CREATE TABLE catalog_schema.sneaky (id int)",
        "CREATE TABLE public.sneaky (id int)",
        "CREATE SCHEMA sneaky",
        "CREATE INDEX sneaky ON outbox_event (topic)",
        "CREATE FUNCTION sneaky() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "CREATE VIEW sneaky AS SELECT 1",
        "ALTER TABLE outbox_event ADD COLUMN sneaky int",
        "ALTER TABLE outbox_event DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE idempotency_record NO FORCE ROW LEVEL SECURITY",
        "ALTER TABLE outbox_event DISABLE TRIGGER outbox_event_notify",
        "DROP POLICY tenant_isolation ON outbox_event",
        "DROP TABLE outbox_pending",
        "DROP TABLE product_offering",
        "TRUNCATE outbox_event CASCADE",
        "ALTER ROLE catalog_jobs SUPERUSER",
        "SET ROLE postgres",
        "SET SESSION AUTHORIZATION postgres",
    ] {
        let refused = sqlx::raw_sql(sqlx::AssertSqlSafe(ddl))
            .execute(&mut *conn)
            .await;
        assert_eq!(refusal(ddl, refused), "42501", "{ddl}");
    }
    let owned: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = 'catalog_jobs')",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(owned, 0, "the jobs role owns nothing");
}

#[tokio::test]
async fn the_jobs_role_cannot_touch_what_it_was_not_granted() {
    let db = database().await;
    two_tenants(&db).await;
    for (what, statement) in [
        (
            "tenants' stored responses",
            "SELECT response_body FROM idempotency_record",
        ),
        (
            "writing idempotency records",
            "UPDATE idempotency_record SET status = 'COMPLETED'",
        ),
        (
            "dead-lettered payloads",
            "SELECT payload FROM consumer_dead_letter",
        ),
        (
            "rewriting a logged event",
            "UPDATE outbox_event SET envelope = '{}'",
        ),
        (
            "rewriting a queued message",
            "UPDATE outbox_pending SET envelope = '{}'",
        ),
        (
            "writing events (the catalog has no job that does)",
            "INSERT INTO outbox_event (event_id, topic, partition_key, event_type, event_version, \
             aggregate_type, aggregate_id, aggregate_version, tenant_id, envelope, occurred_at) \
             VALUES (gen_random_uuid(), 't', 'k', 'x.created.v1', 1, 'X', '1', 1, 'acme', '{}', now())",
        ),
        (
            "queueing events",
            "INSERT INTO outbox_pending (outbox_seq, topic, partition_key) VALUES (1, 't', 'k')",
        ),
        ("the key buckets", "DELETE FROM outbox_key_bucket"),
        ("dead letters", "DELETE FROM outbox_dead_letter"),
        ("the inbox", "DELETE FROM inbox_message"),
        ("the catalog's tables", "SELECT * FROM product_offering"),
        (
            "the catalog's history",
            "INSERT INTO product_offering_history DEFAULT VALUES",
        ),
        ("the migrations' books", "SELECT * FROM _sqlx_migrations"),
        (
            "the platform migrations' books",
            "DELETE FROM _platform_migrations",
        ),
    ] {
        let refused = sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&db.jobs)
            .await;
        assert_eq!(refusal(what, refused), "42501", "{what}: {statement}");
    }
}

/// A one-connection pool on the test database as `role` (trust authentication).
async fn pool_as(db: &Db, role: &str) -> PgPool {
    let settings = DatabaseSettings {
        url: Secret::new(app_database_url(db.settings.database.url.expose(), role)),
        max_connections: 1,
        acquire_timeout: Duration::from_secs(5),
    };
    db::connect(&settings, catalog::SCHEMA).await.unwrap()
}

/// The outcome of `check_jobs_role` on a pool.
async fn verdict(pool: &PgPool) -> Result<(), String> {
    match db::check_jobs_role(pool, catalog::SCHEMA).await {
        Ok(()) => Ok(()),
        Err(DbError::UnsafeRole(why)) => Err(why),
        Err(other) => panic!("the check itself failed: {other}"),
    }
}

#[tokio::test]
async fn the_jobs_role_check_refuses_a_role_that_could_do_more_or_cannot_cross_tenants() {
    let db = database().await;
    assert_eq!(verdict(&db.jobs).await, Ok(()));
    let owner = verdict(&db.pool)
        .await
        .expect_err("the owner (a superuser)");
    assert!(owner.contains("superuser"), "{owner}");
    let app = pool_as(&db, "catalog_app").await;
    let app = verdict(&app).await.expect_err("the app role");
    assert!(app.contains("cannot bypass row-level security"), "{app}");

    // Roles are the cluster's: unique names, dropped before anything is asserted.
    let suffix = uuid::Uuid::now_v7().simple().to_string();
    let (member, owning) = (
        format!("jobs_member_{suffix}"),
        format!("jobs_owning_{suffix}"),
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE ROLE {member} LOGIN BYPASSRLS; GRANT postgres TO {member}; \
         CREATE ROLE {owning} LOGIN BYPASSRLS; \
         CREATE TABLE owned_by_the_jobs_role (id int); \
         ALTER TABLE owned_by_the_jobs_role OWNER TO {owning}; \
         GRANT USAGE ON SCHEMA catalog_schema TO {member}, {owning}"
    )))
    .execute(&db.pool)
    .await
    .unwrap();
    let (member_pool, owning_pool) = (pool_as(&db, &member).await, pool_as(&db, &owning).await);
    let verdicts = (verdict(&member_pool).await, verdict(&owning_pool).await);
    member_pool.close().await;
    owning_pool.close().await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP TABLE owned_by_the_jobs_role; DROP OWNED BY {member}, {owning}; \
         DROP ROLE {member}; DROP ROLE {owning}"
    )))
    .execute(&db.pool)
    .await
    .unwrap();
    assert!(
        verdicts.0.is_err(),
        "a member of the owner passed: {verdicts:?}"
    );
    assert!(
        verdicts.1.is_err(),
        "an owner of a table passed: {verdicts:?}"
    );
}
