//! Message correlation scenarios driven through zeebe-rs (PublishMessage, catch and boundary).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use serde_json::json;
use support::{Target, bpmn, complete, vars};

const WAIT: Duration = Duration::from_secs(5);

async fn publish(
    target: &Target,
    name: &str,
    key: &str,
    ttl: Duration,
    id: Option<&str>,
    variables: serde_json::Value,
) -> Result<i64, zeebe_rs::ClientError> {
    let mut request = target
        .client
        .publish_message()
        .with_name(name.to_owned())
        .with_correlation_key(key.to_owned())
        .with_time_to_live(ttl);
    if let Some(id) = id {
        request = request.with_message_id(id.to_owned());
    }
    request
        .with_variables(variables)
        .expect("variables")
        .send()
        .await
        .map(|r| r.key())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_correlates_to_a_subscription_opened_before_it() {
    let target = Target::start().await;
    target
        .deploy("message-catch.bpmn", &bpmn("message-catch.bpmn"))
        .await;
    let key = target
        .create("message-catch", json!({"orderId": "o-1"}))
        .await;
    // Another order's message does not correlate.
    publish(
        &target,
        "paid",
        "o-other",
        Duration::ZERO,
        None,
        json!({"paid": "wrong"}),
    )
    .await
    .expect("publish");
    assert!(
        target
            .activate("mc-ship", Duration::from_millis(300))
            .await
            .is_none()
    );
    publish(
        &target,
        "paid",
        "o-1",
        Duration::ZERO,
        None,
        json!({"paid": 12.5}),
    )
    .await
    .expect("publish");
    let job = target.activate("mc-ship", WAIT).await.expect("ship job");
    assert_eq!(job.process_instance_key(), key);
    // No output mapping: the message variables are merged into the instance.
    assert_eq!(vars(&job), json!({"orderId": "o-1", "paid": 12.5}));
    complete(&target.client, &job, json!({})).await;
    if target.is_embedded() {
        assert_eq!(target.instance_state(key).await, "COMPLETED");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buffered_message_correlates_when_the_subscription_opens_within_its_ttl() {
    let target = Target::start().await;
    target
        .deploy("message-catch.bpmn", &bpmn("message-catch.bpmn"))
        .await;
    publish(
        &target,
        "paid",
        "o-2",
        Duration::from_secs(60),
        None,
        json!({"paid": 1}),
    )
    .await
    .expect("publish");
    let first = target
        .create("message-catch", json!({"orderId": "o-2"}))
        .await;
    let job = target.activate("mc-ship", WAIT).await.expect("ship job");
    assert_eq!(job.process_instance_key(), first);
    assert_eq!(vars(&job)["paid"], json!(1));
    // A message correlates once per process: a second instance keeps waiting.
    let second = target
        .create("message-catch", json!({"orderId": "o-2"}))
        .await;
    assert!(
        target
            .activate("mc-ship", Duration::from_millis(500))
            .await
            .is_none()
    );
    if target.is_embedded() {
        assert_eq!(target.instance_state(second).await, "ACTIVE");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_message_is_not_correlated() {
    let target = Target::start().await;
    target
        .deploy("message-catch.bpmn", &bpmn("message-catch.bpmn"))
        .await;
    publish(
        &target,
        "paid",
        "o-3",
        Duration::from_millis(200),
        None,
        json!({"paid": 1}),
    )
    .await
    .expect("publish");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let key = target
        .create("message-catch", json!({"orderId": "o-3"}))
        .await;
    assert!(
        target
            .activate("mc-ship", Duration::from_secs(1))
            .await
            .is_none()
    );
    publish(
        &target,
        "paid",
        "o-3",
        Duration::ZERO,
        None,
        json!({"paid": 2}),
    )
    .await
    .expect("publish");
    let job = target.activate("mc-ship", WAIT).await.expect("ship job");
    assert_eq!(job.process_instance_key(), key);
    assert_eq!(vars(&job)["paid"], json!(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_message_id_within_ttl_is_already_exists() {
    let target = Target::start().await;
    let ttl = Duration::from_secs(60);
    publish(&target, "dup", "k", ttl, Some("m-1"), json!({}))
        .await
        .expect("first publish");
    let again = publish(&target, "dup", "k", ttl, Some("m-1"), json!({})).await;
    match again {
        Err(zeebe_rs::ClientError::RequestFailed(status)) => {
            assert_eq!(
                format!("{:?}", status.code()),
                "AlreadyExists",
                "{status:?}"
            );
        }
        other => panic!("expected ALREADY_EXISTS, got {other:?}"),
    }
    // Another id, or the same id under another correlation key, is a new message.
    publish(&target, "dup", "k", ttl, Some("m-2"), json!({}))
        .await
        .expect("other id");
    publish(&target, "dup", "k2", ttl, Some("m-1"), json!({}))
        .await
        .expect("other key");
    // Once the first has expired its id can be used again.
    publish(
        &target,
        "dup",
        "short",
        Duration::from_millis(100),
        Some("m-3"),
        json!({}),
    )
    .await
    .expect("short");
    tokio::time::sleep(Duration::from_millis(300)).await;
    publish(&target, "dup", "short", ttl, Some("m-3"), json!({}))
        .await
        .expect("id reusable after expiry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_boundary_events_interrupting_and_not() {
    let target = Target::start().await;
    target
        .deploy("message-boundary.bpmn", &bpmn("message-boundary.bpmn"))
        .await;
    let key = target
        .create("message-boundary", json!({"caseId": 7}))
        .await;
    let work = target.activate("mb-work", WAIT).await.expect("work job");
    // Non-interrupting: a token leaves through the boundary, the task keeps its job.
    publish(
        &target,
        "note",
        "7",
        Duration::ZERO,
        None,
        json!({"note": "hi"}),
    )
    .await
    .expect("publish note");
    let note = target.activate("mb-note", WAIT).await.expect("note job");
    assert_eq!(vars(&note)["note"], json!("hi"));
    complete(&target.client, &note, json!({})).await;
    // Interrupting: the task and its job are terminated, the boundary path is taken.
    publish(
        &target,
        "cancel",
        "7",
        Duration::ZERO,
        None,
        json!({"reason": "customer"}),
    )
    .await
    .expect("publish cancel");
    let late = target
        .client
        .complete_job()
        .with_job_key(work.key())
        .send()
        .await;
    assert!(late.is_err(), "the interrupted task's job is gone");
    if target.is_embedded() {
        assert_eq!(target.instance_state(key).await, "COMPLETED");
    }
}
