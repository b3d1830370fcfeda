//! Listeners that are slow, fail, or lose their task; commands a listener job refuses; models
//! with listeners the engine does not run.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use super::support::{Target, bpmn, complete, test_config};
use super::{WAIT, decide, refused, start_approval, task};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_listener_times_the_request_out_and_still_completes_the_task_later() {
    let target = Target::start_with(workflow_engine::EngineConfig {
        listener_wait: Duration::from_millis(800),
        ..test_config()
    })
    .await;
    if !target.is_embedded() {
        return;
    }
    let (key, task_key) = start_approval(&target).await;
    let (status, problem) = target
        .post(
            &format!("/v2/user-tasks/{task_key}/completion"),
            &json!({"variables": {"decision": "APPROVE"}}),
        )
        .await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{problem}");
    assert_eq!(problem["code"], json!("COMPLETION_PENDING"));
    assert!(
        problem["detail"].as_str().unwrap().contains("COMPLETING"),
        "{problem}"
    );
    assert_eq!(task(&target, task_key).await["state"], json!("COMPLETING"));

    let first = target
        .activate("listen.check", WAIT)
        .await
        .expect("listener job");
    decide(&target, &first, false, json!({}))
        .await
        .expect("allow");
    let second = target
        .activate("listen.sod", WAIT)
        .await
        .expect("second listener");
    decide(&target, &second, false, json!({}))
        .await
        .expect("allow");
    assert_eq!(task(&target, task_key).await["state"], json!("COMPLETED"));
    let after = target
        .activate("listen.after", WAIT)
        .await
        .expect("moved on");
    assert_eq!(after.process_instance_key(), key);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_out_of_retries_raises_an_incident_whose_resolution_runs_it_again() {
    let target = Target::start().await;
    if !target.is_embedded() {
        return;
    }
    let (key, task_key) = start_approval(&target).await;
    let completion = target.post_in_background(
        &format!("/v2/user-tasks/{task_key}/completion"),
        json!({"variables": {"decision": "APPROVE"}}),
    );
    let job = target
        .activate("listen.check", WAIT)
        .await
        .expect("listener job");
    target
        .client
        .fail_job()
        .with_job_key(job.key())
        .with_retries(0)
        .with_error_message("authority service down".to_owned())
        .send()
        .await
        .expect("fail");
    let incidents = target.incidents(key).await;
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(
        (incidents[0].1.as_str(), incidents[0].2.as_str()),
        ("TASK_LISTENER_NO_RETRIES", "authority service down")
    );
    assert_eq!(task(&target, task_key).await["state"], json!("COMPLETING"));
    let (status, body) = target
        .post(
            &format!("/v1/ops/incidents/{}/resolve", incidents[0].0),
            &json!({"retries": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let again = target
        .activate("listen.check", WAIT)
        .await
        .expect("job runs again");
    assert_eq!((again.key(), again.retries()), (job.key(), 1));
    decide(&target, &again, false, json!({}))
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_type_that_does_not_evaluate_holds_the_task_until_resolved() {
    let target = Target::start().await;
    if !target.is_embedded() {
        return;
    }
    target
        .deploy("listeners.bpmn", &bpmn("listeners.bpmn"))
        .await;
    let key = target
        .create(
            "listened-approval",
            json!({"owner": "ann", "dueAt": null, "decision": "PENDING"}),
        )
        .await;
    let task_key = super::support::key_of(
        &target
            .search_tasks(json!({"processInstanceKey": key.to_string()}), 1)
            .await[0]["userTaskKey"],
    );
    let completion = target.post_in_background(
        &format!("/v2/user-tasks/{task_key}/completion"),
        json!({"variables": {"decision": "APPROVE"}}),
    );
    let first = target
        .activate("listen.check", WAIT)
        .await
        .expect("listener job");
    decide(&target, &first, false, json!({}))
        .await
        .expect("allow");
    // The second listener's type is `="listen." + checkKind`, and checkKind is missing.
    let incidents = target.incidents(key).await;
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(incidents[0].1, "EXTRACT_VALUE_ERROR");
    assert_eq!(task(&target, task_key).await["state"], json!("COMPLETING"));
    target
        .client
        .set_variables()
        .with_element_instance_key(key)
        .with_variable(json!({"checkKind": "sod"}))
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
    let second = target
        .activate("listen.sod", WAIT)
        .await
        .expect("second listener");
    decide(&target, &second, false, json!({}))
        .await
        .expect("allow");
    let (status, body) = completion.await.unwrap();
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(task(&target, task_key).await["state"], json!("COMPLETED"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_the_instance_cancels_the_listener_job_and_the_task() {
    let target = Target::start().await;
    if !target.is_embedded() {
        return;
    }
    let (key, task_key) = start_approval(&target).await;
    let completion =
        target.post_in_background(&format!("/v2/user-tasks/{task_key}/completion"), json!({}));
    let job = target
        .activate("listen.check", WAIT)
        .await
        .expect("listener job");
    target
        .client
        .cancel_process_instance()
        .with_process_instance_key(key)
        .send()
        .await
        .expect("cancel");
    let (status, problem) = completion.await.unwrap();
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], json!("INVALID_STATE"));
    assert!(
        problem["detail"].as_str().unwrap().contains("canceled"),
        "{problem}"
    );
    assert_eq!(task(&target, task_key).await["state"], json!("CANCELED"));
    let (code, _) = refused(
        decide(&target, &job, false, json!({}))
            .await
            .expect_err("the job went with the instance"),
    );
    assert_eq!(code, "NotFound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listener_jobs_refuse_variables_and_errors_and_task_jobs_refuse_denial() {
    let target = Target::start().await;
    if !target.is_embedded() {
        return;
    }
    let (key, task_key) = start_approval(&target).await;
    let completion =
        target.post_in_background(&format!("/v2/user-tasks/{task_key}/completion"), json!({}));
    let job = target
        .activate("listen.check", WAIT)
        .await
        .expect("listener job");
    let (code, message) = refused(
        decide(&target, &job, false, json!({"approved": true}))
            .await
            .expect_err("variables on an allowal"),
    );
    assert_eq!(code, "InvalidArgument", "{message}");
    assert!(message.contains("'approved'"), "{message}");
    let (code, message) = refused(
        target
            .client
            .throw_error()
            .with_job_key(job.key())
            .with_error_code("NOPE".to_owned())
            .send()
            .await
            .expect_err("BPMN error from a listener"),
    );
    assert_eq!(code, "FailedPrecondition", "{message}");
    decide(&target, &job, true, json!({"deniedReason": "no"}))
        .await
        .expect("deny");
    let (status, _) = completion.await.unwrap();
    assert_eq!(status, StatusCode::CONFLICT);

    // A service task's job cannot be denied.
    let again =
        target.post_in_background(&format!("/v2/user-tasks/{task_key}/completion"), json!({}));
    let first = target
        .activate("listen.check", WAIT)
        .await
        .expect("listener job");
    decide(&target, &first, false, json!({}))
        .await
        .expect("allow");
    let second = target
        .activate("listen.sod", WAIT)
        .await
        .expect("second listener");
    decide(&target, &second, false, json!({}))
        .await
        .expect("allow");
    assert_eq!(again.await.unwrap().0, StatusCode::NO_CONTENT);
    let after = target
        .activate("listen.after", WAIT)
        .await
        .expect("service task job");
    let (code, message) = refused(
        decide(&target, &after, true, json!({}))
            .await
            .expect_err("denying a service task job"),
    );
    assert_eq!(code, "InvalidArgument", "{message}");
    complete(&target.client, &after, json!({})).await;
    assert_eq!(target.instance_state(key).await, "COMPLETED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_with_an_assigning_listener_is_refused_at_deploy() {
    let target = Target::start().await;
    if !target.is_embedded() {
        return;
    }
    let xml = bpmn("listeners.bpmn").replace(
        r#"eventType="completing" type="listen.check""#,
        r#"eventType="assigning" type="listen.check""#,
    );
    let error = target
        .client
        .deploy_resource()
        .with_definition("assigning.bpmn".to_owned(), xml.into_bytes())
        .send()
        .await
        .expect_err("refused");
    let (code, message) = refused(error);
    assert_eq!(code, "InvalidArgument");
    assert!(
        message.contains("eventType 'assigning'") && message.contains("Task_Approve"),
        "{message}"
    );
    let none = target
        .search_tasks(json!({"bpmnProcessId": "listened-approval"}), 0)
        .await;
    assert!(none.is_empty());
}
