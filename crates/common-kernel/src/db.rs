//! Database connections: pools whose sessions see only the service's schema, migrations that
//! create that schema and keep their bookkeeping inside it, and tenant-scoped transactions.
//!
//! A service has three pools on its schema (ADR 0030). The owner's (`DATABASE_URL`) runs the
//! migrations, and nothing else but the relay's vacuum of its queue. Request handling uses the
//! app role's (`<service>_app`), which owns nothing and is subject to row-level security: every
//! transaction on it starts with [`begin_for_tenant`] or [`begin_read_for_tenant`], so a query
//! that forgets its `WHERE tenant_id` still sees only the caller's tenant, and one on a
//! connection without a tenant sees nothing. The work that crosses tenants (relay,
//! `/ops/messaging`, purge, consumers, expiry) uses the jobs role's (`<service>_jobs`), which
//! bypasses row-level security but owns nothing and may run only the statements granted to it.

use std::str::FromStr;
use std::time::Duration;

use domain_kernel::ids::TenantId;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool, Postgres, Transaction};

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
    /// A pool connects as a role that would defeat tenant isolation or its purpose: an app role
    /// that bypasses row-level security or can act as the owner, a jobs role that could run DDL
    /// or cannot cross tenants, or an owner that cannot cross tenants.
    #[error("unsafe database role: {0}")]
    UnsafeRole(String),
    /// The role check itself failed.
    #[error("cannot check the database role")]
    RoleCheck(#[source] sqlx::Error),
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

/// The setting every tenant-scoped transaction sets and every row-level security policy reads
/// (`tenant_id = current_setting('app.tenant_id', true)`).
pub const TENANT_SETTING: &str = "app.tenant_id";

/// A transaction whose queries see and write only one tenant's rows.
pub type TenantTx = Transaction<'static, Postgres>;

/// Opens a transaction on `pool` for `tenant`: `BEGIN; SET LOCAL app.tenant_id = '<tenant>'`,
/// sent as one message and answered once, so scoping costs no round trip over a plain `BEGIN`.
/// `SET LOCAL` ends with the transaction: a pooled connection never carries a tenant into its
/// next use. On the app pool this is the only way to see or write a tenant's rows.
pub async fn begin_for_tenant(pool: &PgPool, tenant: &TenantId) -> Result<TenantTx, sqlx::Error> {
    pool.begin_with(sqlx::AssertSqlSafe(scope_statement("BEGIN", tenant)?))
        .await
}

/// [`begin_for_tenant`] for queries: `BEGIN READ ONLY`, so a read path cannot write. Drop it
/// when done instead of committing: sqlx queues the `ROLLBACK` and the pool sends it with the
/// check it runs on every returned connection, so the request does not wait for a `COMMIT`.
pub async fn begin_read_for_tenant(
    pool: &PgPool,
    tenant: &TenantId,
) -> Result<TenantTx, sqlx::Error> {
    pool.begin_with(sqlx::AssertSqlSafe(scope_statement(
        "BEGIN READ ONLY",
        tenant,
    )?))
    .await
}

/// `<begin>; SET LOCAL app.tenant_id = '<tenant>'`. The tenant is inlined (a parameter cannot
/// travel with `BEGIN` in one simple-query message). That is safe because a tenant id is 1–64
/// characters of `A–Z a–z 0–9 . _ -`; the alphabet is checked again here, because a `TenantId`
/// deserialized with serde skips `TenantId::parse`, and the literal is quoted anyway.
fn scope_statement(begin: &str, tenant: &TenantId) -> Result<String, sqlx::Error> {
    let value = TenantId::parse(tenant.as_str())
        .map_err(|e| sqlx::Error::InvalidArgument(format!("tenant id {e}")))?;
    let literal = value.as_str().replace('\'', "''");
    Ok(format!("{begin}; SET LOCAL {TENANT_SETTING} = '{literal}'"))
}

/// What the role a pool connects as may do to `schema`, for the start-up checks of each pool.
struct RolePowers {
    role: String,
    /// `BYPASSRLS`.
    bypasses_rls: bool,
    /// A superuser, a member of the schema's owner, or the owner of an object in it: it could
    /// run DDL, or switch row-level security off.
    acts_as_owner: bool,
}

impl RolePowers {
    async fn of(pool: &PgPool, schema: &str) -> Result<Self, DbError> {
        let (role, bypasses_rls, acts_as_owner) = sqlx::query_as(
            "SELECT current_user::text, r.rolbypassrls, r.rolsuper \
                    OR coalesce(pg_has_role(current_user, n.nspowner, 'MEMBER'), false) \
                    OR EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = n.oid AND c.relowner = r.oid) \
               FROM pg_roles r LEFT JOIN pg_namespace n ON n.nspname = $1 \
              WHERE r.rolname = current_user",
        )
        .bind(schema)
        .fetch_one(pool)
        .await
        .map_err(DbError::RoleCheck)?;
        Ok(Self {
            role,
            bypasses_rls,
            acts_as_owner,
        })
    }
}

/// Refuses an app pool that could defeat row-level security: its role must not be a superuser,
/// must not bypass RLS, must not be able to act as the owner of `schema` (which could disable
/// RLS), and must own nothing in it. Catches `APP__DATABASE__APP_URL` pointing at the owner.
pub async fn check_app_role(pool: &PgPool, schema: &str) -> Result<(), DbError> {
    let powers = RolePowers::of(pool, schema).await?;
    let (role, unsafe_role) = (powers.role, powers.bypasses_rls || powers.acts_as_owner);
    if unsafe_role {
        return Err(DbError::UnsafeRole(format!(
            "request handling connects as {role}, which bypasses row-level security, owns \
             objects in {schema} or can act as its owner; give it a role like <service>_app"
        )));
    }
    Ok(())
}

/// Refuses a jobs pool that is not the narrow cross-tenant role ADR 0030 names: its role must
/// bypass row-level security (or the relay, the expiry and the purge would silently see
/// nothing), and must be no superuser, own nothing in `schema` and be unable to act as its owner
/// (any of which would let it run DDL, or switch the isolation off). Catches
/// `APP__DATABASE__JOBS_URL` pointing at the owner or at the app role.
pub async fn check_jobs_role(pool: &PgPool, schema: &str) -> Result<(), DbError> {
    let powers = RolePowers::of(pool, schema).await?;
    let (role, crosses, too_strong) = (powers.role, powers.bypasses_rls, powers.acts_as_owner);
    if too_strong {
        return Err(DbError::UnsafeRole(format!(
            "cross-tenant work connects as {role}, a superuser, an owner of objects in {schema} \
             or a role that can act as its owner; give it a role like <service>_jobs"
        )));
    }
    if !crosses {
        return Err(DbError::UnsafeRole(format!(
            "cross-tenant work connects as {role}, which cannot bypass row-level security and \
             would see no tenant's rows; give it a role like <service>_jobs with BYPASSRLS"
        )));
    }
    Ok(())
}

/// Refuses an owner pool that cannot cross tenants: row-level security is forced on the owner
/// too, so a migration that reads or backfills rows would silently see none unless the owner is
/// a superuser or has `BYPASSRLS` (and only such an owner may create the jobs role locally).
pub async fn check_owner_role(pool: &PgPool) -> Result<(), DbError> {
    let (role, crosses): (String, bool) = sqlx::query_as(
        "SELECT current_user::text, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(pool)
    .await
    .map_err(DbError::RoleCheck)?;
    if !crosses {
        return Err(DbError::UnsafeRole(format!(
            "the owner role {role} (DATABASE_URL) needs BYPASSRLS: migrations run on it"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::settings::Secret;

    fn tenant(value: &str) -> TenantId {
        TenantId::parse(value).unwrap()
    }

    #[test]
    fn the_scope_is_one_statement_with_the_tenant_quoted() {
        assert_eq!(
            scope_statement("BEGIN", &tenant("acme-1.eu_west")).unwrap(),
            "BEGIN; SET LOCAL app.tenant_id = 'acme-1.eu_west'"
        );
        assert_eq!(
            scope_statement("BEGIN READ ONLY", &tenant("A")).unwrap(),
            "BEGIN READ ONLY; SET LOCAL app.tenant_id = 'A'"
        );
    }

    #[test]
    fn a_hostile_looking_tenant_id_cannot_be_constructed() {
        let too_long = "a".repeat(65);
        for hostile in [
            "acme'; RESET ROLE; --",
            "acme'",
            "acme\\",
            "acme;",
            "acme tenant",
            "acme\n",
            "acme\0",
            "acme$$",
            "ácme",
            "",
            too_long.as_str(),
        ] {
            assert!(
                TenantId::parse(hostile).is_err(),
                "{hostile:?} was accepted"
            );
        }
    }

    #[test]
    fn a_tenant_id_that_skipped_validation_is_refused_before_any_sql() {
        // serde's `transparent` Deserialize does not go through `TenantId::parse`.
        let smuggled: TenantId = serde_json::from_str(r#""x'; SET ROLE postgres; --""#).unwrap();
        let refused = scope_statement("BEGIN", &smuggled).unwrap_err();
        assert!(
            matches!(refused, sqlx::Error::InvalidArgument(_)),
            "{refused}"
        );
    }

    async fn one_connection_pool() -> PgPool {
        let settings = DatabaseSettings {
            url: Secret::new(test_support::admin_url()),
            max_connections: 1,
            acquire_timeout: Duration::from_secs(5),
        };
        connect(&settings, "public").await.unwrap()
    }

    async fn setting(conn: &mut sqlx::PgConnection) -> Option<String> {
        sqlx::query_scalar("SELECT nullif(current_setting('app.tenant_id', true), '')")
            .fetch_one(conn)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn the_tenant_lasts_exactly_one_transaction() {
        let pool = one_connection_pool().await;
        let mut tx = begin_for_tenant(&pool, &tenant("acme")).await.unwrap();
        assert_eq!(setting(&mut tx).await.as_deref(), Some("acme"));
        tx.commit().await.unwrap();
        // The same (only) connection, next use: no tenant left behind.
        assert_eq!(setting(&mut pool.acquire().await.unwrap()).await, None);

        let mut read = begin_read_for_tenant(&pool, &tenant("globex"))
            .await
            .unwrap();
        assert_eq!(setting(&mut read).await.as_deref(), Some("globex"));
        drop(read);
        let mut next = begin_for_tenant(&pool, &tenant("acme")).await.unwrap();
        assert_eq!(setting(&mut next).await.as_deref(), Some("acme"));
        next.rollback().await.unwrap();
        pool.close().await;
    }

    #[tokio::test]
    async fn a_read_transaction_cannot_write() {
        let pool = one_connection_pool().await;
        let mut read = begin_read_for_tenant(&pool, &tenant("acme")).await.unwrap();
        let refused = sqlx::query("CREATE TABLE never_created (id int)")
            .execute(&mut *read)
            .await
            .unwrap_err();
        let code = match &refused {
            sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
            _ => None,
        };
        assert_eq!(code.as_deref(), Some("25006"), "{refused}");
        // `close` waits for every connection to come back.
        drop(read);
        pool.close().await;
    }
}
