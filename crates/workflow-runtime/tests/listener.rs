//! A task listener written with the runtime (`listener` + `ListenerVerdict`) against the
//! embedded engine: a completion through the engine's REST API is denied over gRPC when the
//! approver may not decide (the reason reaches the caller), and allowed otherwise, after which
//! the task completes and the instance ends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use support::{Target, issuer};
use workflow_runtime::{
    JobContext, JobError, ListenedTask, ListenerVerdict, RetryPolicy, WorkerConfig, listener,
};

const PROCESS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="rt-listened" isExecutable="true">
    <bpmn:startEvent id="Start" />
    <bpmn:userTask id="Task_Approve" name="Approve">
      <bpmn:extensionElements>
        <zeebe:userTask />
        <zeebe:assignmentDefinition candidateGroups="=[approverGroup]" />
        <zeebe:taskListeners>
          <zeebe:taskListener eventType="completing" type="rt.check-decision" retries="3" />
        </zeebe:taskListeners>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="End" />
    <bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Task_Approve" />
    <bpmn:sequenceFlow id="F2" sourceRef="Task_Approve" targetRef="End" />
  </bpmn:process>
</bpmn:definitions>"#;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Decision {
    decision: String,
    decided_by: String,
}

/// Someone named `bad` may not reject; everything else goes through.
async fn check_decision(
    ctx: JobContext,
    input: Decision,
    seen: Arc<Mutex<Vec<ListenedTask>>>,
) -> Result<ListenerVerdict, JobError> {
    if let Some(task) = ctx.listened_task() {
        seen.lock().unwrap().push(task);
    }
    Ok(match (input.decision.as_str(), input.decided_by.as_str()) {
        ("REJECT", "bad") => ListenerVerdict::deny("bad may not reject this quote"),
        _ => ListenerVerdict::Allow,
    })
}

async fn rest(target: &Target, path: &str, body: &Value) -> (StatusCode, Value) {
    let token = issuer().token_as("acme", "ann", &["approver-manager"], None);
    let response = reqwest::Client::new()
        .post(format!("{}{path}", target.rest_base().unwrap()))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("REST request");
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    };
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runtime_listener_denies_over_grpc_and_then_allows() {
    let target = Target::start().await;
    if !target.is_embedded() {
        return; // the REST door and its denial reason are the embedded engine's
    }
    target
        .client()
        .deploy_resource()
        .with_definition("rt-listened.bpmn".to_owned(), PROCESS.as_bytes().to_vec())
        .send()
        .await
        .expect("deploy");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let handler_seen = Arc::clone(&seen);
    let worker = target
        .gateway
        .start_worker(
            WorkerConfig {
                request_timeout: Duration::from_secs(5),
                retry: RetryPolicy {
                    initial_retries: 3,
                    base: Duration::from_millis(200),
                    max: Duration::from_secs(5),
                },
                ..WorkerConfig::new("rt.check-decision")
            },
            listener(move |ctx, input| check_decision(ctx, input, Arc::clone(&handler_seen))),
        )
        .expect("worker starts");
    let key = target
        .create("rt-listened", json!({"approverGroup": "sales-managers"}))
        .await;
    let (status, page) = rest(
        &target,
        "/v2/user-tasks/search",
        &json!({"filter": {"processInstanceKey": key.to_string()}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let task_key: i64 = page["items"][0]["userTaskKey"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let completion = format!("/v2/user-tasks/{task_key}/completion");

    let (status, problem) = rest(
        &target,
        &completion,
        &json!({"variables": {"decision": "REJECT", "decidedBy": "bad"}}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], json!("COMPLETION_DENIED"));
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .ends_with("Reason to deny: 'bad may not reject this quote'"),
        "{problem}"
    );
    assert_eq!(target.instance_state(key).await.as_deref(), Some("ACTIVE"));

    let (status, body) = rest(
        &target,
        &completion,
        &json!({"variables": {"decision": "REJECT", "decidedBy": "carol"}}),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(
        target.instance_state(key).await.as_deref(),
        Some("COMPLETED")
    );

    let report = worker.shutdown(Duration::from_secs(5)).await;
    assert_eq!(
        (
            report.stats.denied,
            report.stats.completed,
            report.stats.failed
        ),
        (1, 1, 0)
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|t| t.user_task_key == task_key
        && t.action == "complete"
        && t.candidate_groups == ["sales-managers"]));
}
