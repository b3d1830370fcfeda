//! Delegation: a window, no cycles of any length, never passed on; a decision on someone's
//! behalf names both the actor and the principal.

use approval::domain::ApprovalLevel;
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{ACME, MANAGERS, TestApp, expect_problem, expect_status, token};

fn window(delegate: &str) -> Value {
    json!({
        "delegate": delegate,
        "validFrom": (Utc::now() - Duration::minutes(5)).to_rfc3339(),
        "validUntil": (Utc::now() + Duration::days(3)).to_rfc3339(),
        "reason": "on leave",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delegate_decides_on_behalf_and_the_evidence_names_both() {
    let app = TestApp::spawn().await;
    app.put_approver(ACME, "manager1", &["approver-manager"], &[MANAGERS])
        .await;
    let manager = token(ACME, "manager1", &["approver-manager"]);
    // mia2 may approve manager-level discounts but is in none of the level's groups: only
    // manager1's authority lets her decide this level.
    let mia = token(ACME, "mia2", &["approver-manager"]);
    let (request, hash, instance) = app
        .open_with_task(ACME, &[ApprovalLevel::Manager], &[MANAGERS])
        .await;
    let path = format!("/approval-requests/{request}/decisions");
    let body = json!({"level": "MANAGER", "decision": "APPROVE", "priceHash": hash,
        "onBehalfOf": "manager1"});
    expect_problem(
        app.post(&path, &mia, &body).await,
        StatusCode::FORBIDDEN,
        "DELEGATION_NOT_IN_FORCE",
    )
    .await;

    let granted = expect_status(
        app.post("/approval-delegations", &manager, &window("mia2"))
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(granted["delegator"], "manager1");
    assert_eq!(granted["delegate"], "mia2");
    let listed = expect_status(app.get("/approval-delegations", &mia).await, StatusCode::OK).await;
    assert_eq!(listed["items"][0]["id"], granted["id"]);

    let decided = expect_status(app.post(&path, &mia, &body).await, StatusCode::CREATED).await;
    assert_eq!(decided["requestStatus"], "APPROVED");
    assert_eq!(decided["decision"]["actorId"], "mia2");
    assert_eq!(decided["decision"]["onBehalfOf"], "manager1");
    assert_eq!(decided["decision"]["delegationId"], granted["id"]);
    let view = expect_status(
        app.get(&format!("/approval-requests/{request}"), &manager)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(view["decisions"][0]["actorId"], "mia2");
    assert_eq!(view["decisions"][0]["onBehalfOf"], "manager1");
    // The engine task went to the acting user, completed with whom she acted for.
    let done = app.engine_tasks(instance, "COMPLETED").await;
    assert_eq!(done[0]["assignee"], "mia2");
    // The grant left audit evidence with its reason.
    let evidence: Value = sqlx::query_scalar(
        "SELECT envelope->'payload' FROM outbox_event WHERE envelope->'payload'->>'eventType' = 'approval.delegation.granted'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(evidence["businessReason"], "on leave");
    assert_eq!(evidence["actor"]["actorId"], "manager1");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cycles_and_self_delegation_are_refused() {
    let app = TestApp::spawn().await;
    let caller = |name: &str| token(ACME, name, &["approver-manager"]);
    for (from, to) in [("ann", "ben"), ("ben", "cat")] {
        expect_status(
            app.post("/approval-delegations", &caller(from), &window(to))
                .await,
            StatusCode::CREATED,
        )
        .await;
    }
    // Back along the chain, directly or through others: a cycle.
    for (from, to) in [("cat", "ann"), ("ben", "ann")] {
        expect_problem(
            app.post("/approval-delegations", &caller(from), &window(to))
                .await,
            StatusCode::CONFLICT,
            "DELEGATION_CYCLE",
        )
        .await;
    }
    expect_problem(
        app.post("/approval-delegations", &caller("ann"), &window("ann"))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "DELEGATION_TO_SELF",
    )
    .await;
    let mut empty = window("dan");
    empty["validUntil"] = empty["validFrom"].clone();
    expect_problem(
        app.post("/approval-delegations", &caller("ann"), &empty)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "DELEGATION_WINDOW_EMPTY",
    )
    .await;
    expect_problem(
        app.post(
            "/approval-delegations",
            &token(ACME, "sales1", &["sales-agent"]),
            &window("ann"),
        )
        .await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN_ACTION",
    )
    .await;
    assert_eq!(
        app.count("SELECT count(*) FROM approval_delegation").await,
        2
    );
    app.stop().await;
}
