//! Conformance scenarios driven through zeebe-rs over gRPC (see `support` for the target).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use serde_json::json;
use support::{Target, bpmn, complete, vars};

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_service_task_is_deployed_created_activated_and_completed() {
    let target = Target::start().await;
    let topology = target.client.topology().send().await.expect("topology");
    assert_eq!(topology.partitions_count(), 1);

    let xml = bpmn("one-task.bpmn");
    let first = target.deploy("one-task.bpmn", &xml).await;
    let again = target.deploy("one-task.bpmn", &xml).await;
    let meta = |d: &zeebe_rs::DeployResourceResponse| match d.deployments()[0].metadata() {
        Some(zeebe_rs::Metadata::Process(p)) => (
            p.bpmn_process_id().to_owned(),
            p.version(),
            p.process_definition_key(),
        ),
        other => panic!("expected a process, got {other:?}"),
    };
    assert_eq!(
        meta(&first),
        meta(&again),
        "same content keeps version and key"
    );
    assert_eq!(meta(&first).0, "one-task");

    let key = target.create("one-task", json!({"orderId": "o-1"})).await;
    let job = target
        .activate("one-task-work", WAIT)
        .await
        .expect("job activated");
    assert_eq!(job.process_instance_key(), key);
    assert_eq!(job.element_id(), "Task_Work");
    assert_eq!(job.retries(), 3);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(job.custom_headers()).unwrap(),
        json!({"kind": "demo"})
    );
    assert_eq!(vars(&job), json!({"orderId": "o-1"}));
    complete(&target.client, &job, json!({"done": true})).await;
    if target.is_embedded() {
        assert_eq!(target.instance_state(key).await, "COMPLETED");
    }
}
