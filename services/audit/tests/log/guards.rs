//! The database refuses what the log must never do, whoever asks: changing or removing an
//! entry, a subtree or a checkpoint (even as the owner), truncating, leaving a gap, storing a
//! leaf hash that is not the content's; the service's roles may only insert and select. The
//! documented redaction procedure is the one way to replace content, and it keeps the tree.

use std::time::Duration;

use sqlx::PgPool;

use crate::harness::{AuditStack, auditor, quote_evidence, tenant};

async fn refused(pool: &PgPool, sql: &str, tenant: &str) -> String {
    let mut tx = pool.begin().await.unwrap();
    let error = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(tenant)
        .execute(&mut *tx)
        .await
        .expect_err(sql);
    error.to_string()
}

async fn as_role(pool: &PgPool, role: &str, sql: &str, tenant: &str) -> String {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("SET LOCAL ROLE {role}")))
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(tenant)
        .execute(&mut *tx)
        .await
        .expect_err(sql)
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_keeps_the_log_append_only() {
    let stack = AuditStack::start().await;
    let t = tenant("guards");
    stack.publish(&quote_evidence(&t, "q-1", 4)).await;
    stack.wait_entries(&t, 4, Duration::from_secs(30)).await;
    let token = auditor(&t);
    let (status, _) = stack.post("/audit/checkpoints", &token, None).await;
    assert!(status == 201 || status == 200, "{status}");
    let owner = &stack.owner;
    test_support::assert_functions_pin_search_path(owner, audit::SCHEMA).await;

    for (sql, guard) in [
        (
            "UPDATE evidence_entry SET business_transaction_id = 'x' WHERE tenant_id = $1",
            "append-only",
        ),
        (
            "DELETE FROM evidence_entry WHERE tenant_id = $1",
            "append-only",
        ),
        (
            "UPDATE merkle_node SET hash = hash WHERE tenant_id = $1",
            "append-only",
        ),
        ("DELETE FROM checkpoint WHERE tenant_id = $1", "append-only"),
        (
            "UPDATE tenant_log SET created_at = now() WHERE tenant_id = $1",
            "append-only",
        ),
    ] {
        let error = refused(owner, sql, &t).await;
        assert!(error.contains(guard), "{sql}: {error}");
    }
    let error = refused(owner, "TRUNCATE evidence_entry CASCADE", &t).await;
    assert!(error.contains("TRUNCATE refused"), "{error}");

    let insert = "INSERT INTO evidence_entry (tenant_id, leaf_index, audit_event_id, event_type, occurred_at, \
        actor_id, resource_type, resource_id, correlation_id, business_transaction_id, canonical, leaf_hash) \
        SELECT $1, {index}, gen_random_uuid(), 'x.y', now(), 'a', 'QUOTE', 'q', 'c', 'b', '{{}}', {hash}";
    let gap = insert.replace("{index}", "9").replace(
        "{hash}",
        "sha256('\\x00'::bytea || convert_to('{}', 'UTF8'))",
    );
    let error = refused(owner, &gap, &t).await;
    assert!(error.contains("would leave a gap"), "{error}");
    let wrong_hash = insert
        .replace("{index}", "4")
        .replace("{hash}", "sha256('wrong'::bytea)");
    let error = refused(owner, &wrong_hash, &t).await;
    assert!(error.contains("evidence_entry_leaf_hash"), "{error}");

    let error = as_role(
        owner,
        "audit_jobs",
        "UPDATE evidence_entry SET actor_id = 'x' WHERE tenant_id = $1",
        &t,
    )
    .await;
    assert!(error.contains("permission denied"), "{error}");
    let error = as_role(
        owner,
        "audit_app",
        "DELETE FROM checkpoint WHERE tenant_id = $1",
        &t,
    )
    .await;
    assert!(error.contains("permission denied"), "{error}");
    let error = as_role(owner, "audit_app", &wrong_hash, &t).await;
    assert!(error.contains("permission denied"), "{error}");

    // The documented redaction: content replaced, position, id and leaf hash kept.
    sqlx::query("SELECT audit_redact_entry($1, 2, 'erasure request #42', 'dpo@example.com')")
        .bind(&t)
        .execute(owner)
        .await
        .expect("redaction runs");
    let error = refused(
        owner,
        "SELECT audit_redact_entry($1, 2, 'again', 'dpo@example.com')",
        &t,
    )
    .await;
    assert!(error.contains("no unredacted entry"), "{error}");
    let (_, report) = stack.post("/audit/verify", &token, None).await;
    assert_eq!(report["valid"], true, "{report}");
    assert_eq!(report["redacted"], serde_json::json!([2]));
    let (_, bundle) = stack
        .get(
            "/evidence-bundles?resourceType=QUOTE&resourceId=q-1",
            &token,
        )
        .await;
    assert_eq!(bundle["redacted"], serde_json::json!([2]));
    assert_eq!(bundle["entries"].as_array().map(Vec::len), Some(3));
    let bundle: audit_proof::bundle::EvidenceBundle = serde_json::from_value(bundle).unwrap();
    audit_proof::bundle::verify_bundle(&bundle, None).expect("the rest still proves");
}
