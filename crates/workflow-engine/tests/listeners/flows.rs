//! Allowed, denied and in-order listeners; what a COMPLETING task refuses.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::support::{Target, complete, vars};
use super::{WAIT, decide, instance_variable, start_approval, task};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listeners_run_in_order_and_the_last_allowal_completes_the_task() {
    let target = Target::start().await;
    if !target.is_embedded() {
        return;
    }
    let (key, task_key) = start_approval(&target).await;
    let completion = target.post_in_background(
        &format!("/v2/user-tasks/{task_key}/completion"),
        json!({"variables": {"decision": "APPROVE", "decidedBy": "ann"}}),
    );

    let first = target
        .activate("listen.check", WAIT)
        .await
        .expect("first listener job");
    assert_eq!(task(&target, task_key).await["state"], json!("COMPLETING"));
    assert_eq!(
        (
            first.process_instance_key(),
            first.element_id(),
            first.retries()
        ),
        (key, "Task_Approve", 3)
    );
    let seen = vars(&first);
    assert_eq!(
        seen["decision"],
        json!("APPROVE"),
        "completion variables win: {seen}"
    );
    assert_eq!(
        (&seen["decidedBy"], &seen["quoteId"]),
        (&json!("ann"), &json!("Q-7"))
    );
    let headers: serde_json::Value = serde_json::from_str(first.custom_headers()).unwrap();
    assert_eq!(
        headers,
        json!({
            "level": "MANAGER",
            "io.camunda.zeebe:userTaskKey": task_key.to_string(),
            "io.camunda.zeebe:action": "complete",
            "io.camunda.zeebe:assignee": "ann",
            "io.camunda.zeebe:candidateGroups": "[\"sales-managers\",\"finance\"]",
            "io.camunda.zeebe:dueDate": "2030-01-02T09:00:00.000Z",
            "io.camunda.zeebe:priority": "50",
        })
    );
    assert!(
        target
            .activate("listen.sod", Duration::from_millis(300))
            .await
            .is_none(),
        "the second listener waits for the first"
    );
    decide(&target, &first, false, json!({}))
        .await
        .expect("allow");
    assert!(!completion.is_finished(), "one listener is still to decide");

    let second = target
        .activate("listen.sod", WAIT)
        .await
        .expect("second listener job");
    assert_eq!(second.retries(), 2);
    assert_eq!(
        instance_variable(&target, key, "approvalDecision").await,
        None,
        "nothing applied before the last listener allowed it"
    );
    decide(&target, &second, false, json!({}))
        .await
        .expect("allow");

    let (status, body) = completion.await.unwrap();
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(task(&target, task_key).await["state"], json!("COMPLETED"));
    let after = target
        .activate("listen.after", WAIT)
        .await
        .expect("the process moved on");
    assert_eq!(
        vars(&after)["approvalDecision"],
        json!("APPROVE"),
        "output mapping applied"
    );
    complete(&target.client, &after, json!({})).await;
    assert_eq!(target.instance_state(key).await, "COMPLETED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denial_reopens_the_task_and_discards_the_completion() {
    let target = Target::start().await;
    if !target.is_embedded() {
        return;
    }
    let (key, task_key) = start_approval(&target).await;
    let path = format!("/v2/user-tasks/{task_key}/completion");
    let completion = target.post_in_background(
        &path,
        json!({"variables": {"decision": "REJECT", "decidedBy": "bad"}, "action": "reject"}),
    );
    let job = target
        .activate("listen.check", WAIT)
        .await
        .expect("listener job");
    let headers: serde_json::Value = serde_json::from_str(job.custom_headers()).unwrap();
    assert_eq!(headers["io.camunda.zeebe:action"], json!("reject"));
    decide(
        &target,
        &job,
        true,
        json!({"deniedReason": "bad may not decide this level"}),
    )
    .await
    .expect("deny");

    let (status, problem) = completion.await.unwrap();
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], json!("COMPLETION_DENIED"));
    assert_eq!(
        problem["detail"],
        json!(format!(
            "Completion of the User Task with key '{task_key}' was denied by Task Listener. Reason to deny: 'bad may not decide this level'"
        ))
    );
    let reopened = task(&target, task_key).await;
    assert_eq!(
        (&reopened["state"], &reopened["assignee"]),
        (&json!("CREATED"), &json!("ann")),
        "open again, assignee kept"
    );
    assert_eq!(
        instance_variable(&target, key, "decision").await,
        Some(json!("PENDING"))
    );
    assert_eq!(instance_variable(&target, key, "decidedBy").await, None);
    assert!(
        target
            .activate("listen.sod", Duration::from_millis(300))
            .await
            .is_none(),
        "no later listener runs after a denial"
    );
    assert!(
        target
            .activate("listen.after", Duration::from_millis(300))
            .await
            .is_none(),
        "the process did not move"
    );

    // The task can be completed again; a denial without a reason says so plainly.
    let again = target.post_in_background(&path, json!({"variables": {"decision": "APPROVE"}}));
    let job = target
        .activate("listen.check", WAIT)
        .await
        .expect("listener job again");
    assert_eq!(vars(&job)["decision"], json!("APPROVE"));
    decide(&target, &job, true, json!({})).await.expect("deny");
    let (status, problem) = again.await.unwrap();
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(
        problem["detail"],
        json!(format!(
            "Completion of the User Task with key '{task_key}' was denied by Task Listener"
        ))
    );
    let denials: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM user_task_completion WHERE user_task_key = $1 AND outcome = 'DENIED'",
    )
    .bind(task_key)
    .fetch_one(target.pool())
    .await
    .unwrap();
    assert_eq!(denials, 2, "denials stay on record");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completing_task_refuses_assignment_and_completion() {
    let target = Target::start().await;
    if !target.is_embedded() {
        return;
    }
    let (_key, task_key) = start_approval(&target).await;
    let path = |suffix: &str| format!("/v2/user-tasks/{task_key}{suffix}");
    let completion = target.post_in_background(&path("/completion"), json!({}));
    let job = target
        .activate("listen.check", WAIT)
        .await
        .expect("listener job");

    let expected = |verb: &str| {
        format!(
            "Expected to {verb} user task with key '{task_key}', but it is in state 'COMPLETING'"
        )
    };
    let (status, problem) = target
        .post(&path("/assignment"), &json!({"assignee": "joe"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(
        (&problem["code"], &problem["detail"]),
        (&json!("INVALID_STATE"), &json!(expected("assign")))
    );
    let (status, problem) = target.call(Method::DELETE, &path("/assignee")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["detail"], json!(expected("unassign")));
    let (status, problem) = target.post(&path("/completion"), &json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["detail"], json!(expected("complete")));
    let found = target
        .search_tasks(
            json!({"state": "COMPLETING", "userTaskKey": task_key.to_string()}),
            1,
        )
        .await;
    assert_eq!(found[0]["assignee"], json!("ann"));

    decide(&target, &job, false, json!({}))
        .await
        .expect("allow");
    let second = target
        .activate("listen.sod", WAIT)
        .await
        .expect("second listener");
    decide(&target, &second, false, json!({}))
        .await
        .expect("allow");
    let (status, body) = completion.await.unwrap();
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}
