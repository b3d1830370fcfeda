//! Camunda user tasks: created by the engine (zeebe-rs drives the instances over gRPC), searched,
//! assigned and completed through the REST subset of Camunda 8's API v2; timer boundary
//! escalation of an open task.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use chrono::DateTime;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Target, bpmn, complete, key_of, vars};

const WAIT: Duration = Duration::from_secs(5);

async fn start_review(target: &Target, timeout: &str) -> i64 {
    target
        .deploy(
            "user-task-escalation.bpmn",
            &bpmn("user-task-escalation.bpmn"),
        )
        .await;
    target
        .create(
            "user-task-escalation",
            json!({
                "owner": "jane",
                "reviewDue": "2030-01-02T10:00:00+01:00",
                "reviewTimeout": timeout,
                "quoteId": "Q-1",
            }),
        )
        .await
}

fn instant(value: &Value) -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339(value.as_str().expect("a date string")).expect("ISO-8601")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_task_is_searched_assigned_and_completed_over_rest() {
    let target = Target::start().await;
    let key = start_review(&target, "PT1H").await;
    let tasks = target
        .search_tasks(
            json!({"state": "CREATED", "candidateGroup": "finance", "processInstanceKey": key.to_string()}),
            1,
        )
        .await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    let task = &tasks[0];
    assert_eq!(task["name"], json!("Review quote"));
    assert_eq!(task["elementId"], json!("Task_Review"));
    assert_eq!(task["state"], json!("CREATED"));
    assert_eq!(task["assignee"], json!("jane"));
    assert_eq!(task["candidateGroups"], json!(["sales", "finance"]));
    assert_eq!(key_of(&task["processInstanceKey"]), key);
    assert_eq!(
        instant(&task["dueDate"]),
        instant(&json!("2030-01-02T09:00:00Z"))
    );
    assert!(instant(&task["creationDate"]).timestamp() > 0);
    let task_key = key_of(&task["userTaskKey"]);
    let path = |suffix: &str| format!("/v2/user-tasks/{task_key}{suffix}");

    // Other filters exclude it.
    for filter in [
        json!({"candidateGroup": "legal", "processInstanceKey": key.to_string()}),
        json!({"assignee": "joe", "processInstanceKey": key.to_string()}),
        json!({"state": "COMPLETED", "processInstanceKey": key.to_string()}),
        json!({"elementId": "Task_Other", "processInstanceKey": key.to_string()}),
    ] {
        assert!(target.search_tasks(filter, 0).await.is_empty());
    }

    let (status, body) = target
        .post(&path("/assignment"), &json!({"assignee": "joe"}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let assigned = target
        .search_tasks(
            json!({"assignee": "joe", "processInstanceKey": key.to_string()}),
            1,
        )
        .await;
    assert_eq!(key_of(&assigned[0]["userTaskKey"]), task_key);

    let (status, body) = target
        .post(
            &path("/completion"),
            &json!({"variables": {"approved": true, "reviewer": "joe"}}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let fulfil = target
        .activate("ut-fulfil", WAIT)
        .await
        .expect("fulfil job");
    assert_eq!(fulfil.process_instance_key(), key);
    let seen = vars(&fulfil);
    assert_eq!(
        (&seen["approved"], &seen["reviewer"], &seen["quoteId"]),
        (&json!(true), &json!("joe"), &json!("Q-1"))
    );
    complete(&target.client, &fulfil, json!({})).await;

    let done = target
        .search_tasks(
            json!({"state": "COMPLETED", "processInstanceKey": key.to_string()}),
            1,
        )
        .await;
    assert!(instant(&done[0]["completionDate"]) >= instant(&done[0]["creationDate"]));
    if target.is_embedded() {
        assert_eq!(target.instance_state(key).await, "COMPLETED");
        assert_eq!(
            target.open_timers(key).await,
            0,
            "the boundary timer closed with the task"
        );
        // Completing it again is a conflict, with a stable code.
        let (status, problem) = target.post(&path("/completion"), &json!({})).await;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        assert_eq!(problem["code"], json!("INVALID_STATE"));
        assert!(
            problem["detail"].as_str().unwrap().contains("COMPLETED"),
            "{problem}"
        );
        let (status, problem) = target.call(Method::GET, &path("")).await;
        assert_eq!(status, StatusCode::OK, "{problem}");
        assert_eq!(problem["state"], json!("COMPLETED"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_task_api_answers_problems_with_stable_codes() {
    let target = Target::start().await;
    let key = start_review(&target, "PT1H").await;
    let task = target
        .search_tasks(json!({"processInstanceKey": key.to_string()}), 1)
        .await
        .remove(0);
    let task_key = key_of(&task["userTaskKey"]);

    let (status, problem) = target.post("/v2/user-tasks/1/completion", &json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    if target.is_embedded() {
        assert_eq!(problem["code"], json!("NOT_FOUND"));
        assert_eq!(problem["status"], json!(404));
        // Bad bodies: wrong type, unknown filter field, blank assignee, bad key, bad page.
        let assign = format!("/v2/user-tasks/{task_key}/assignment");
        for (path, body) in [
            (assign.as_str(), json!({"assignee": 5})),
            (assign.as_str(), json!({"assignee": "  "})),
            (
                "/v2/user-tasks/search",
                json!({"filter": {"colour": "red"}}),
            ),
            (
                "/v2/user-tasks/search",
                json!({"filter": {"processInstanceKey": "abc"}}),
            ),
            ("/v2/user-tasks/search", json!({"page": {"limit": 0}})),
        ] {
            let (status, problem) = target.post(path, &body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {problem}");
            assert_eq!(problem["code"], json!("INVALID_ARGUMENT"), "{problem}");
        }
        // Reassigning someone else's task without allowOverride conflicts; unassigning works.
        let (status, problem) = target
            .post(&assign, &json!({"assignee": "joe", "allowOverride": false}))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        assert_eq!(problem["code"], json!("INVALID_STATE"));
        let (status, _) = target
            .call(
                Method::DELETE,
                &format!("/v2/user-tasks/{task_key}/assignee"),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, task) = target
            .call(Method::GET, &format!("/v2/user-tasks/{task_key}"))
            .await;
        assert!(task.get("assignee").is_none(), "{task}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timer_boundary_escalates_an_open_user_task() {
    let target = Target::start().await;
    let started = Instant::now();
    let key = start_review(&target, "PT1S").await;
    let open = target
        .search_tasks(
            json!({"state": "CREATED", "processInstanceKey": key.to_string()}),
            1,
        )
        .await;
    let task_key = key_of(&open[0]["userTaskKey"]);
    // Nobody completes the review: the interrupting PT1S timer fires, cancels the task and
    // takes the escalation path.
    let escalate = target
        .activate("ut-escalate", WAIT)
        .await
        .expect("escalation job");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(escalate.process_instance_key(), key);
    assert_eq!(escalate.element_id(), "Task_Escalate");
    let canceled = target
        .search_tasks(
            json!({"state": "CANCELED", "processInstanceKey": key.to_string()}),
            1,
        )
        .await;
    assert_eq!(key_of(&canceled[0]["userTaskKey"]), task_key);
    if target.is_embedded() {
        let (status, problem) = target
            .post(
                &format!("/v2/user-tasks/{task_key}/completion"),
                &json!({"variables": {"late": true}}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        assert_eq!(problem["code"], json!("INVALID_STATE"));
    }
    complete(&target.client, &escalate, json!({})).await;
    assert!(
        target
            .activate("ut-fulfil", Duration::from_millis(300))
            .await
            .is_none(),
        "the canceled review never reaches fulfilment"
    );
    if target.is_embedded() {
        assert_eq!(target.instance_state(key).await, "COMPLETED");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canceling_the_instance_cancels_its_open_user_task() {
    let target = Target::start().await;
    let key = start_review(&target, "PT1H").await;
    target
        .search_tasks(
            json!({"state": "CREATED", "processInstanceKey": key.to_string()}),
            1,
        )
        .await;
    target
        .client
        .cancel_process_instance()
        .with_process_instance_key(key)
        .send()
        .await
        .expect("cancel");
    let canceled = target
        .search_tasks(
            json!({"state": "CANCELED", "processInstanceKey": key.to_string()}),
            1,
        )
        .await;
    assert_eq!(canceled.len(), 1);
    if target.is_embedded() {
        assert_eq!(target.open_timers(key).await, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_task_held_by_a_bad_due_date_is_created_once_the_incident_is_resolved() {
    let target = Target::start().await;
    if !target.is_embedded() {
        return; // incident keys come from the embedded engine's operator API
    }
    target
        .deploy(
            "user-task-escalation.bpmn",
            &bpmn("user-task-escalation.bpmn"),
        )
        .await;
    let key = target
        .create(
            "user-task-escalation",
            json!({"owner": "jane", "reviewDue": "next week", "reviewTimeout": "PT1H"}),
        )
        .await;
    let incidents = target.incidents(key).await;
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(incidents[0].1, "EXTRACT_VALUE_ERROR");
    assert!(incidents[0].2.contains("next week"), "{incidents:?}");
    assert!(
        target
            .search_tasks(json!({"processInstanceKey": key.to_string()}), 0)
            .await
            .is_empty(),
        "no task while the incident holds the element"
    );
    target
        .client
        .set_variables()
        .with_element_instance_key(key)
        .with_variable(json!({"reviewDue": "2031-05-06T07:08:09Z"}))
        .expect("variables")
        .send()
        .await
        .expect("set variables");
    let (status, body) = target
        .post(
            &format!("/v1/ops/incidents/{}/resolve", incidents[0].0),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let tasks = target
        .search_tasks(
            json!({"state": "CREATED", "processInstanceKey": key.to_string()}),
            1,
        )
        .await;
    assert_eq!(
        instant(&tasks[0]["dueDate"]),
        instant(&json!("2031-05-06T07:08:09Z"))
    );
    assert_eq!(
        target.open_timers(key).await,
        1,
        "its boundary timer opened once"
    );
}
