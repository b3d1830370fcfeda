//! Requests with their evidence, a quote's list, recall by the submitter, reassignment with a
//! reason, and another tenant's request answering 404 everywhere.

use approval::domain::ApprovalLevel;
use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{
    ACME, GLOBEX, MANAGERS, SUBMITTER, TestApp, expect_problem, expect_status, token, unknown_id,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_answers_with_its_whole_evidence() {
    let app = TestApp::spawn().await;
    app.put_approver(ACME, "manager1", &["approver-manager"], &[MANAGERS])
        .await;
    let manager = token(ACME, "manager1", &["approver-manager"]);
    let (request, hash, instance) = app
        .open_with_task(
            ACME,
            &[ApprovalLevel::Manager, ApprovalLevel::Director],
            &[MANAGERS],
        )
        .await;
    expect_status(
        app.post(
            &format!("/approval-requests/{request}/decisions"),
            &manager,
            &json!({"level": "MANAGER", "decision": "APPROVE", "priceHash": hash}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let view = expect_status(
        app.get(&format!("/approval-requests/{request}"), &manager)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(view["status"], "PENDING");
    assert_eq!(view["openLevel"], "DIRECTOR");
    assert_eq!(view["submittedBy"], SUBMITTER);
    assert_eq!(view["priceHash"], json!(hash));
    assert_eq!(view["processInstanceKey"], json!(instance.to_string()));
    assert_eq!(view["policy"]["policyId"], "quote-approval-policy");
    assert_eq!(view["policy"]["policyVersion"], "2");
    assert_eq!(view["policy"]["policySha256"], json!("e".repeat(64)));
    assert_eq!(
        view["policy"]["requiredLevels"],
        json!(["MANAGER", "DIRECTOR"])
    );
    assert_eq!(view["policy"]["rules"][0]["testedValue"], "30.0");
    assert_eq!(view["policy"]["rules"][0]["threshold"], "10");
    assert_eq!(view["policy"]["rules"][1]["requiredLevel"], "DIRECTOR");
    assert_eq!(view["levels"][0]["state"], "SATISFIED");
    assert_eq!(view["levels"][0]["approvedGroups"], json!([MANAGERS]));
    assert_eq!(view["levels"][1]["state"], "OPEN");
    assert_eq!(view["levels"][1]["groups"], json!(["approver-director"]));
    assert!(view["levels"][1]["dueDate"].is_string());
    assert_eq!(view["decisions"][0]["actorId"], "manager1");
    assert_eq!(view["decisions"][0]["decision"], "APPROVE");
    let commands: Vec<&str> = view["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["command"].as_str().unwrap())
        .collect();
    assert_eq!(commands, ["OPEN", "RECORD_APPROVAL"]);
    assert_eq!(view["history"][1]["actorId"], "manager1");

    let quote = view["quoteId"].as_str().unwrap();
    let list = expect_status(
        app.get(&format!("/approval-requests?quoteId={quote}"), &manager)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["items"][0]["id"], json!(request.to_string()));
    assert_eq!(list["items"][0]["openLevel"], "DIRECTOR");
    expect_problem(
        app.get("/approval-requests", &manager).await,
        StatusCode::BAD_REQUEST,
        "INVALID_QUERY",
    )
    .await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_submitter_recalls_and_a_level_is_reassigned_with_reasons() {
    let app = TestApp::spawn().await;
    let (recalled, _) = app.open(ACME, &[ApprovalLevel::Manager]).await;
    let path = format!("/approval-requests/{recalled}/recall");
    let reason = json!({"reason": "customer withdrew"});
    expect_problem(
        app.post(&path, &token(ACME, "sales2", &["sales-agent"]), &reason)
            .await,
        StatusCode::FORBIDDEN,
        "APPROVAL_RECALL_NOT_SUBMITTER",
    )
    .await;
    let submitter = token(ACME, SUBMITTER, &["sales-agent"]);
    let view = expect_status(app.post(&path, &submitter, &reason).await, StatusCode::OK).await;
    assert_eq!(view["status"], "CANCELLED");
    assert_eq!(view["history"][1]["command"], "RECALL");
    assert_eq!(view["history"][1]["reason"], "customer withdrew");
    expect_problem(
        app.post(&path, &submitter, &reason).await,
        StatusCode::CONFLICT,
        "ILLEGAL_TRANSITION",
    )
    .await;

    let (moved, _) = app.open(ACME, &[ApprovalLevel::Manager]).await;
    let operator = token(ACME, "ops1", &["operator"]);
    let path = format!("/approval-requests/{moved}/levels/MANAGER/reassignment");
    let view = expect_status(
        app.post(
            &path,
            &operator,
            &json!({"groups": ["approver-manager-backup", "approver-director"],
            "quorum": "ALL", "reason": "team on leave"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        view["levels"][0]["groups"],
        json!(["approver-manager-backup", "approver-director"])
    );
    assert_eq!(view["levels"][0]["quorum"], "ALL");
    assert_eq!(view["escalations"][0]["kind"], "REASSIGNED_BY_HAND");
    assert_eq!(view["escalations"][0]["actorId"], "ops1");
    assert_eq!(view["escalations"][0]["reason"], "team on leave");
    assert_eq!(
        view["escalations"][0]["dueBefore"],
        view["escalations"][0]["dueAfter"]
    );
    let escalated = app
        .count("SELECT count(*) FROM outbox_event WHERE event_type = 'approval.escalated.v1'")
        .await;
    assert_eq!(escalated, 1);
    expect_problem(
        app.post(
            &format!("/approval-requests/{moved}/levels/DIRECTOR/reassignment"),
            &operator,
            &json!({"groups": ["x"], "reason": "r"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "APPROVAL_LEVEL_NOT_IN_CHAIN",
    )
    .await;
    expect_problem(
        app.post(
            &format!("/approval-requests/{moved}/levels/BOSS/reassignment"),
            &operator,
            &json!({"groups": ["x"], "reason": "r"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "INVALID_PATH_PARAMETER",
    )
    .await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenants_request_answers_not_found() {
    let app = TestApp::spawn().await;
    let (request, hash) = app.open(ACME, &[ApprovalLevel::Manager]).await;
    let outsider = token(
        GLOBEX,
        "manager1",
        &["approver-manager", "sales-agent", "operator"],
    );
    let submitter = token(GLOBEX, SUBMITTER, &["sales-agent"]);
    expect_problem(
        app.get(&format!("/approval-requests/{request}"), &outsider)
            .await,
        StatusCode::NOT_FOUND,
        "APPROVAL_REQUEST_NOT_FOUND",
    )
    .await;
    expect_problem(
        app.post(
            &format!("/approval-requests/{request}/decisions"),
            &outsider,
            &json!({"level": "MANAGER", "decision": "APPROVE", "priceHash": hash}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "APPROVAL_REQUEST_NOT_FOUND",
    )
    .await;
    expect_problem(
        app.post(
            &format!("/approval-requests/{request}/recall"),
            &submitter,
            &json!({"reason": "r"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "APPROVAL_REQUEST_NOT_FOUND",
    )
    .await;
    expect_problem(
        app.post(
            &format!("/approval-requests/{request}/levels/MANAGER/reassignment"),
            &outsider,
            &json!({"groups": ["x"], "reason": "r"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "APPROVAL_REQUEST_NOT_FOUND",
    )
    .await;
    expect_problem(
        app.get(&format!("/approval-requests/{}", unknown_id()), &outsider)
            .await,
        StatusCode::NOT_FOUND,
        "APPROVAL_REQUEST_NOT_FOUND",
    )
    .await;
    let view = app
        .get(
            &format!("/approval-requests/{request}"),
            &token(ACME, "auditor1", &["auditor"]),
        )
        .await;
    assert_eq!(view.status(), StatusCode::OK);
    app.stop().await;
}
