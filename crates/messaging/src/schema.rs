//! The platform tables every service schema carries (outbox, pending queue, inbox, dead letters,
//! idempotency records), owned here once (ADR 0028).
//!
//! Their DDL lives in this crate's `migrations/` folder and is applied into each service's schema
//! before the service's own migrations. The platform migrator keeps its bookkeeping in its own
//! table, [`PLATFORM_MIGRATIONS_TABLE`], inside the service schema, so it and the service's
//! migrator (`_sqlx_migrations`) never see each other's versions.

use std::borrow::Cow;

use common_kernel::db::{self, DbError};
use sqlx::PgPool;
use sqlx::migrate::Migrator;

/// The bookkeeping table of the platform migrations, created unqualified and so inside the
/// service schema (the pool's `search_path`).
pub const PLATFORM_MIGRATIONS_TABLE: &str = "_platform_migrations";

/// Where the platform migrations are, for tests that fingerprint them (test database templates).
pub const MIGRATIONS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");

/// The platform migrations, embedded at build time, bookkept in [`PLATFORM_MIGRATIONS_TABLE`].
pub static PLATFORM_MIGRATOR: Migrator = Migrator {
    table_name: Cow::Borrowed(PLATFORM_MIGRATIONS_TABLE),
    ..sqlx::migrate!("./migrations")
};

/// Prepares a service's schema: creates it if needed, applies the platform migrations, then the
/// service's own. `pool` must have `search_path` set to `schema` (`common_kernel::db::connect`).
/// Each migrator holds sqlx's advisory lock while it runs, so concurrent starts are safe.
pub async fn migrate(pool: &PgPool, schema: &str, service: &Migrator) -> Result<(), DbError> {
    db::migrate(pool, schema, &PLATFORM_MIGRATOR).await?;
    service.run(pool).await.map_err(DbError::Migrate)
}

#[cfg(test)]
mod database_tests {
    use std::path::Path;
    use std::str::FromStr;

    use sqlx::migrate::{Migration, MigrationType};
    use sqlx::postgres::PgConnectOptions;
    use sqlx::{PgPool, SqlSafeStr};
    use test_support::TestDatabase;

    use super::*;

    const SCHEMA: &str = "platform_test_schema";

    /// A service migrator whose one version equals the platform's first, so shared bookkeeping
    /// would show at once (a checksum mismatch, or one of the two never applied).
    fn service_migrator() -> Migrator {
        let platform_version = PLATFORM_MIGRATOR.iter().next().unwrap().version;
        Migrator::with_migrations(vec![Migration::new(
            platform_version,
            "service table".into(),
            MigrationType::Simple,
            "CREATE TABLE service_thing (id bigint PRIMARY KEY REFERENCES outbox_event)"
                .into_sql_str(),
            false,
        )])
    }

    async fn versions(pool: &PgPool, table: &str) -> Vec<(i64, String)> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT version, description FROM {SCHEMA}.{table} ORDER BY version"
        )))
        .fetch_all(pool)
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn platform_and_service_migrations_keep_separate_books_in_the_service_schema() {
        // An empty database: the template is never migrated.
        let database =
            TestDatabase::from_template_of("platform", &[Path::new(MIGRATIONS_DIR)], |_| async {})
                .await;
        let options = PgConnectOptions::from_str(&database.url)
            .unwrap()
            .options([("search_path", SCHEMA)]);
        let pool = PgPool::connect_with(options).await.unwrap();
        let service = service_migrator();

        migrate(&pool, SCHEMA, &service).await.unwrap();
        // A restart finds everything applied and changes nothing.
        migrate(&pool, SCHEMA, &service).await.unwrap();

        let platform: Vec<_> = PLATFORM_MIGRATOR
            .iter()
            .map(|m| (m.version, m.description.to_string()))
            .collect();
        assert_eq!(versions(&pool, PLATFORM_MIGRATIONS_TABLE).await, platform);
        let own = (
            service.iter().next().unwrap().version,
            "service table".to_owned(),
        );
        assert_eq!(versions(&pool, "_sqlx_migrations").await, vec![own]);
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables
              WHERE table_schema = $1 ORDER BY table_name COLLATE \"C\"",
        )
        .bind(SCHEMA)
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(
            tables,
            [
                "_platform_migrations",
                "_sqlx_migrations",
                "consumer_dead_letter",
                "idempotency_record",
                "inbox_aggregate_version",
                "inbox_message",
                "outbox_dead_letter",
                "outbox_event",
                "outbox_key_bucket",
                "outbox_pending",
                "service_thing",
            ]
        );
        pool.close().await;
    }

    /// The platform test schema's app role (`<service>_schema` → `<service>_app`).
    const APP_ROLE: &str = "platform_test_app";

    /// A migrated platform schema with rows of two tenants, an owner pool and an app-role pool.
    async fn isolated_schema() -> (TestDatabase, PgPool, PgPool) {
        // An empty database, as in the test above: the template is never migrated.
        let database =
            TestDatabase::from_template_of("platform", &[Path::new(MIGRATIONS_DIR)], |_| async {})
                .await;
        let options = |url: &str| {
            PgConnectOptions::from_str(url)
                .unwrap()
                .options([("search_path", SCHEMA)])
        };
        let owner = PgPool::connect_with(options(&database.url)).await.unwrap();
        migrate(&owner, SCHEMA, &Migrator::DEFAULT).await.unwrap();
        for tenant in ["acme", "globex"] {
            sqlx::query(
                "INSERT INTO outbox_event (event_id, topic, partition_key, event_type, event_version, \
                 aggregate_type, aggregate_id, aggregate_version, tenant_id, envelope, occurred_at) \
                 VALUES (gen_random_uuid(), 't', 'k', 'x.created.v1', 1, 'X', '1', 1, $1, '{}', now())",
            )
            .bind(tenant)
            .execute(&owner)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO idempotency_record (tenant_id, idempotency_key, command_type, request_hash, status, \
                 lease_token, locked_until, expires_at) \
                 VALUES ($1, 'key', 'c', 'h', 'IN_PROGRESS', gen_random_uuid(), now(), now() + interval '1 hour')",
            )
            .bind(tenant)
            .execute(&owner)
            .await
            .unwrap();
        }
        let app_url = common_kernel::settings::app_database_url(&database.url, APP_ROLE);
        let app = PgPool::connect_with(options(&app_url)).await.unwrap();
        (database, owner, app)
    }

    fn tenant(value: &str) -> common_kernel::ids::TenantId {
        common_kernel::ids::TenantId::parse(value).unwrap()
    }

    /// The SQLSTATE of a refused statement.
    fn refusal<T: std::fmt::Debug>(result: Result<T, sqlx::Error>) -> String {
        match result {
            Err(sqlx::Error::Database(db)) => db.code().unwrap_or_default().into_owned(),
            other => panic!("expected a database refusal, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn an_unscoped_query_on_the_app_role_sees_only_the_transactions_tenant() {
        let (_database, owner, app) = isolated_schema().await;
        let mut tx = db::begin_for_tenant(&app, &tenant("acme")).await.unwrap();
        for table in ["outbox_event", "idempotency_record"] {
            // Deliberately no WHERE tenant_id.
            let tenants: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT tenant_id FROM {table}"
            )))
            .fetch_all(&mut *tx)
            .await
            .unwrap();
            assert_eq!(tenants, ["acme"], "{table}");
        }
        // Writing another tenant's row is refused, updating or deleting one reaches nothing.
        let foreign = sqlx::query(
            "INSERT INTO idempotency_record (tenant_id, idempotency_key, command_type, request_hash, status, \
             lease_token, locked_until, expires_at) \
             VALUES ('globex', 'other', 'c', 'h', 'IN_PROGRESS', gen_random_uuid(), now(), now())",
        )
        .execute(&mut *tx)
        .await;
        assert_eq!(refusal(foreign), "42501");
        tx.rollback().await.unwrap();
        let mut tx = db::begin_for_tenant(&app, &tenant("acme")).await.unwrap();
        let touched = sqlx::query("DELETE FROM idempotency_record WHERE tenant_id = 'globex'")
            .execute(&mut *tx)
            .await
            .unwrap();
        assert_eq!(touched.rows_affected(), 0);
        tx.commit().await.unwrap();
        // The owner crosses tenants (the relay, the purge): it still sees both.
        let all: i64 = sqlx::query_scalar("SELECT count(*) FROM idempotency_record")
            .fetch_one(&owner)
            .await
            .unwrap();
        assert_eq!(all, 2);
        // The relay's queue is not the app role's to read.
        let mut tx = db::begin_for_tenant(&app, &tenant("acme")).await.unwrap();
        let queue = sqlx::query("SELECT 1 FROM outbox_pending")
            .execute(&mut *tx)
            .await;
        assert_eq!(refusal(queue), "42501");
    }

    #[tokio::test]
    async fn without_a_tenant_the_app_role_sees_nothing_and_cannot_insert() {
        let (_database, _owner, app) = isolated_schema().await;
        for table in ["outbox_event", "idempotency_record"] {
            let seen: i64 =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                    .fetch_one(&app)
                    .await
                    .unwrap();
            assert_eq!(seen, 0, "{table}");
        }
        let inserted = sqlx::query(
            "INSERT INTO outbox_event (event_id, topic, partition_key, event_type, event_version, \
             aggregate_type, aggregate_id, aggregate_version, tenant_id, envelope, occurred_at) \
             VALUES (gen_random_uuid(), 't', 'k', 'x.created.v1', 1, 'X', '1', 1, 'acme', '{}', now())",
        )
        .execute(&app)
        .await;
        assert_eq!(refusal(inserted), "42501");
        // After a scoped transaction ended, its connection carries no tenant either.
        let mut conn = app.acquire().await.unwrap();
        let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
        sqlx::query("SET LOCAL app.tenant_id = 'acme'")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM idempotency_record")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(seen, 0);
    }

    #[tokio::test]
    async fn the_app_role_cannot_switch_off_row_level_security() {
        let (_database, _owner, app) = isolated_schema().await;
        let mut conn = app.acquire().await.unwrap();
        for escape in [
            "SET ROLE postgres",
            "SET SESSION AUTHORIZATION postgres",
            "ALTER TABLE outbox_event DISABLE ROW LEVEL SECURITY",
            "ALTER TABLE idempotency_record NO FORCE ROW LEVEL SECURITY",
            "DROP POLICY tenant_isolation ON idempotency_record",
            "ALTER ROLE platform_test_app BYPASSRLS",
            "SET row_security = off; SELECT * FROM idempotency_record",
        ] {
            let refused = sqlx::raw_sql(sqlx::AssertSqlSafe(escape))
                .execute(&mut *conn)
                .await;
            assert_eq!(refusal(refused), "42501", "{escape}");
        }
        // RESET ROLE only returns to the app role itself: still one tenant at a time.
        sqlx::raw_sql("RESET ROLE; RESET row_security")
            .execute(&mut *conn)
            .await
            .unwrap();
        let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
        sqlx::query("SET LOCAL app.tenant_id = 'globex'")
            .execute(&mut *tx)
            .await
            .unwrap();
        let tenants: Vec<String> = sqlx::query_scalar("SELECT tenant_id FROM idempotency_record")
            .fetch_all(&mut *tx)
            .await
            .unwrap();
        assert_eq!(tenants, ["globex"]);
        let role: String = sqlx::query_scalar("SELECT current_user::text")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(role, APP_ROLE);
    }
}
