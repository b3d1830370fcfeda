//! Every adapter operation through each class of the taxonomy: a success is mapped to the
//! core's result, a business refusal carries the downstream's code and is never retried, a
//! technical failure is retried with back-off until the budget is spent. The call log shows
//! every attempt and the effects log what the downstream applied.

use std::time::Duration;

use integration::domain::{Operation, Step};
use serde_json::json;

use super::harness::{BUDGET, World, key, sim_name};

fn attempt(class: &str, code: Option<&str>) -> (String, String, Option<String>) {
    ("ATTEMPT".into(), class.into(), code.map(str::to_owned))
}

#[tokio::test]
async fn every_operation_maps_success_refusal_and_technical_failure() {
    let world = World::start(Duration::from_secs(3)).await;
    for operation in Operation::ALL {
        let system = operation.system();

        // SUCCEEDED: the core's result, one effect, one event; asking again sends nothing.
        let success = world.ready_request(operation).await;
        let success_key = key(&success);
        let step = world.execute(&success).await;
        let Step::Done(result) = &step else {
            panic!("{operation}: {step:?}");
        };
        assert!(!result.external_state.is_empty(), "{operation}");
        assert_eq!(world.execute(&success).await, step, "{operation} replays");
        assert_eq!(
            world.calls(&success_key).await,
            [attempt("SUCCEEDED", None)],
            "{operation}"
        );
        assert_eq!(world.effects(system, &success_key).await, 1, "{operation}");
        assert_eq!(world.operation(&success_key).await, ("SUCCEEDED".into(), 1));
        assert_eq!(world.events(&success_key).await.len(), 1, "{operation}");

        // REJECTED_BUSINESS: the downstream's code, no effect, never retried (the fault is
        // used up, so a retry would have succeeded).
        let refused = world.ready_request(operation).await;
        let refused_key = key(&refused);
        world
            .fault(json!({"system": sim_name(system), "operation": operation.name(),
                "mode": "REJECT", "times": 1, "code": "DOWNSTREAM_SAYS_NO", "message": "not today"}))
            .await;
        for _ in 0..2 {
            match world.execute(&refused).await {
                Step::Refused(rejection) => assert_eq!(rejection.code, "DOWNSTREAM_SAYS_NO"),
                other => panic!("{operation}: {other:?}"),
            }
        }
        assert_eq!(
            world.calls(&refused_key).await,
            [attempt("REJECTED_BUSINESS", Some("DOWNSTREAM_SAYS_NO"))],
            "{operation}"
        );
        assert_eq!(world.effects(system, &refused_key).await, 0, "{operation}");
        assert_eq!(world.operation(&refused_key).await, ("REJECTED".into(), 1));

        // FAILED_TECHNICAL: retried with a growing back-off until the budget is spent.
        let failing = world.ready_request(operation).await;
        let failing_key = key(&failing);
        world
            .fault(json!({"system": sim_name(system), "operation": operation.name(), "mode": "ERROR_5XX"}))
            .await;
        let mut waits = Vec::new();
        for attempt_number in 1..=BUDGET {
            match world.execute(&failing).await {
                Step::RetryAfter {
                    remaining, wait, ..
                } => {
                    assert_eq!(remaining, BUDGET - attempt_number, "{operation}");
                    waits.push(wait);
                }
                Step::Exhausted { .. } => assert_eq!(attempt_number, BUDGET, "{operation}"),
                other => panic!("{operation}: {other:?}"),
            }
        }
        world.sim.clear_faults().await;
        assert_eq!(
            waits,
            [Duration::from_millis(100), Duration::from_millis(200)],
            "{operation}"
        );
        assert_eq!(
            world.calls(&failing_key).await,
            vec![attempt("FAILED_TECHNICAL", Some("SERVICE_UNAVAILABLE")); BUDGET as usize],
            "{operation}"
        );
        assert_eq!(world.effects(system, &failing_key).await, 0, "{operation}");
        assert_eq!(
            world.operation(&failing_key).await,
            ("EXHAUSTED".into(), i32::try_from(BUDGET).unwrap_or(0))
        );
        // An operator's retry re-arms the budget and the effect is applied once.
        assert!(matches!(world.execute(&failing).await, Step::Done(_)));
        assert_eq!(world.effects(system, &failing_key).await, 1, "{operation}");
        assert_eq!(
            world.events(&failing_key).await.len(),
            2,
            "{operation}: failed, then succeeded"
        );
    }
}
