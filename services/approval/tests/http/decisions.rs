//! `POST /approval-requests/{id}/decisions`: recorded once, repeated idempotently, refused with
//! stable codes, and the engine task of the decided level completed after the commit.

use approval::domain::ApprovalLevel;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{
    ACME, DIRECTORS, MANAGERS, SUBMITTER, TestApp, expect_problem, expect_status, token,
};

fn approve(level: &str, hash: &str) -> Value {
    json!({"level": level, "decision": "APPROVE", "priceHash": hash, "reason": "strategic account"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_is_recorded_once_and_completes_its_engine_task() {
    let app = TestApp::spawn().await;
    app.put_approver(ACME, "manager1", &["approver-manager"], &[MANAGERS])
        .await;
    let manager = token(ACME, "manager1", &["approver-manager"]);
    let (request, hash, instance) = app
        .open_with_task(ACME, &[ApprovalLevel::Manager], &[MANAGERS])
        .await;
    let path = format!("/approval-requests/{request}/decisions");

    let response = app
        .request(Method::POST, &path, &manager)
        .header("idempotency-key", "decide-1")
        .json(&approve("MANAGER", &hash))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok()),
        Some(format!("/approval-requests/{request}").as_str())
    );
    let first = expect_status(response, StatusCode::CREATED).await;
    assert_eq!(first["requestStatus"], "APPROVED");
    assert_eq!(first["repeated"], false);
    assert_eq!(first["decision"]["actorId"], "manager1");
    assert_eq!(first["decision"]["group"], MANAGERS);
    assert_eq!(first["decision"]["decision"], "APPROVE");
    assert_eq!(first["decision"]["priceHash"], json!(hash));

    // After the commit the engine task was assigned to the approver and completed with the
    // decision, so the process ended.
    assert!(app.engine_tasks(instance, "CREATED").await.is_empty());
    let done = app.engine_tasks(instance, "COMPLETED").await;
    assert_eq!(done.len(), 1);
    assert_eq!(done[0]["assignee"], "manager1");

    // The same key replays the first answer; the same decision without a key answers 200 with
    // the stored decision; nothing new is written either way.
    let replay = app
        .request(Method::POST, &path, &manager)
        .header("idempotency-key", "decide-1")
        .json(&approve("MANAGER", &hash))
        .send()
        .await
        .unwrap();
    assert_eq!(
        replay
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(expect_status(replay, StatusCode::CREATED).await, first);
    let repeated = expect_status(
        app.post(&path, &manager, &approve("MANAGER", &hash)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(repeated["repeated"], true);
    assert_eq!(repeated["decision"], first["decision"]);
    let decisions = app
        .count(&format!(
            "SELECT count(*) FROM approval_decision WHERE approval_request_id = '{request}'"
        ))
        .await;
    assert_eq!(decisions, 1);
    // One approval event and audit evidence naming actor, hash and policy version.
    let approved = app
        .count("SELECT count(*) FROM outbox_event WHERE event_type = 'approval.approved.v1'")
        .await;
    assert_eq!(approved, 1);
    let evidence: Value = sqlx::query_scalar(
        "SELECT envelope->'payload' FROM outbox_event WHERE topic = 'audit.evidence.events.v1' \
         AND envelope->'payload'->>'eventType' = 'approval.request.approved'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(evidence["actor"]["actorId"], "manager1");
    assert_eq!(evidence["after"]["quote"]["priceHash"], json!(hash));
    assert_eq!(evidence["policy"]["policyVersion"], "2");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_name_their_code() {
    let app = TestApp::spawn().await;
    app.put_approver(ACME, "manager1", &["approver-manager"], &[MANAGERS])
        .await;
    app.put_approver(
        ACME,
        SUBMITTER,
        &["sales-agent", "approver-manager"],
        &[MANAGERS],
    )
    .await;
    app.put_approver(
        ACME,
        "director1",
        &["approver-director"],
        &[DIRECTORS, MANAGERS],
    )
    .await;
    let (request, hash) = app
        .open(ACME, &[ApprovalLevel::Manager, ApprovalLevel::Director])
        .await;
    let path = format!("/approval-requests/{request}/decisions");
    let cases = [
        // The submitter, an approver too, never decides their own quote.
        (
            token(ACME, SUBMITTER, &["sales-agent", "approver-manager"]),
            approve("MANAGER", &hash),
            StatusCode::FORBIDDEN,
            "APPROVAL_SELF_DECISION",
        ),
        // No approver role at all: the permission table refuses.
        (
            token(ACME, "sales2", &["sales-agent"]),
            approve("MANAGER", &hash),
            StatusCode::FORBIDDEN,
            "FORBIDDEN_ACTION",
        ),
        // A director may approve manager-level discounts elsewhere, but not the chain's
        // manager level.
        (
            token(ACME, "director1", &["approver-director"]),
            approve("MANAGER", &hash),
            StatusCode::FORBIDDEN,
            "APPROVAL_LEVEL_NOT_COVERED",
        ),
        // The director level waits for the manager's.
        (
            token(ACME, "director1", &["approver-director"]),
            approve("DIRECTOR", &hash),
            StatusCode::CONFLICT,
            "APPROVAL_LEVEL_NOT_OPEN",
        ),
        // A manager outside the level's groups.
        (
            token(ACME, "manager2", &["approver-manager"]),
            approve("MANAGER", &hash),
            StatusCode::FORBIDDEN,
            "APPROVAL_NOT_ASSIGNED",
        ),
        // Another price.
        (
            token(ACME, "manager1", &["approver-manager"]),
            approve("MANAGER", &"d".repeat(64)),
            StatusCode::CONFLICT,
            "APPROVAL_PRICE_HASH_MISMATCH",
        ),
        // A level the chain does not have (an approver may ask; the chain answers).
        (
            token(ACME, "manager1", &["approver-manager"]),
            approve("FINANCE", &hash),
            StatusCode::UNPROCESSABLE_ENTITY,
            "APPROVAL_LEVEL_NOT_IN_CHAIN",
        ),
    ];
    for (caller, body, status, code) in cases {
        expect_problem(app.post(&path, &caller, &body).await, status, code).await;
    }
    let invalid = expect_problem(
        app.post(
            &path,
            &token(ACME, "manager1", &["approver-manager"]),
            &json!({"level": "MANAGER", "decision": "REJECT", "priceHash": "x"}),
        )
        .await,
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
    assert_eq!(fields, ["/reason", "/priceHash"]);
    expect_problem(
        app.post(
            &format!(
                "/approval-requests/{}/decisions",
                crate::harness::unknown_id()
            ),
            &token(ACME, "manager1", &["approver-manager"]),
            &approve("MANAGER", &hash),
        )
        .await,
        StatusCode::NOT_FOUND,
        "APPROVAL_REQUEST_NOT_FOUND",
    )
    .await;
    assert_eq!(app.count("SELECT count(*) FROM approval_decision").await, 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reject_ends_the_request_and_it_is_never_reused() {
    let app = TestApp::spawn().await;
    app.put_approver(ACME, "manager1", &["approver-manager"], &[MANAGERS])
        .await;
    app.put_approver(ACME, "manager2", &["approver-manager"], &[MANAGERS])
        .await;
    let (request, hash, instance) = app
        .open_with_task(ACME, &[ApprovalLevel::Manager], &[MANAGERS])
        .await;
    let path = format!("/approval-requests/{request}/decisions");
    let manager = token(ACME, "manager1", &["approver-manager"]);
    let rejected = expect_status(
        app.post(
            &path,
            &manager,
            &json!({"level": "MANAGER", "decision": "REJECT",
            "reason": "margin below floor", "priceHash": hash}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(rejected["requestStatus"], "REJECTED");
    assert_eq!(rejected["decision"]["reason"], "margin below floor");
    assert_eq!(app.engine_tasks(instance, "COMPLETED").await.len(), 1);
    let view = expect_status(
        app.get(&format!("/approval-requests/{request}"), &manager)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(view["status"], "REJECTED");
    assert_eq!(view["levels"][0]["state"], "REJECTED");
    // A rejected request is never reused: another approver's approval is refused.
    expect_problem(
        app.post(
            &path,
            &token(ACME, "manager2", &["approver-manager"]),
            &approve("MANAGER", &hash),
        )
        .await,
        StatusCode::CONFLICT,
        "ILLEGAL_TRANSITION",
    )
    .await;
    // The same reject again answers the one recorded.
    let again = expect_status(
        app.post(
            &path,
            &manager,
            &json!({"level": "MANAGER", "decision": "REJECT",
            "reason": "margin below floor", "priceHash": hash}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["decision"], rejected["decision"]);
    app.stop().await;
}
