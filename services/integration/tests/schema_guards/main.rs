//! The integration schema's last line of defence, tried directly: rows the domain would never
//! write are refused by the database, as the owner and as the request role, and tenants never
//! see each other's operations or calls.

#![expect(clippy::expect_used, reason = "test set-up fails loudly")]

use std::path::Path;
use std::time::Duration;

use common_kernel::db;
use common_kernel::settings::{DatabaseSettings, Secret, app_database_url};
use domain_kernel::TenantId;
use sqlx::types::Uuid;
use sqlx::{PgPool, Postgres, Transaction};
use test_support::TestDatabase;

const SCHEMA: &str = "integration_schema";
const KEY: &str = "provisioning-activate-0123456789abcdef0123456789abcdef01234567";

async fn connect(url: String) -> PgPool {
    let settings = DatabaseSettings {
        url: Secret::new(url),
        max_connections: 2,
        acquire_timeout: Duration::from_secs(5),
    };
    db::connect(&settings, SCHEMA).await.expect("pool")
}

async fn database() -> TestDatabase {
    let platform = Path::new(messaging::schema::MIGRATIONS_DIR);
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/integration");
    TestDatabase::from_template_of("integration", &[platform, &migrations], |url| async move {
        let pool = connect(url).await;
        messaging::schema::migrate(&pool, SCHEMA, &integration::MIGRATOR)
            .await
            .expect("migrate template");
        pool.close().await;
    })
    .await
}

async fn tenant_tx(pool: &PgPool, tenant: &str) -> Transaction<'static, Postgres> {
    db::begin_for_tenant(pool, &TenantId::parse(tenant).expect("tenant"))
        .await
        .expect("begin")
}

/// The constraint a refused statement names, else its SQLSTATE.
fn refusal<T: std::fmt::Debug>(what: &str, result: Result<T, sqlx::Error>) -> String {
    match result {
        Err(sqlx::Error::Database(e)) => e
            .constraint()
            .map(str::to_owned)
            .unwrap_or_else(|| e.code().unwrap_or_default().into_owned()),
        other => panic!("{what}: expected a refusal, got {other:?}"),
    }
}

async fn insert_operation(
    tx: &mut Transaction<'static, Postgres>,
    tenant: &str,
    key: &str,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO external_operation (external_operation_id, tenant_id, idempotency_key, system, operation, \
         order_id, task_id, status, request) \
         VALUES ($1, $2, $3, 'PROVISIONING', 'PROVISIONING_ACTIVATE', $4, $5, 'PENDING', '{}')",
    )
    .bind(id)
    .bind(tenant)
    .bind(key)
    .bind(Uuid::now_v7())
    .bind(Uuid::now_v7())
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

async fn update(
    tx: &mut Transaction<'static, Postgres>,
    id: Uuid,
    set: &str,
) -> Result<u64, sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE external_operation SET {set} WHERE external_operation_id = $1"
    )))
    .bind(id)
    .execute(&mut **tx)
    .await
    .map(|r| r.rows_affected())
}

/// Runs `set` on a fresh PENDING operation inside a savepoint and names what refused it.
async fn refused_update(pool: &PgPool, before: &[&str], set: &str) -> String {
    let mut tx = tenant_tx(pool, "acme").await;
    let id = insert_operation(&mut tx, "acme", KEY)
        .await
        .expect("insert");
    for step in before {
        update(&mut tx, id, step).await.expect(step);
    }
    refusal(set, update(&mut tx, id, set).await)
}

const SEND: &str = "status = 'IN_FLIGHT', attempts = 1, aggregate_version = 2";
const SUCCEED: &str = "status = 'SUCCEEDED', result = '{\"externalState\": \"ACTIVE\"}', \
     settled_at = now(), aggregate_version = 3";

#[tokio::test]
async fn the_lifecycle_and_its_shape_are_enforced_even_for_the_owner() {
    let database = database().await;
    let owner = connect(database.url.clone()).await;
    let app = connect(app_database_url(&database.url, "integration_app")).await;
    for pool in [&owner, &app] {
        // Created PENDING at version 1 with nothing sent.
        let mut tx = tenant_tx(pool, "acme").await;
        let refused = sqlx::query(
            "INSERT INTO external_operation (external_operation_id, tenant_id, idempotency_key, system, \
             operation, order_id, task_id, status, attempts, request) \
             VALUES ($1, 'acme', $2, 'PROVISIONING', 'PROVISIONING_ACTIVATE', $3, $4, 'IN_FLIGHT', 1, '{}')",
        )
        .bind(Uuid::now_v7())
        .bind(KEY)
        .bind(Uuid::now_v7())
        .bind(Uuid::now_v7())
        .execute(&mut *tx)
        .await;
        assert_eq!(
            refusal("created in flight", refused),
            "external_operation_created_pending"
        );
        drop(tx);
        // The operation belongs to its system.
        let mut tx = tenant_tx(pool, "acme").await;
        let refused = sqlx::query(
            "INSERT INTO external_operation (external_operation_id, tenant_id, idempotency_key, system, \
             operation, order_id, task_id, status, request) \
             VALUES ($1, 'acme', $2, 'BILLING', 'PROVISIONING_ACTIVATE', $3, $4, 'PENDING', '{}')",
        )
        .bind(Uuid::now_v7())
        .bind(KEY)
        .bind(Uuid::now_v7())
        .bind(Uuid::now_v7())
        .execute(&mut *tx)
        .await;
        assert_eq!(
            refusal("wrong system", refused),
            "external_operation_system_of_operation"
        );
        drop(tx);

        let cases: &[(&[&str], &str, &str)] = &[
            // Nothing jumps the lifecycle.
            (
                &[],
                "status = 'SUCCEEDED', result = '{\"externalState\": \"ACTIVE\"}', settled_at = now(), aggregate_version = 2",
                "external_operation_transition",
            ),
            // An attempt is counted exactly when one is sent.
            (
                &[],
                "status = 'IN_FLIGHT', aggregate_version = 2",
                "external_operation_attempts",
            ),
            // Every change bumps the version by one.
            (
                &[],
                "status = 'IN_FLIGHT', attempts = 1",
                "external_operation_version",
            ),
            // A success carries its result; a rejection its code; an unknown outcome its time.
            (
                &[SEND],
                "status = 'SUCCEEDED', settled_at = now(), aggregate_version = 3",
                "external_operation_result",
            ),
            (
                &[SEND],
                "status = 'REJECTED', settled_at = now(), aggregate_version = 3",
                "external_operation_rejection",
            ),
            (
                &[SEND],
                "status = 'OUTCOME_UNKNOWN', aggregate_version = 3",
                "external_operation_unknown_since",
            ),
            // Nothing is sent while the outcome is unknown.
            (
                &[
                    SEND,
                    "status = 'OUTCOME_UNKNOWN', unknown_since = now(), aggregate_version = 3",
                ],
                "status = 'IN_FLIGHT', attempts = 2, unknown_since = NULL, aggregate_version = 4",
                "external_operation_transition",
            ),
            // A settled operation never changes, and its identity never does.
            (
                &[SEND, SUCCEED],
                "last_error = 'edited', aggregate_version = 4",
                "external_operation_settled_final",
            ),
            (
                &[],
                "order_id = gen_random_uuid(), aggregate_version = 2",
                "external_operation_identity_immutable",
            ),
        ];
        for (before, set, constraint) in cases {
            assert_eq!(
                &refused_update(pool, before, set).await,
                constraint,
                "{set}"
            );
        }

        // Nothing is deleted.
        let mut tx = tenant_tx(pool, "acme").await;
        let id = insert_operation(&mut tx, "acme", KEY)
            .await
            .expect("insert");
        let deleted =
            sqlx::query("DELETE FROM external_operation WHERE external_operation_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await;
        let code = refusal("delete", deleted);
        assert!(
            code == "external_operation_append_only" || code == "42501",
            "delete refused by {code}"
        );
    }
}

#[tokio::test]
async fn one_operation_per_key_and_the_call_log_is_append_only() {
    let database = database().await;
    let app = connect(app_database_url(&database.url, "integration_app")).await;
    let owner = connect(database.url.clone()).await;
    let mut tx = tenant_tx(&app, "acme").await;
    let id = insert_operation(&mut tx, "acme", KEY)
        .await
        .expect("insert");
    assert_eq!(
        refusal("same key", insert_operation(&mut tx, "acme", KEY).await),
        "external_operation_one_per_key"
    );
    drop(tx);

    let mut tx = tenant_tx(&owner, "acme").await;
    let id = insert_operation(&mut tx, "acme", KEY).await.unwrap_or(id);
    let call = sqlx::query(
        "INSERT INTO external_call (external_call_id, tenant_id, external_operation_id, kind, sequence, system, \
         operation, idempotency_key, order_id, task_id, started_at, latency_us, http_status, classification, \
         request_hash, request_body, request_truncated, actor_id, correlation_id, business_transaction_id) \
         VALUES ($1, 'acme', $2, 'ATTEMPT', 1, 'PROVISIONING', 'PROVISIONING_ACTIVATE', $3, gen_random_uuid(), \
         gen_random_uuid(), now(), 1200, $4, $5, repeat('a', 64), '{}', false, 'w', 'c', 'b')",
    );
    let first = Uuid::now_v7();
    call.bind(first)
        .bind(id)
        .bind(KEY)
        .bind(201)
        .bind("SUCCEEDED")
        .execute(&mut *tx)
        .await
        .expect("a call is logged");
    for (statement, constraint) in [
        (
            "UPDATE external_call SET classification = 'FAILED_TECHNICAL' WHERE external_call_id = $1",
            "external_call_append_only",
        ),
        (
            "DELETE FROM external_call WHERE external_call_id = $1",
            "external_call_append_only",
        ),
    ] {
        let mut savepoint = sqlx::Connection::begin(&mut *tx).await.expect("savepoint");
        let result = sqlx::query(statement)
            .bind(first)
            .execute(&mut *savepoint)
            .await;
        assert_eq!(refusal(statement, result), constraint);
    }
    // A success is a 2xx answer; an attempt carries a class and no reconciliation finding.
    for (status, class, constraint) in [
        (503, "SUCCEEDED", "external_call_success_answered"),
        (201, "APPLIED", "external_call_classification_check"),
    ] {
        let mut savepoint = sqlx::Connection::begin(&mut *tx).await.expect("savepoint");
        let result = sqlx::query(
            "INSERT INTO external_call (external_call_id, tenant_id, external_operation_id, kind, sequence, system, \
             operation, idempotency_key, order_id, task_id, started_at, latency_us, http_status, classification, \
             request_hash, request_body, request_truncated, actor_id, correlation_id, business_transaction_id) \
             VALUES ($1, 'acme', $2, 'ATTEMPT', 2, 'PROVISIONING', 'PROVISIONING_ACTIVATE', $3, gen_random_uuid(), \
             gen_random_uuid(), now(), 1200, $4, $5, repeat('a', 64), '{}', false, 'w', 'c', 'b')",
        )
        .bind(Uuid::now_v7())
        .bind(id)
        .bind(KEY)
        .bind(status)
        .bind(class)
        .execute(&mut *savepoint)
        .await;
        assert_eq!(refusal(class, result), constraint);
    }
    tx.commit().await.expect("commit");

    // The request role may not even try to change the log: it has no grant.
    let mut tx = tenant_tx(&app, "acme").await;
    let refused = sqlx::query("DELETE FROM external_call WHERE external_call_id = $1")
        .bind(first)
        .execute(&mut *tx)
        .await;
    assert_eq!(refusal("app delete", refused), "42501");
}

#[tokio::test]
async fn tenants_never_see_each_others_operations() {
    let database = database().await;
    let app = connect(app_database_url(&database.url, "integration_app")).await;
    let mut tx = tenant_tx(&app, "acme").await;
    insert_operation(&mut tx, "acme", KEY)
        .await
        .expect("insert");
    tx.commit().await.expect("commit");

    let mut other = tenant_tx(&app, "globex").await;
    let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM external_operation")
        .fetch_one(&mut *other)
        .await
        .expect("count");
    assert_eq!(seen, 0, "another tenant's operation is invisible");
    assert_eq!(
        refusal(
            "write for another tenant",
            insert_operation(&mut other, "acme", KEY).await
        ),
        "42501"
    );
}

/// An operator's hand edit from psql, whose session has the default search_path: the guard
/// answers with its own refusal (before its functions were pinned to the schema, PostgreSQL
/// answered "function integration_refuse(unknown, unknown) does not exist").
#[tokio::test]
async fn a_hand_edit_from_any_session_meets_the_guard_itself() {
    let database = database().await;
    let owner = connect(database.url.clone()).await;
    let mut tx = tenant_tx(&owner, "acme").await;
    let id = insert_operation(&mut tx, "acme", KEY)
        .await
        .expect("insert");
    tx.commit().await.expect("commit");

    let operator = PgPool::connect(&database.url)
        .await
        .expect("a plain session");
    let search_path: String = sqlx::query_scalar("SHOW search_path")
        .fetch_one(&operator)
        .await
        .expect("search_path");
    assert!(!search_path.contains(SCHEMA), "{search_path}");
    let edited = sqlx::query(
        "UPDATE integration_schema.external_operation SET aggregate_version = 5 \
         WHERE external_operation_id = $1",
    )
    .bind(id)
    .execute(&operator)
    .await;
    assert_eq!(
        refusal("an operator's hand edit", edited),
        "external_operation_transition"
    );

    test_support::assert_functions_pin_search_path(&owner, SCHEMA).await;
    // The check sees what it must refuse: a function added without pinning.
    sqlx::query("CREATE FUNCTION careless() RETURNS int LANGUAGE sql AS 'SELECT 1'")
        .execute(&owner)
        .await
        .expect("create");
    assert_eq!(
        test_support::functions_without_pinned_search_path(&owner, SCHEMA).await,
        ["careless()"]
    );
}
