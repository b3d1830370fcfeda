//! The migrations 20261216000001/2: a request's process instance is linked once by the jobs
//! role and closed once; approver entries are tenant-isolated, versioned and never deleted.

use approval::domain::ApprovalLevel;
use common_kernel::db;
use common_kernel::ids::TenantId;

use crate::harness::{ACME, GLOBEX, TestApp};

fn refused_by<T: std::fmt::Debug>(result: Result<T, sqlx::Error>) -> String {
    match result {
        Err(sqlx::Error::Database(e)) => e
            .constraint()
            .map(str::to_owned)
            .unwrap_or_else(|| e.code().unwrap_or_default().into_owned()),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_linked_to_one_instance_for_good_and_closed_once() {
    let app = TestApp::spawn().await;
    let (request, _) = app.open(ACME, &[ApprovalLevel::Manager]).await;
    let link = |id: approval::domain::ApprovalRequestId, key: i64| {
        sqlx::query(
            "INSERT INTO approval_process (tenant_id, approval_request_id, process_instance_key) \
             SELECT tenant_id, approval_request_id, $2 FROM approval_request WHERE approval_request_id = $1",
        )
        .bind(id.as_uuid())
        .bind(key)
        .execute(&app.jobs)
    };
    // The jobs role links a request and may touch nothing else of it beyond its grant.
    let moved = sqlx::query(
        "UPDATE approval_request SET submitted_by = 'x' WHERE approval_request_id = $1",
    )
    .bind(request.as_uuid())
    .execute(&app.jobs)
    .await;
    assert_eq!(refused_by(moved), "42501");
    link(request, 77).await.unwrap();
    assert_eq!(refused_by(link(request, 78).await), "approval_process_pkey");
    let version: i64 = sqlx::query_scalar("SELECT aggregate_version FROM approval_request")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(version, 1, "linking is no transition");
    // One instance runs one request.
    let (other, _) = app.open(ACME, &[ApprovalLevel::Manager]).await;
    assert_eq!(
        refused_by(link(other, 77).await),
        "approval_process_instance_unique"
    );
    // The link is never re-pointed (not even by the owner), the jobs role may only close it,
    // once, and nobody deletes it.
    let repointed = sqlx::query("UPDATE approval_process SET process_instance_key = 80")
        .execute(&app.owner)
        .await;
    assert_eq!(refused_by(repointed), "approval_process_immutable");
    let by_jobs = sqlx::query("UPDATE approval_process SET process_instance_key = 80")
        .execute(&app.jobs)
        .await;
    assert_eq!(refused_by(by_jobs), "42501");
    sqlx::query("UPDATE approval_process SET closed_at = now()")
        .execute(&app.jobs)
        .await
        .unwrap();
    let reopened = sqlx::query("UPDATE approval_process SET closed_at = NULL")
        .execute(&app.jobs)
        .await;
    assert_eq!(refused_by(reopened), "approval_process_closed_once");
    let deleted = sqlx::query("DELETE FROM approval_process")
        .execute(&app.owner)
        .await;
    assert_eq!(refused_by(deleted), "approval_process_append_only");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approver_entries_are_isolated_versioned_and_kept() {
    let app = TestApp::spawn().await;
    app.put_approver(
        ACME,
        "manager1",
        &["approver-manager"],
        &["approver-manager"],
    )
    .await;
    let mut globex = db::begin_for_tenant(&app.app_db, &TenantId::parse(GLOBEX).unwrap())
        .await
        .unwrap();
    let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM approver")
        .fetch_one(&mut *globex)
        .await
        .unwrap();
    assert_eq!(seen, 0);
    let foreign = sqlx::query(
        "INSERT INTO approver (tenant_id, actor_id, roles, groups, updated_by) VALUES ('acme', 'x', '{}', '{}', 'y')",
    )
    .execute(&mut *globex)
    .await;
    assert_eq!(refused_by(foreign), "42501");
    drop(globex);
    for (sql, guard) in [
        (
            "UPDATE approver SET groups = '{}'",
            "approver_version_transition",
        ),
        ("DELETE FROM approver", "approver_append_only"),
        (
            "UPDATE approver SET roles = '{boss}', version = version + 1",
            "approver_roles_known",
        ),
        (
            "UPDATE approver SET groups = '{a,a}', version = version + 1",
            "approver_groups_valid",
        ),
    ] {
        assert_eq!(
            refused_by(sqlx::query(sql).execute(&app.owner).await),
            guard,
            "{sql}"
        );
    }
    let jobs = sqlx::query("SELECT * FROM approver")
        .fetch_all(&app.jobs)
        .await;
    assert_eq!(
        refused_by(jobs),
        "42501",
        "the jobs role does not read the directory"
    );
    app.stop().await;
}
