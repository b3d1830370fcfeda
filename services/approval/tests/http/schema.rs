//! The migration 20261216000001: a request's process instance is linked once, alone, by the
//! jobs role too; approver entries are tenant-isolated, versioned and never deleted.

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
async fn a_process_instance_is_linked_once_and_alone() {
    let app = TestApp::spawn().await;
    let (request, _) = app.open(ACME, &[ApprovalLevel::Manager]).await;
    let link = |key: i64| {
        sqlx::query(
            "UPDATE approval_request SET process_instance_key = $2 WHERE approval_request_id = $1",
        )
        .bind(request.as_uuid())
        .bind(key)
        .execute(&app.jobs)
    };
    // The jobs role may write the link and nothing else of the request beyond its grant.
    let moved = sqlx::query(
        "UPDATE approval_request SET submitted_by = 'x' WHERE approval_request_id = $1",
    )
    .bind(request.as_uuid())
    .execute(&app.jobs)
    .await;
    assert_eq!(refused_by(moved), "42501");
    link(77).await.unwrap();
    assert_eq!(
        refused_by(link(78).await),
        "approval_request_process_instance_set_once"
    );
    let version: i64 = sqlx::query_scalar("SELECT aggregate_version FROM approval_request")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(version, 1, "linking is no transition");

    // Linking together with a transition is refused; so is a second request on one instance.
    let (other, _) = app.open(ACME, &[ApprovalLevel::Manager]).await;
    let with_status = sqlx::query(
        "UPDATE approval_request SET process_instance_key = 79, status = 'EXPIRED', closed_at = now(), \
         aggregate_version = 2 WHERE approval_request_id = $1",
    )
    .bind(other.as_uuid())
    .execute(&app.jobs)
    .await;
    assert_eq!(
        refused_by(with_status),
        "approval_request_process_instance_alone"
    );
    let shared = sqlx::query(
        "UPDATE approval_request SET process_instance_key = 77 WHERE approval_request_id = $1",
    )
    .bind(other.as_uuid())
    .execute(&app.jobs)
    .await;
    assert_eq!(refused_by(shared), "approval_request_process_instance_idx");
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
