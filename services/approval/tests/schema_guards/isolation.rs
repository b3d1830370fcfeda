//! Who reaches which rows: row-level security by tenant for the request role, the jobs role's
//! exact grants, and the append-only history even for the owner.

use common_kernel::db;

use crate::support::{
    Decision, HASH_A, INSUFFICIENT_PRIVILEGE, SCHEMA, app_pool, database, insert_decision,
    insert_request, new_quote, pool, refusal, tenant_tx,
};

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
async fn every_function_resolves_names_in_its_own_schema() {
    let database = database().await;
    let owner = pool(&database, None).await;
    test_support::assert_functions_pin_search_path(&owner, SCHEMA).await;
}

#[tokio::test]
async fn no_row_is_read_or_written_without_the_tenant_set() {
    let (_database, app) = app_pool().await;
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
    assert_eq!(refusal("no tenant set", refused), INSUFFICIENT_PRIVILEGE);
    bare.rollback().await.unwrap();

    let mut other = tenant_tx(&app, "globex").await;
    let refused = insert_request(&mut other, "acme", new_quote(), 1, "NOT_REQUIRED").await;
    assert_eq!(
        refusal("another tenant's row", refused),
        INSUFFICIENT_PRIVILEGE
    );
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
    let (_database, app) = app_pool().await;
    let mut tx = tenant_tx(&app, "acme").await;
    let acme_request = insert_request(&mut tx, "acme", new_quote(), 1, "PENDING")
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let approve = Decision {
        actor: "gus",
        verdict: "APPROVE",
        reason: None,
        hash: HASH_A,
    };
    // (what is tried, the tenant the row claims, the refusal), each in a globex transaction.
    let cases = [
        (
            "globex names acme's request",
            "globex",
            "approval_decision_level_fk",
        ),
        ("globex writes as acme", "acme", INSUFFICIENT_PRIVILEGE),
    ];
    for (what, tenant, expected) in cases {
        let mut globex = tenant_tx(&app, "globex").await;
        let refused = insert_decision(&mut globex, tenant, acme_request, approve).await;
        assert_eq!(refusal(what, refused), expected, "{what}");
        globex.rollback().await.unwrap();
    }
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
            "approval_history: SELECT",
            "approval_level(due_at): UPDATE",
            "approval_level(escalation_groups): UPDATE",
            "approval_level(groups): UPDATE",
            "approval_level(quorum): UPDATE",
            "approval_level(reminded): UPDATE",
            "approval_level: INSERT",
            "approval_level: SELECT",
            "approval_process(closed_at): UPDATE",
            "approval_process: INSERT",
            "approval_process: SELECT",
            "approval_request(aggregate_version): UPDATE",
            "approval_request(approved_at): UPDATE",
            "approval_request(closed_at): UPDATE",
            "approval_request(status): UPDATE",
            "approval_request: INSERT",
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
    for (what, sql) in [
        (
            "jobs decide a level",
            "UPDATE approval_level SET state = 'SATISFIED', decided_at = now()",
        ),
        ("jobs read delegations", "SELECT * FROM approval_delegation"),
    ] {
        let refused = sqlx::query(sql).fetch_all(&jobs).await;
        assert_eq!(refusal(what, refused), INSUFFICIENT_PRIVILEGE, "{what}");
    }
}
