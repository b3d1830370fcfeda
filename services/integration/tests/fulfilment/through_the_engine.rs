//! Through the engine: the worker maps FAILED_TECHNICAL to job failures with the budget's
//! back-off (the task waits out an outage and completes), and REJECTED_BUSINESS to a BPMN error
//! the process catches.

use std::time::{Duration, Instant};

use serde_json::json;

use super::stack::Stack;

#[tokio::test]
async fn an_outage_of_thirty_seconds_is_waited_out_and_nothing_is_marked_failed() {
    let stack = Stack::start().await;
    let _integration = stack.serve_integration(&[]).await;
    stack
        .fault(json!({"system": "provisioning", "mode": "UNAVAILABLE", "delayMs": 30_000}))
        .await;
    let started = Instant::now();
    let (instance, key) = stack.start_probe().await;
    let (state, variables) = stack
        .wait_until_done(instance, Duration::from_secs(90))
        .await;
    let took = started.elapsed();
    assert_eq!(state, "COMPLETED");
    assert_eq!(
        variables["externalCall"]["outcome"], "SUCCEEDED",
        "{variables:?}"
    );
    assert!(took >= Duration::from_secs(29), "completed after {took:?}");

    let calls = stack.calls(&key).await;
    let (last, refused) = calls.split_last().expect("calls were logged");
    assert_eq!(
        last,
        &("ATTEMPT".to_owned(), "SUCCEEDED".to_owned(), None),
        "{calls:?}"
    );
    assert!(refused.len() >= 3, "several attempts while down: {calls:?}");
    for call in refused {
        assert_eq!(
            call,
            &(
                "ATTEMPT".to_owned(),
                "FAILED_TECHNICAL".to_owned(),
                Some("CONNECTION_REFUSED".to_owned())
            )
        );
    }
    // Only the success was published: no failure event, no guess.
    assert_eq!(
        stack.events(&key).await,
        ["integration.provisioning.activation-succeeded.v1"]
    );
    assert_eq!(stack.activations(&key).await, 1);
}

#[tokio::test]
async fn a_refusal_is_thrown_as_a_bpmn_error_the_process_catches() {
    let stack = Stack::start().await;
    let _integration = stack.serve_integration(&[]).await;
    stack
        .fault(
            json!({"system": "provisioning", "operation": "activate", "mode": "REJECT",
            "code": "INVALID_SERVICE_SPEC", "message": "FIBER-1G is not sold at this address"}),
        )
        .await;
    let (instance, key) = stack.start_probe().await;
    let (state, variables) = stack
        .wait_until_done(instance, Duration::from_secs(30))
        .await;
    assert_eq!(state, "COMPLETED");
    assert_eq!(
        variables["externalCall"]["outcome"], "REJECTED_BUSINESS",
        "{variables:?}"
    );
    assert!(
        variables["falloutReason"]
            .as_str()
            .is_some_and(|r| r.starts_with("INVALID_SERVICE_SPEC")),
        "{variables:?}"
    );
    assert_eq!(
        stack.calls(&key).await,
        [(
            "ATTEMPT".to_owned(),
            "REJECTED_BUSINESS".to_owned(),
            Some("INVALID_SERVICE_SPEC".to_owned())
        )]
    );
    assert_eq!(
        stack.events(&key).await,
        ["integration.provisioning.activation-failed.v1"]
    );
    assert_eq!(stack.activations(&key).await, 0);
}
