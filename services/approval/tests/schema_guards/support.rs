//! Test set-up: a migrated database, pools by role, tenant transactions, request and decision
//! fixtures, and [`refusal`], which names what refused a statement.

use std::path::Path;
use std::time::Duration;

use common_kernel::db;
use common_kernel::ids::TenantId;
use common_kernel::settings::{DatabaseSettings, Secret, app_database_url};
use sqlx::migrate::Migrator;
use sqlx::types::Uuid;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use test_support::TestDatabase;

static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/approval");
pub const SCHEMA: &str = "approval_schema";
pub const HASH_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
pub const HASH_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
/// The SQLSTATE of a missing privilege or a row-level security refusal.
pub const INSUFFICIENT_PRIVILEGE: &str = "42501";

async fn connect(url: String) -> PgPool {
    let settings = DatabaseSettings {
        url: Secret::new(url),
        max_connections: 2,
        acquire_timeout: Duration::from_secs(5),
    };
    db::connect(&settings, SCHEMA).await.expect("pool")
}

/// A fresh, migrated approval database.
pub async fn database() -> TestDatabase {
    let platform = Path::new(messaging::schema::MIGRATIONS_DIR);
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/approval");
    TestDatabase::from_template_of("approval", &[platform, &migrations], |url| async move {
        let pool = connect(url).await;
        messaging::schema::migrate(&pool, SCHEMA, &MIGRATOR)
            .await
            .expect("migrate template");
        pool.close().await;
    })
    .await
}

/// A pool on the test database as `role` (the owner's when `None`).
pub async fn pool(database: &TestDatabase, role: Option<&str>) -> PgPool {
    connect(role.map_or_else(
        || database.url.clone(),
        |role| app_database_url(&database.url, role),
    ))
    .await
}

/// A fresh database and a pool on it as the request role `approval_app`.
pub async fn app_pool() -> (TestDatabase, PgPool) {
    let database = database().await;
    let app = pool(&database, Some("approval_app")).await;
    (database, app)
}

pub async fn tenant_tx(pool: &PgPool, tenant: &str) -> Transaction<'static, Postgres> {
    let tenant = TenantId::parse(tenant).expect("tenant");
    db::begin_for_tenant(pool, &tenant).await.expect("begin")
}

/// The constraint or trigger a refused statement names, else its SQLSTATE; `Err` describes
/// anything that is not a database refusal (success included).
pub fn try_refusal<T: std::fmt::Debug>(result: Result<T, sqlx::Error>) -> Result<String, String> {
    match result {
        Err(sqlx::Error::Database(e)) => Ok(e
            .constraint()
            .map(str::to_owned)
            .unwrap_or_else(|| e.code().unwrap_or_default().into_owned())),
        other => Err(format!("expected a refusal, got {other:?}")),
    }
}

/// [`try_refusal`], panicking with `what` when the statement was not refused.
pub fn refusal<T: std::fmt::Debug>(what: &str, result: Result<T, sqlx::Error>) -> String {
    try_refusal(result).unwrap_or_else(|e| panic!("{what}: {e}"))
}

const SNAPSHOT_MANAGER: &str =
    r#"{"policyId":"p","policyVersion":"1","rules":[],"requiredLevels":["MANAGER"]}"#;
const SNAPSHOT_NONE: &str =
    r#"{"policyId":"p","policyVersion":"1","rules":[],"requiredLevels":[]}"#;

/// Inserts a request (PENDING needs the MANAGER snapshot) with a MANAGER level; returns its id.
pub async fn insert_request(
    conn: &mut PgConnection,
    tenant: &str,
    quote: Uuid,
    revision: i32,
    status: &str,
) -> Result<Uuid, sqlx::Error> {
    let snapshot = if status == "NOT_REQUIRED" {
        SNAPSHOT_NONE
    } else {
        SNAPSHOT_MANAGER
    };
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO approval_request (approval_request_id, tenant_id, quote_id, quote_revision, price_hash,
             status, submitted_by, policy_snapshot, expires_at)
         VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, 'sally', $6::jsonb, now() + interval '1 day')
         RETURNING approval_request_id",
    )
    .bind(tenant)
    .bind(quote)
    .bind(revision)
    .bind(HASH_A)
    .bind(status)
    .bind(snapshot)
    .fetch_one(&mut *conn)
    .await?;
    if status == "PENDING" {
        sqlx::query(
            "INSERT INTO approval_level (tenant_id, approval_request_id, position, level, quorum, groups, due_at)
             VALUES ($1, $2, 0, 'MANAGER', 'SINGLE', '{managers}', now() + interval '1 hour')",
        )
        .bind(tenant)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

pub async fn set_status(
    conn: &mut PgConnection,
    id: Uuid,
    status: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE approval_request SET status = $2, aggregate_version = aggregate_version + 1,
             closed_at = CASE WHEN $2 IN ('REJECTED', 'CANCELLED', 'EXPIRED', 'SUPERSEDED') THEN now() END,
             approved_at = CASE WHEN $2 = 'APPROVED' THEN now() ELSE approved_at END
         WHERE approval_request_id = $1",
    )
    .bind(id)
    .bind(status)
    .execute(&mut *conn)
    .await
    .map(drop)
}

/// A decision on `request`'s MANAGER level for the `managers` group.
#[derive(Debug, Clone, Copy)]
pub struct Decision {
    pub actor: &'static str,
    pub verdict: &'static str,
    pub reason: Option<&'static str>,
    pub hash: &'static str,
}

pub async fn insert_decision(
    conn: &mut PgConnection,
    tenant: &str,
    request: Uuid,
    decision: Decision,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO approval_decision (approval_decision_id, tenant_id, approval_request_id, level, group_id,
             actor_id, decision, reason, price_hash, decided_at)
         VALUES (gen_random_uuid(), $1, $2, 'MANAGER', 'managers', $3, $4, $5, $6, now())",
    )
    .bind(tenant)
    .bind(request)
    .bind(decision.actor)
    .bind(decision.verdict)
    .bind(decision.reason)
    .bind(decision.hash)
    .execute(&mut *conn)
    .await
    .map(drop)
}

/// A delegation from `from` to `to`, valid from `start` to `end` days from now.
#[derive(Debug, Clone, Copy)]
pub struct Delegation {
    pub from: &'static str,
    pub to: &'static str,
    pub start: i32,
    pub end: i32,
}

pub async fn insert_delegation(
    conn: &mut PgConnection,
    tenant: &str,
    delegation: Delegation,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO approval_delegation (delegation_id, tenant_id, delegator_id, delegate_id,
             valid_from, valid_until, created_by)
         VALUES (gen_random_uuid(), $1, $2, $3, now() + make_interval(days => $4),
             now() + make_interval(days => $5), 'ops')",
    )
    .bind(tenant)
    .bind(delegation.from)
    .bind(delegation.to)
    .bind(delegation.start)
    .bind(delegation.end)
    .execute(&mut *conn)
    .await
    .map(drop)
}

pub fn new_quote() -> Uuid {
    Uuid::now_v7()
}
