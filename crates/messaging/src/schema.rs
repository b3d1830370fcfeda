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
}
