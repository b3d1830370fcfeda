//! `order-fulfillment` through its plan loop: batches of ready tasks run in parallel until the
//! plan is settled (complete) or the order halted.

use std::time::Duration;

use serde_json::{Value, json};

use crate::ORDER_FULFILLMENT;
use crate::plan::{
    ACTIVATE_SERVICE, CONFIGURE_CPE, HAPPY_PATH, INNER_LOCALS, PLAN, RESERVE_INVENTORY,
    START_BILLING, order, request, succeeded,
};
use crate::platform::{Platform, stop, variables};
use crate::stand_ins::{Faults, StandIns, Until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_runs_its_plan_in_batches_with_independent_tasks_in_parallel_and_completes() {
    let platform = Platform::start().await;
    // CONFIGURE_CPE answers before ACTIVATE_SERVICE: completion order differs from element order.
    let stand_ins = StandIns::new(Faults {
        hold: Some((ACTIVATE_SERVICE, Until::Answered(CONFIGURE_CPE))),
        ..Faults::default()
    });
    let workers = stand_ins
        .registry()
        .start(&platform.gateway)
        .expect("workers start");

    let key = platform.create(ORDER_FULFILLMENT, order("ord-1")).await;
    let view = platform.ended(key).await;

    assert_eq!(view["state"], "COMPLETED");
    let journal = &stand_ins.journal;
    assert_eq!(journal.job_types(key), HAPPY_PATH);
    // The independent tasks came in one batch: both jobs were activated before either answered.
    assert_eq!(
        stand_ins.overlap_missed(),
        0,
        "activated one after the other"
    );
    let answered: Vec<Value> = journal
        .calls(key)
        .into_iter()
        .filter_map(|c| c.seen.get("answer").map(|_| c.seen["taskId"].clone()))
        .collect();
    assert_eq!(
        answered,
        [
            RESERVE_INVENTORY,
            CONFIGURE_CPE,
            ACTIVATE_SERVICE,
            START_BILLING
        ]
    );

    // Three batches, then the settled plan; each advance gets the previous batch's results in
    // element order (readyTasks order), whatever order the calls answered in.
    let advances = journal.seen_all(key, "order.advance");
    let batches: Vec<&Value> = advances.iter().map(|a| &a["readyTaskIds"]).collect();
    assert_eq!(
        batches,
        [
            &json!([RESERVE_INVENTORY]),
            &json!([ACTIVATE_SERVICE, CONFIGURE_CPE]),
            &json!([START_BILLING]),
            &json!([]),
        ]
    );
    let results: Vec<&Value> = advances.iter().map(|a| &a["taskResults"]).collect();
    let ok = |task| succeeded("ord-1", task);
    assert_eq!(
        results,
        [
            &Value::Null,
            &json!([ok(RESERVE_INVENTORY)]),
            &json!([ok(ACTIVATE_SERVICE), ok(CONFIGURE_CPE)]),
            &json!([ok(START_BILLING)]),
        ]
    );
    let settled: Vec<&Value> = advances.iter().map(|a| &a["planSettled"]).collect();
    assert_eq!(
        settled,
        [&json!(false), &json!(false), &json!(false), &json!(true)]
    );

    // Each call read tenant and order from the process, and its task, item and request from
    // its element of readyTasks (the task's input mappings).
    for task in &PLAN {
        let calls: Vec<Value> = journal
            .calls(key)
            .into_iter()
            .filter(|c| c.seen["taskId"] == task.task_id)
            .map(|c| c.seen)
            .collect();
        assert_eq!(
            calls,
            [
                json!({"tenantId": "demo", "orderId": "ord-1", "orderItemId": task.order_item_id,
                    "taskId": task.task_id, "request": request(task.task_id),
                    "answer": "SUCCEEDED"})
            ],
            "{}",
            task.task_type
        );
    }

    let vars = variables(&view);
    assert_eq!(vars["orderStep"], "COMPLETED");
    assert_eq!(vars["planHash"], "plan-ord-1");
    assert_eq!(vars["planSettled"], true);
    assert_eq!(vars["halted"], false);
    assert_eq!(vars["readyTasks"], json!([]));
    assert_eq!(vars["taskResults"], json!([ok(START_BILLING)]));
    // An inner instance's variables stay in it (ADR 0039): only outputCollection comes out.
    for local in INNER_LOCALS.iter().chain(&["falloutCode"]) {
        assert!(!vars.contains_key(*local), "{local} leaked: {vars:?}");
    }
    assert_eq!(view["incidents"], json!([]));
    stop(workers, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_halted_by_advance_ends_without_another_job() {
    let platform = Platform::start().await;
    // The order fell out meanwhile (say by an integration event): the second advance says so.
    let stand_ins = StandIns::new(Faults {
        halt_at_advance: Some(2),
        ..Faults::default()
    });
    let workers = stand_ins
        .registry()
        .start(&platform.gateway)
        .expect("workers start");

    let key = platform.create(ORDER_FULFILLMENT, order("ord-6")).await;
    let view = platform.ended(key).await;

    assert_eq!(view["state"], "COMPLETED");
    let ran = HAPPY_PATH[..5].to_vec();
    assert_eq!(stand_ins.journal.job_types(key), ran);
    let last = stand_ins.journal.seen(key, "order.advance");
    assert_eq!(last["halted"], true);
    assert_eq!(
        last["taskResults"],
        json!([succeeded("ord-6", RESERVE_INVENTORY)])
    );
    // Nothing waits and nothing comes later: no complete, no fallout, no external call.
    assert_eq!(view["activeElements"], json!([]));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(stand_ins.journal.job_types(key), ran);
    let vars = variables(&view);
    assert_eq!(vars["halted"], true);
    assert_eq!(vars["orderStep"], "VALIDATED", "complete never ran");
    assert!(!vars.contains_key("falloutCode"));
    assert_eq!(view["incidents"], json!([]));
    stop(workers, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_halted_at_completion_ends_without_fallout() {
    let platform = Platform::start().await;
    let stand_ins = StandIns::new(Faults {
        halted_at_completion: true,
        ..Faults::default()
    });
    let workers = stand_ins
        .registry()
        .start(&platform.gateway)
        .expect("workers start");

    let key = platform.create(ORDER_FULFILLMENT, order("ord-7")).await;
    let view = platform.ended(key).await;

    // ORDER_HALTED is caught on Complete order and ends the instance: the fallout was recorded
    // where the order fell out, not again by the process.
    assert_eq!(view["state"], "COMPLETED");
    assert_eq!(stand_ins.journal.job_types(key), HAPPY_PATH);
    let vars = variables(&view);
    assert_ne!(vars["orderStep"], "COMPLETED");
    assert!(!vars.contains_key("falloutCode"));
    assert_eq!(view["incidents"], json!([]));
    stop(workers, &[]).await;
}
