//! The approver directory: operators set entries (idempotently, with audit evidence of who,
//! why, before and after), approvers read their own, and another tenant sees nothing.

use approval::app::ports::ApproverDirectory;
use approval::infra::PgApproverDirectory;
use domain_kernel::access::{ApprovalLevel, Role};
use domain_kernel::{ActorId, TenantId};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{ACME, GLOBEX, MANAGERS, TestApp, expect_problem, expect_status, token};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_maintain_entries_with_audit_evidence() {
    let app = TestApp::spawn().await;
    let operator = token(ACME, "ops1", &["operator"]);
    let put = |body: Value| {
        app.request(Method::PUT, "/approvers/manager1", &operator)
            .json(&body)
            .send()
    };
    let body = json!({"roles": ["approver-manager", "sales-agent"], "groups": [MANAGERS],
        "reason": "promoted"});
    let created = put(body.clone()).await.unwrap();
    assert_eq!(
        created
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok()),
        Some("/approvers/manager1")
    );
    let created = expect_status(created, StatusCode::CREATED).await;
    assert_eq!(created["version"], 1);
    assert_eq!(created["roles"], json!(["sales-agent", "approver-manager"]));
    assert_eq!(created["approvalLevels"], json!(["MANAGER"]));
    assert_eq!(created["updatedBy"], "ops1");
    // The same entry again changes nothing.
    let same = expect_status(put(body).await.unwrap(), StatusCode::OK).await;
    assert_eq!(same["version"], 1);
    let changed = expect_status(
        put(
            json!({"roles": ["approver-director"], "groups": ["approver-director", MANAGERS],
            "reason": "now directs"}),
        )
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(changed["version"], 2);
    assert_eq!(changed["approvalLevels"], json!(["DIRECTOR"]));

    let evidence: Vec<Value> = sqlx::query_scalar(
        "SELECT envelope->'payload' FROM outbox_event WHERE topic = 'audit.evidence.events.v1' \
         AND envelope->'payload'->'resource'->>'resourceType' = 'Approver' ORDER BY outbox_seq",
    )
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert_eq!(evidence.len(), 2, "the unchanged PUT wrote nothing");
    assert_eq!(evidence[0]["eventType"], "approval.approver.created");
    assert_eq!(evidence[0]["before"], Value::Null);
    assert_eq!(evidence[1]["eventType"], "approval.approver.changed");
    assert_eq!(evidence[1]["actor"]["actorId"], "ops1");
    assert_eq!(evidence[1]["businessReason"], "now directs");
    assert_eq!(
        evidence[1]["before"]["roles"],
        json!(["sales-agent", "approver-manager"])
    );
    assert_eq!(evidence[1]["after"]["roles"], json!(["approver-director"]));
    assert_eq!(evidence[1]["after"]["version"], 2);

    // The port the decisions and the Tasklist listener read.
    let directory = PgApproverDirectory::new(app.app_db.clone());
    let (acme, manager) = (
        TenantId::parse(ACME).unwrap(),
        ActorId::parse("manager1").unwrap(),
    );
    assert_eq!(
        directory.roles_of(&acme, &manager).await.unwrap(),
        [Role::ApproverDirector]
    );
    let approver = directory.approver(&acme, &manager).await.unwrap().unwrap();
    assert_eq!(approver.levels, [ApprovalLevel::Director]);
    assert_eq!(directory.groups_of(&acme, &manager).await.unwrap().len(), 2);
    let globex = TenantId::parse(GLOBEX).unwrap();
    assert!(
        directory
            .roles_of(&globex, &manager)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        directory
            .approver(&globex, &manager)
            .await
            .unwrap()
            .is_none()
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_reads_and_writes_the_directory() {
    let app = TestApp::spawn().await;
    app.put_approver(ACME, "manager1", &["approver-manager"], &[MANAGERS])
        .await;
    let manager = token(ACME, "manager1", &["approver-manager"]);
    let own = expect_status(
        app.get("/approvers/manager1", &manager).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(own["groups"], json!([MANAGERS]));
    expect_problem(
        app.get("/approvers/ops1", &manager).await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN_ACTION",
    )
    .await;
    let refused = app
        .request(Method::PUT, "/approvers/manager1", &manager)
        .json(&json!({"roles": ["operator"], "groups": [], "reason": "self-promotion"}))
        .send()
        .await
        .unwrap();
    expect_problem(refused, StatusCode::FORBIDDEN, "FORBIDDEN_ACTION").await;
    let operator = token(ACME, "ops1", &["operator"]);
    let invalid = app
        .request(Method::PUT, "/approvers/manager1", &operator)
        .json(&json!({"roles": ["boss"], "groups": [" "], "reason": ""}))
        .send()
        .await
        .unwrap();
    let invalid = expect_problem(
        invalid,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    let fields: Vec<&str> = invalid["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["/roles/0", "/groups/0", "/reason"]);
    expect_problem(
        app.get("/approvers/nobody", &operator).await,
        StatusCode::NOT_FOUND,
        "APPROVER_NOT_FOUND",
    )
    .await;
    // Another tenant's operator sees no entry.
    expect_problem(
        app.get("/approvers/manager1", &token(GLOBEX, "ops1", &["operator"]))
            .await,
        StatusCode::NOT_FOUND,
        "APPROVER_NOT_FOUND",
    )
    .await;
    app.stop().await;
}
