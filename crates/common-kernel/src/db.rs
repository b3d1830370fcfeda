//! Database connections: one pool per service whose sessions see only the service's schema,
//! and migrations that create that schema and keep their bookkeeping inside it.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool};

use crate::settings::DatabaseSettings;

/// Why the database could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The connection string is malformed.
    #[error("invalid DATABASE_URL")]
    InvalidUrl(#[source] sqlx::Error),
    /// The server refused or could not be reached.
    #[error("cannot connect to PostgreSQL")]
    Connect(#[source] sqlx::Error),
    /// Creating the service schema failed.
    #[error("cannot create schema {schema}")]
    Schema {
        /// Schema name.
        schema: String,
        /// Cause.
        #[source]
        source: sqlx::Error,
    },
    /// A migration failed.
    #[error("migration failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

/// Opens the service's pool with `search_path` set to its own schema, so SQL names tables
/// unqualified and can never reach another service's schema by accident.
///
/// JIT is off for every session: the services run short, repeated OLTP queries, where
/// PostgreSQL's JIT only adds compile time (measured: 100 ms of JIT on a 1 ms relay claim whose
/// cost estimate crossed `jit_above_cost`).
///
/// A connection is pinged before it is handed out only when it sat idle for
/// [`PING_IF_IDLE_FOR`] or longer: one that answered a query a moment ago is alive, and sqlx's
/// default (a ping on every acquire) cost one extra round trip per transaction and per query.
/// A broken connection is still replaced: a failed ping closes it and the pool takes another.
pub async fn connect(settings: &DatabaseSettings, schema: &str) -> Result<PgPool, DbError> {
    let options = PgConnectOptions::from_str(settings.url.expose())
        .map_err(DbError::InvalidUrl)?
        .options([("search_path", schema), ("jit", "off")])
        .application_name(schema);
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_IF_IDLE_FOR {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_with(options)
        .await
        .map_err(DbError::Connect)
}

/// How long a pooled connection may sit idle before it is pinged on its next acquire.
pub const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// Creates the schema if needed and applies pending migrations (bookkeeping table inside the
/// schema, guarded by sqlx's advisory lock so concurrent starts are safe).
pub async fn migrate(pool: &PgPool, schema: &str, migrator: &Migrator) -> Result<(), DbError> {
    let ddl = format!(
        "CREATE SCHEMA IF NOT EXISTS \"{}\"",
        schema.replace('"', "")
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(ddl))
        .execute(pool)
        .await
        .map_err(|source| DbError::Schema {
            schema: schema.to_owned(),
            source,
        })?;
    migrator.run(pool).await.map_err(DbError::Migrate)
}

/// The name of the constraint a database error violated, for mapping to domain errors.
pub fn violated_constraint(error: &sqlx::Error) -> Option<&str> {
    match error {
        sqlx::Error::Database(db) => db.constraint(),
        _ => None,
    }
}

/// Whether the error is a unique-key violation.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}
