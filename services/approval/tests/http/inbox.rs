//! `GET /approval-tasks`: the engine's open approval tasks, joined to the caller's tenant's
//! requests, filtered by group, assignee and quote.

use approval::domain::ApprovalLevel;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{
    ACME, DIRECTORS, GLOBEX, MANAGERS, TestApp, expect_problem, expect_status, token,
};

fn keys(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["approvalRequestId"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_shows_open_tasks_of_the_callers_groups_and_tenant_only() {
    let app = TestApp::spawn().await;
    app.put_approver(ACME, "manager1", &["approver-manager"], &[MANAGERS])
        .await;
    let manager = token(ACME, "manager1", &["approver-manager"]);
    let (first, hash, instance) = app
        .open_with_task(ACME, &[ApprovalLevel::Manager], &[MANAGERS])
        .await;
    let (second, ..) = app
        .open_with_task(ACME, &[ApprovalLevel::Manager], &[MANAGERS])
        .await;
    // Another tenant's request with a task for the same group name, and an acme request whose
    // instance has not started: neither shows.
    let (foreign, ..) = app
        .open_with_task(GLOBEX, &[ApprovalLevel::Manager], &[MANAGERS])
        .await;
    app.open(ACME, &[ApprovalLevel::Manager]).await;

    let inbox = expect_status(app.get("/approval-tasks", &manager).await, StatusCode::OK).await;
    let mut seen = keys(&inbox);
    seen.sort();
    let mut expected = vec![first.to_string(), second.to_string()];
    expected.sort();
    assert_eq!(seen, expected, "{inbox}");
    let item = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["approvalRequestId"] == json!(first.to_string()))
        .unwrap()
        .clone();
    assert_eq!(item["level"], "MANAGER");
    assert_eq!(item["priceHash"], json!(hash));
    assert_eq!(item["revision"], 1);
    assert_eq!(item["candidateGroups"], json!([MANAGERS]));
    assert_eq!(item["processInstanceKey"], json!(instance.to_string()));
    assert_eq!(item["dueDate"], "2031-01-01T10:00:00Z");
    assert!(
        item["userTaskKey"]
            .as_str()
            .is_some_and(|k| k.parse::<i64>().is_ok())
    );
    assert!(item["quoteId"].is_string());

    // The quote filter narrows to that quote's request.
    let quote = item["quoteId"].as_str().unwrap();
    let by_quote = expect_status(
        app.get(&format!("/approval-tasks?quoteId={quote}"), &manager)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(keys(&by_quote), [first.to_string()]);
    // Another group sees none of them.
    let directors = expect_status(
        app.get(
            &format!("/approval-tasks?candidateGroup={DIRECTORS}"),
            &manager,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(keys(&directors), Vec::<String>::new());

    // The other tenant's approver sees only their own.
    let globex = token(GLOBEX, "manager9", &["approver-manager"]);
    let theirs = expect_status(
        app.get(
            &format!("/approval-tasks?candidateGroup={MANAGERS}"),
            &globex,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(keys(&theirs), [foreign.to_string()]);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assigned_tasks_show_for_their_assignee_and_filters_are_checked() {
    let app = TestApp::spawn().await;
    let (request, _, instance) = app
        .open_with_task(ACME, &[ApprovalLevel::Manager], &[MANAGERS])
        .await;
    // dana is in no group, but holds the task once assigned in the engine.
    let dana = token(ACME, "dana", &["approver-manager"]);
    let none = expect_status(app.get("/approval-tasks", &dana).await, StatusCode::OK).await;
    assert_eq!(keys(&none), Vec::<String>::new());
    let task = app.engine_tasks(instance, "CREATED").await;
    let key = task[0]["userTaskKey"].as_str().unwrap().to_owned();
    let assigned = app
        .client
        .post(format!(
            "{}/v2/user-tasks/{key}/assignment",
            app.engine.rest()
        ))
        .bearer_auth(token(ACME, "ops1", &["operator"]))
        .json(&json!({"assignee": "dana"}))
        .send()
        .await
        .unwrap();
    assert_eq!(assigned.status(), StatusCode::NO_CONTENT);
    let mine = expect_status(app.get("/approval-tasks", &dana).await, StatusCode::OK).await;
    assert_eq!(keys(&mine), [request.to_string()]);
    assert_eq!(mine["items"][0]["assignee"], "dana");
    let by_assignee = expect_status(
        app.get(
            "/approval-tasks?assignee=dana",
            &token(ACME, "ops1", &["operator"]),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(keys(&by_assignee), [request.to_string()]);

    // A sales agent has no inbox; a blank group is a bad query.
    expect_problem(
        app.get("/approval-tasks", &token(ACME, "sales1", &["sales-agent"]))
            .await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN_ACTION",
    )
    .await;
    let bad = expect_problem(
        app.get("/approval-tasks?candidateGroup=%20", &dana).await,
        StatusCode::BAD_REQUEST,
        "INVALID_QUERY",
    )
    .await;
    assert_eq!(bad["errors"][0]["field"], "query:candidateGroup");
    app.stop().await;
}
