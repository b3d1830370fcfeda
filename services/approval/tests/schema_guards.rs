//! The approval schema's guards against a real PostgreSQL: the platform migrations then
//! `migrations/approval`, applied as `service-host`'s `Foundation::open` does, into a database
//! cloned per test from a template. Each test tries to break one guard as the role that would
//! (the request role `approval_app` under row-level security, or the jobs role) and checks the
//! refusal by constraint name or SQLSTATE.

#![expect(clippy::expect_used, reason = "test set-up fails loudly")]

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
const SCHEMA: &str = "approval_schema";
const HASH_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const HASH_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

async fn connect(url: String) -> PgPool {
    let settings = DatabaseSettings {
        url: Secret::new(url),
        max_connections: 2,
        acquire_timeout: Duration::from_secs(5),
    };
    db::connect(&settings, SCHEMA).await.expect("pool")
}

/// A fresh, migrated approval database.
async fn database() -> TestDatabase {
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
async fn pool(database: &TestDatabase, role: Option<&str>) -> PgPool {
    connect(role.map_or_else(
        || database.url.clone(),
        |role| app_database_url(&database.url, role),
    ))
    .await
}

async fn tenant_tx(pool: &PgPool, tenant: &str) -> Transaction<'static, Postgres> {
    let tenant = TenantId::parse(tenant).expect("tenant");
    db::begin_for_tenant(pool, &tenant).await.expect("begin")
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

const SNAPSHOT_MANAGER: &str =
    r#"{"policyId":"p","policyVersion":"1","rules":[],"requiredLevels":["MANAGER"]}"#;
const SNAPSHOT_NONE: &str =
    r#"{"policyId":"p","policyVersion":"1","rules":[],"requiredLevels":[]}"#;

/// Inserts a request (PENDING needs the MANAGER snapshot) with a MANAGER level; returns its id.
async fn insert_request(
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

async fn set_status(conn: &mut PgConnection, id: Uuid, status: &str) -> Result<(), sqlx::Error> {
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

async fn insert_decision(
    conn: &mut PgConnection,
    tenant: &str,
    request: Uuid,
    actor: &str,
    decision: &str,
    reason: Option<&str>,
    hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO approval_decision (approval_decision_id, tenant_id, approval_request_id, level, group_id,
             actor_id, decision, reason, price_hash, decided_at)
         VALUES (gen_random_uuid(), $1, $2, 'MANAGER', 'managers', $3, $4, $5, $6, now())",
    )
    .bind(tenant)
    .bind(request)
    .bind(actor)
    .bind(decision)
    .bind(reason)
    .bind(hash)
    .execute(&mut *conn)
    .await
    .map(drop)
}

fn new_quote() -> Uuid {
    Uuid::now_v7()
}

#[tokio::test]
async fn every_table_the_request_role_reaches_is_tenant_isolated() {
    let database = database().await;
    let owner = pool(&database, None).await;
    test_support::assert_schema_isolated(
        &owner,
        SCHEMA,
        "approval_app",
        &[("outbox_pending", &["INSERT"])],
    )
    .await;
    let app = pool(&database, Some("approval_app")).await;
    db::check_app_role(&app, SCHEMA)
        .await
        .expect("approval_app is a safe request role");
}

#[tokio::test]
async fn the_status_moves_only_along_the_lifecycle() {
    let database = database().await;
    let app = pool(&database, Some("approval_app")).await;
    let mut tx = tenant_tx(&app, "acme").await;
    let refused = insert_request(&mut tx, "acme", new_quote(), 1, "APPROVED").await;
    assert_eq!(
        refusal("created approved", refused),
        "approval_request_created_open"
    );
    tx.rollback().await.unwrap();

    let mut tx = tenant_tx(&app, "acme").await;
    let not_required = insert_request(&mut tx, "acme", new_quote(), 1, "NOT_REQUIRED")
        .await
        .unwrap();
    let refused = set_status(&mut tx, not_required, "APPROVED").await;
    assert_eq!(
        refusal("NOT_REQUIRED -> APPROVED", refused),
        "approval_request_transition"
    );
    tx.rollback().await.unwrap();

    let mut tx = tenant_tx(&app, "acme").await;
    let pending = insert_request(&mut tx, "acme", new_quote(), 1, "PENDING")
        .await
        .unwrap();
    set_status(&mut tx, pending, "APPROVED").await.unwrap();
    let refused = set_status(&mut tx, pending, "PENDING").await;
    assert_eq!(
        refusal("APPROVED -> PENDING", refused),
        "approval_request_transition"
    );
    tx.rollback().await.unwrap();

    let mut tx = tenant_tx(&app, "acme").await;
    let expired = insert_request(&mut tx, "acme", new_quote(), 1, "PENDING")
        .await
        .unwrap();
    set_status(&mut tx, expired, "EXPIRED").await.unwrap();
    let refused = set_status(&mut tx, expired, "APPROVED").await;
    assert_eq!(
        refusal("EXPIRED -> APPROVED", refused),
        "approval_request_transition"
    );
    tx.rollback().await.unwrap();

    let mut tx = tenant_tx(&app, "acme").await;
    let pending = insert_request(&mut tx, "acme", new_quote(), 1, "PENDING")
        .await
        .unwrap();
    let refused = sqlx::query("UPDATE approval_request SET price_hash = $2, aggregate_version = 2 WHERE approval_request_id = $1")
        .bind(pending)
        .bind(HASH_B)
        .execute(&mut *tx)
        .await;
    assert_eq!(
        refusal("a new hash", refused),
        "approval_request_identity_immutable"
    );
    tx.rollback().await.unwrap();

    let mut tx = tenant_tx(&app, "acme").await;
    let pending = insert_request(&mut tx, "acme", new_quote(), 1, "PENDING")
        .await
        .unwrap();
    let refused = sqlx::query("UPDATE approval_request SET status = 'APPROVED', approved_at = now() WHERE approval_request_id = $1")
        .bind(pending)
        .execute(&mut *tx)
        .await;
    assert_eq!(
        refusal("no version bump", refused),
        "approval_request_version_transition"
    );
    tx.rollback().await.unwrap();

    let mut tx = tenant_tx(&app, "acme").await;
    let pending = insert_request(&mut tx, "acme", new_quote(), 1, "PENDING")
        .await
        .unwrap();
    let refused = sqlx::query("DELETE FROM approval_request WHERE approval_request_id = $1")
        .bind(pending)
        .execute(&mut *tx)
        .await;
    assert_eq!(
        refusal("delete", refused),
        "42501",
        "approval_app may not delete"
    );
}

#[tokio::test]
async fn a_rejected_request_is_never_reopened() {
    let database = database().await;
    let app = pool(&database, Some("approval_app")).await;
    let mut tx = tenant_tx(&app, "acme").await;
    let quote = new_quote();
    let rejected = insert_request(&mut tx, "acme", quote, 1, "PENDING")
        .await
        .unwrap();
    set_status(&mut tx, rejected, "REJECTED").await.unwrap();
    for status in ["PENDING", "APPROVED", "SUPERSEDED"] {
        let mut savepoint = sqlx::Connection::begin(&mut *tx).await.unwrap();
        let refused = set_status(&mut savepoint, rejected, status).await;
        assert_eq!(refusal(status, refused), "approval_request_rejected_final");
        savepoint.rollback().await.unwrap();
    }
    // A new submit is a new request.
    insert_request(&mut tx, "acme", quote, 1, "PENDING")
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn one_open_request_per_quote_revision() {
    let database = database().await;
    let app = pool(&database, Some("approval_app")).await;
    let mut tx = tenant_tx(&app, "acme").await;
    let quote = new_quote();
    let first = insert_request(&mut tx, "acme", quote, 1, "PENDING")
        .await
        .unwrap();
    insert_request(&mut tx, "acme", quote, 2, "PENDING")
        .await
        .unwrap();
    let mut savepoint = sqlx::Connection::begin(&mut *tx).await.unwrap();
    let refused = insert_request(&mut savepoint, "acme", quote, 1, "PENDING").await;
    assert_eq!(refusal("second open", refused), "approval_request_one_open");
    savepoint.rollback().await.unwrap();
    set_status(&mut tx, first, "SUPERSEDED").await.unwrap();
    insert_request(&mut tx, "acme", quote, 1, "PENDING")
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn no_row_is_read_or_written_without_the_tenant_set() {
    let database = database().await;
    let app = pool(&database, Some("approval_app")).await;
    let mut tx = tenant_tx(&app, "acme").await;
    insert_request(&mut tx, "acme", new_quote(), 1, "PENDING")
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut bare = app.begin().await.unwrap();
    let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM approval_request")
        .fetch_one(&mut *bare)
        .await
        .unwrap();
    assert_eq!(seen, 0, "no tenant set, nothing visible");
    let refused = insert_request(&mut bare, "acme", new_quote(), 1, "NOT_REQUIRED").await;
    assert_eq!(refusal("no tenant set", refused), "42501");
    bare.rollback().await.unwrap();

    let mut other = tenant_tx(&app, "globex").await;
    let refused = insert_request(&mut other, "acme", new_quote(), 1, "NOT_REQUIRED").await;
    assert_eq!(refusal("another tenant's row", refused), "42501");
    other.rollback().await.unwrap();
    let mut other = tenant_tx(&app, "globex").await;
    let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM approval_level")
        .fetch_one(&mut *other)
        .await
        .unwrap();
    assert_eq!(seen, 0);
}

#[tokio::test]
async fn a_decision_never_reaches_another_tenant_s_request() {
    let database = database().await;
    let app = pool(&database, Some("approval_app")).await;
    let mut tx = tenant_tx(&app, "acme").await;
    let acme_request = insert_request(&mut tx, "acme", new_quote(), 1, "PENDING")
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut globex = tenant_tx(&app, "globex").await;
    let refused = insert_decision(
        &mut globex,
        "globex",
        acme_request,
        "gus",
        "APPROVE",
        None,
        HASH_A,
    )
    .await;
    assert_eq!(
        refusal("globex names acme's request", refused),
        "approval_decision_level_fk"
    );
    globex.rollback().await.unwrap();
    let mut globex = tenant_tx(&app, "globex").await;
    let refused = insert_decision(
        &mut globex,
        "acme",
        acme_request,
        "gus",
        "APPROVE",
        None,
        HASH_A,
    )
    .await;
    assert_eq!(refusal("globex writes as acme", refused), "42501");
}

#[tokio::test]
async fn decisions_keep_their_guards() {
    let database = database().await;
    let app = pool(&database, Some("approval_app")).await;
    let mut tx = tenant_tx(&app, "acme").await;
    let request = insert_request(&mut tx, "acme", new_quote(), 1, "PENDING")
        .await
        .unwrap();
    tx.commit().await.unwrap();

    /// What is tried, actor, verdict, reason, hash, the constraint that refuses it.
    type Case<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, &'a str, &'a str);
    let cases: [Case; 4] = [
        (
            "reject without reason",
            "mia",
            "REJECT",
            None,
            HASH_A,
            "approval_decision_reject_reason",
        ),
        (
            "the submitter decides",
            "sally",
            "APPROVE",
            None,
            HASH_A,
            "approval_decision_separation_of_duties",
        ),
        (
            "another price",
            "mia",
            "APPROVE",
            None,
            HASH_B,
            "approval_decision_price_hash",
        ),
        (
            "blank reason",
            "mia",
            "REJECT",
            Some("  "),
            HASH_A,
            "approval_decision_reason_check",
        ),
    ];
    for (what, actor, verdict, reason, hash, constraint) in cases {
        let mut tx = tenant_tx(&app, "acme").await;
        let refused = insert_decision(&mut tx, "acme", request, actor, verdict, reason, hash).await;
        assert_eq!(refusal(what, refused), constraint, "{what}");
    }

    let mut tx = tenant_tx(&app, "acme").await;
    insert_decision(&mut tx, "acme", request, "mia", "APPROVE", None, HASH_A)
        .await
        .unwrap();
    let mut savepoint = sqlx::Connection::begin(&mut *tx).await.unwrap();
    let refused = insert_decision(
        &mut savepoint,
        "acme",
        request,
        "mia",
        "REJECT",
        Some("changed my mind"),
        HASH_A,
    )
    .await;
    assert_eq!(
        refusal("second decision", refused),
        "approval_decision_one_per_actor"
    );
    savepoint.rollback().await.unwrap();
    let mut savepoint = sqlx::Connection::begin(&mut *tx).await.unwrap();
    let refused = sqlx::query("UPDATE approval_decision SET decision = 'REJECT', reason = 'x'")
        .execute(&mut *savepoint)
        .await;
    assert_eq!(refusal("rewrite a decision", refused), "42501");
    savepoint.rollback().await.unwrap();
    set_status(&mut tx, request, "APPROVED").await.unwrap();
    let refused = insert_decision(&mut tx, "acme", request, "max", "APPROVE", None, HASH_A).await;
    assert_eq!(
        refusal("decide an approved request", refused),
        "approval_decision_request_pending"
    );
}

#[tokio::test]
async fn delegations_refuse_self_and_cycles() {
    let database = database().await;
    let app = pool(&database, Some("approval_app")).await;
    let grant = |from: &'static str, to: &'static str, start: i32, end: i32| {
        let app = app.clone();
        async move {
            let mut tx = tenant_tx(&app, "acme").await;
            let result = sqlx::query(
                "INSERT INTO approval_delegation (delegation_id, tenant_id, delegator_id, delegate_id,
                     valid_from, valid_until, created_by)
                 VALUES (gen_random_uuid(), 'acme', $1, $2, now() + make_interval(days => $3),
                     now() + make_interval(days => $4), 'ops')",
            )
            .bind(from)
            .bind(to)
            .bind(start)
            .bind(end)
            .execute(&mut *tx)
            .await;
            if result.is_ok() {
                tx.commit().await.unwrap();
            }
            result
        }
    };
    assert_eq!(
        refusal("self", grant("ann", "ann", 0, 5).await),
        "approval_delegation_not_self"
    );
    assert_eq!(
        refusal("empty", grant("ann", "bob", 5, 5).await),
        "approval_delegation_window"
    );
    grant("ann", "bob", 0, 10).await.unwrap();
    assert_eq!(
        refusal("cycle", grant("bob", "ann", 5, 15).await),
        "approval_delegation_cycle"
    );
    grant("bob", "ann", 10, 20).await.unwrap();
}

#[tokio::test]
async fn history_is_append_only_and_the_jobs_role_holds_only_its_grants() {
    let database = database().await;
    let owner = pool(&database, None).await;
    let app = pool(&database, Some("approval_app")).await;
    let mut tx = tenant_tx(&app, "acme").await;
    let request = insert_request(&mut tx, "acme", new_quote(), 1, "PENDING")
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO approval_history (tenant_id, approval_request_id, command, to_status, aggregate_version,
             actor_id, actor_type, after, correlation_id, command_id)
         VALUES ('acme', $1, 'OPEN', 'PENDING', 1, 'sally', 'HUMAN_AGENT', '{}', 'c', gen_random_uuid())",
    )
    .bind(request)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let refused = sqlx::query("UPDATE approval_history SET reason = 'rewritten'")
        .execute(&owner)
        .await;
    assert_eq!(
        refusal("owner rewrites history", refused),
        "approval_history_append_only"
    );

    let jobs = pool(&database, Some("approval_jobs")).await;
    db::check_jobs_role(&jobs, SCHEMA)
        .await
        .expect("approval_jobs is a safe jobs role");
    let grants = test_support::role_grants(&owner, SCHEMA, "approval_jobs").await;
    let own: Vec<&str> = grants
        .iter()
        .map(String::as_str)
        .filter(|g| g.starts_with("approval_"))
        .collect();
    assert_eq!(
        own,
        [
            "approval_decision: SELECT",
            "approval_history: INSERT",
            "approval_level(due_at): UPDATE",
            "approval_level(escalation_groups): UPDATE",
            "approval_level(groups): UPDATE",
            "approval_level(quorum): UPDATE",
            "approval_level(reminded): UPDATE",
            "approval_level: SELECT",
            "approval_request(aggregate_version): UPDATE",
            "approval_request(closed_at): UPDATE",
            "approval_request(status): UPDATE",
            "approval_request: SELECT",
        ]
    );
    assert!(grants.contains(&"outbox_event: INSERT".to_owned()));
    // The expiry, as the jobs role, across tenants.
    let expired = sqlx::query(
        "UPDATE approval_request SET status = 'EXPIRED', closed_at = now(), aggregate_version = aggregate_version + 1
         WHERE approval_request_id = $1",
    )
    .bind(request)
    .execute(&jobs)
    .await
    .unwrap();
    assert_eq!(expired.rows_affected(), 1);
    let refused = sqlx::query("UPDATE approval_level SET state = 'SATISFIED', decided_at = now()")
        .execute(&jobs)
        .await;
    assert_eq!(refusal("jobs decide a level", refused), "42501");
    let refused = sqlx::query("SELECT * FROM approval_delegation")
        .fetch_all(&jobs)
        .await;
    assert_eq!(refusal("jobs read delegations", refused), "42501");
}

/// The trigger's status pairs are exactly the domain table's (from, to) pairs, so the two
/// cannot drift apart unnoticed.
#[tokio::test]
async fn the_database_lifecycle_mirrors_the_domain_table() {
    use approval::domain::ApprovalStatus;
    use approval::domain::lifecycle::APPROVAL_TRANSITIONS;
    let database = database().await;
    let owner = pool(&database, None).await;
    for from in ApprovalStatus::ALL {
        for to in ApprovalStatus::ALL {
            let allowed: bool = sqlx::query_scalar("SELECT approval_transition_allowed($1, $2)")
                .bind(from.as_str())
                .bind(to.as_str())
                .fetch_one(&owner)
                .await
                .expect("ask the database");
            let domain = APPROVAL_TRANSITIONS
                .iter()
                .any(|(f, _, t)| *f == from && *t == to);
            assert_eq!(allowed, domain, "{from} -> {to}");
        }
    }
}
