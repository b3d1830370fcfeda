//! A timeout is never a failure: an attempt that timed out or lost its connection is reconciled
//! by asking the downstream for its key, and nothing is sent again until it has answered.

use std::time::Duration;

use integration::domain::{ExternalSystem, Operation, Step};
use serde_json::json;

use super::harness::{World, body, key, request};

fn activation() -> (
    integration::app::ExecuteRequest,
    integration::domain::IdempotencyKey,
) {
    let activate = request(
        Operation::ProvisioningActivate,
        body(Operation::ProvisioningActivate, ""),
    );
    let key = key(&activate);
    (activate, key)
}

fn call(kind: &str, finding: &str, code: Option<&str>) -> (String, String, Option<String>) {
    (kind.into(), finding.into(), code.map(str::to_owned))
}

#[tokio::test]
async fn a_timeout_on_activate_is_reconciled_as_applied_with_one_effect() {
    let world = World::start(Duration::from_millis(300)).await;
    let (activate, key) = activation();
    world
        .fault(
            json!({"system": "provisioning", "operation": "activate", "mode": "TIMEOUT",
            "times": 1, "delayMs": 1500}),
        )
        .await;
    let step = world.execute(&activate).await;
    let Step::Done(result) = step else {
        panic!("{step:?}");
    };
    assert_eq!(result.external_state, "ACTIVE");
    assert!(result.external_reference.is_some());
    assert_eq!(
        world.calls(&key).await,
        [
            call("ATTEMPT", "OUTCOME_UNKNOWN", Some("TIMEOUT")),
            call("STATUS_QUERY", "APPLIED", None),
        ]
    );
    assert_eq!(world.effects(ExternalSystem::Provisioning, &key).await, 1);
    assert_eq!(world.operation(&key).await, ("SUCCEEDED".into(), 1));
    assert_eq!(
        world.events(&key).await,
        ["integration.provisioning.activation-succeeded.v1"]
    );
}

#[tokio::test]
async fn a_5xx_twice_then_success_is_three_attempts_and_one_effect() {
    let world = World::start(Duration::from_secs(3)).await;
    let (activate, key) = activation();
    world
        .fault(json!({"system": "provisioning", "operation": "activate", "mode": "ERROR_5XX", "times": 2}))
        .await;
    assert!(matches!(
        world.execute(&activate).await,
        Step::RetryAfter { remaining: 2, .. }
    ));
    assert!(matches!(
        world.execute(&activate).await,
        Step::RetryAfter { remaining: 1, .. }
    ));
    assert!(matches!(world.execute(&activate).await, Step::Done(_)));
    assert_eq!(
        world.calls(&key).await,
        [
            call("ATTEMPT", "FAILED_TECHNICAL", Some("SERVICE_UNAVAILABLE")),
            call("ATTEMPT", "FAILED_TECHNICAL", Some("SERVICE_UNAVAILABLE")),
            call("ATTEMPT", "SUCCEEDED", None),
        ]
    );
    assert_eq!(world.effects(ExternalSystem::Provisioning, &key).await, 1);
}

#[tokio::test]
async fn a_dropped_connection_is_reconciled_and_never_applied_twice() {
    let world = World::start(Duration::from_secs(3)).await;
    let start = request(Operation::BillingStart, body(Operation::BillingStart, ""));
    let key = key(&start);
    world
        .fault(json!({"system": "billing", "operation": "start", "mode": "DROP_CONNECTION", "times": 1}))
        .await;
    assert!(matches!(world.execute(&start).await, Step::Done(_)));
    assert_eq!(
        world.calls(&key).await,
        [
            call("ATTEMPT", "OUTCOME_UNKNOWN", Some("CONNECTION_LOST")),
            call("STATUS_QUERY", "APPLIED", None),
        ]
    );
    assert_eq!(world.effects(ExternalSystem::Billing, &key).await, 1);
}

#[tokio::test]
async fn while_the_downstream_cannot_answer_the_operation_waits_and_sends_nothing() {
    let world = World::start(Duration::from_millis(300)).await;
    let (activate, key) = activation();
    world
        .fault(
            json!({"system": "provisioning", "operation": "activate", "mode": "TIMEOUT",
            "times": 1, "delayMs": 1500}),
        )
        .await;
    world
        .fault(json!({"system": "provisioning", "operation": "status", "mode": "ERROR_5XX", "times": 2}))
        .await;
    for _ in 0..2 {
        let step = world.execute(&activate).await;
        assert!(
            matches!(step, Step::AwaitReconciliation { .. }),
            "waits, never guesses: {step:?}"
        );
        assert_eq!(world.operation(&key).await, ("OUTCOME_UNKNOWN".into(), 1));
    }
    assert!(matches!(world.execute(&activate).await, Step::Done(_)));
    assert_eq!(
        world.calls(&key).await,
        [
            call("ATTEMPT", "OUTCOME_UNKNOWN", Some("TIMEOUT")),
            call("STATUS_QUERY", "UNANSWERED", Some("HTTP_503")),
            call("STATUS_QUERY", "UNANSWERED", Some("HTTP_503")),
            call("STATUS_QUERY", "APPLIED", None),
        ]
    );
    assert_eq!(world.operation(&key).await, ("SUCCEEDED".into(), 1));
    assert_eq!(world.effects(ExternalSystem::Provisioning, &key).await, 1);
}
