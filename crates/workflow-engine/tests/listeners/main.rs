//! `completing` task listeners (ADR 0034) on the embedded engine over real PostgreSQL: a REST
//! completion waits while listener jobs run over the Zeebe gateway (zeebe-rs plays the
//! listener worker), then completes the task, or answers 409 when a listener denied it, or
//! 504 when none decided in time. Camunda 8 brings its own listeners; these scenarios run on
//! the embedded engine only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod failures;
mod flows;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Target, bpmn, key_of};
use zeebe_rs::ActivatedJob;

const WAIT: Duration = Duration::from_secs(5);

/// Deploys `listeners.bpmn`, starts an instance and returns `(instance key, user task key)`.
async fn start_approval(target: &Target) -> (i64, i64) {
    target
        .deploy("listeners.bpmn", &bpmn("listeners.bpmn"))
        .await;
    let key = target
        .create(
            "listened-approval",
            json!({
                "owner": "ann",
                "dueAt": "2030-01-02T10:00:00+01:00",
                "checkKind": "sod",
                "decision": "PENDING",
                "quoteId": "Q-7",
            }),
        )
        .await;
    let task = target
        .search_tasks(json!({"processInstanceKey": key.to_string()}), 1)
        .await
        .remove(0);
    (key, key_of(&task["userTaskKey"]))
}

/// The task as `GET /v2/user-tasks/{key}` shows it.
async fn task(target: &Target, task_key: i64) -> Value {
    let (status, body) = target
        .call(Method::GET, &format!("/v2/user-tasks/{task_key}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Completes a listener job with `JobResult.denied` and the given variables.
async fn decide(
    target: &Target,
    job: &ActivatedJob,
    denied: bool,
    variables: Value,
) -> Result<(), zeebe_rs::ClientError> {
    target
        .client
        .complete_job()
        .with_job_key(job.key())
        .with_variables(variables)
        .expect("variables")
        .with_job_result()
        .with_denied(denied)
        .build()
        .send()
        .await
        .map(|_| ())
}

/// The instance-scope variable `name`, from the engine's database.
async fn instance_variable(target: &Target, key: i64, name: &str) -> Option<Value> {
    sqlx::query_scalar("SELECT value FROM variable WHERE scope_key = $1 AND name = $2")
        .bind(key)
        .bind(name)
        .fetch_optional(target.pool())
        .await
        .expect("variable")
}

/// The gRPC status code name of a refused command.
fn refused(error: zeebe_rs::ClientError) -> (String, String) {
    match error {
        zeebe_rs::ClientError::RequestFailed(status) => {
            (format!("{:?}", status.code()), status.message().to_owned())
        }
        other => panic!("expected a refused request, got {other:?}"),
    }
}
