//! `order-fulfillment` when something goes wrong: business refusals caught into the fallout
//! path, technical failures retried and, once out of retries, incidents an operator resolves.

use std::sync::atomic::Ordering;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::ORDER_FULFILLMENT;
use crate::plan::{
    ACTIVATE_SERVICE, CONFIGURE_CPE, HAPPY_PATH, INNER_LOCALS, RESERVE_INVENTORY, order, succeeded,
};
use crate::platform::{Platform, eventually, stop, variables};
use crate::stand_ins::{BUDGET, Faults, StandIns, Until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_task_ends_its_sibling_and_the_order_falls_out_naming_the_task() {
    let platform = Platform::start().await;
    // CONFIGURE_CPE is refused while ACTIVATE_SERVICE is still running; that one answers only
    // after the fallout was recorded.
    let stand_ins = StandIns::new(Faults {
        refused_task: Some(CONFIGURE_CPE),
        hold: Some((ACTIVATE_SERVICE, Until::Ran("order.record-fallout"))),
        ..Faults::default()
    });
    let workers = stand_ins
        .registry()
        .start(&platform.gateway)
        .expect("workers start");

    let key = platform.create(ORDER_FULFILLMENT, order("ord-2")).await;
    let view = platform.ended(key).await;
    let journal = &stand_ins.journal;
    assert!(
        eventually(|| journal.answers(key, ACTIVATE_SERVICE) == ["SUCCEEDED"]).await,
        "the sibling answers once released"
    );

    assert_eq!(view["state"], "COMPLETED");
    assert_eq!(stand_ins.overlap_missed(), 0, "the sibling ran alongside");
    assert_eq!(
        journal.job_types(key),
        [
            "order.validate",
            "order.decompose",
            "order.advance",
            "integration.inventory.reserve",
            "order.advance",
            "integration.provisioning.activate", // CONFIGURE_CPE, refused
            "order.record-fallout",
            "integration.provisioning.activate", // ACTIVATE_SERVICE, too late
        ]
    );
    assert_eq!(journal.answers(key, CONFIGURE_CPE), ["REJECTED_BUSINESS"]);
    assert_eq!(
        journal.seen(key, "order.record-fallout"),
        json!({"orderId": "ord-2", "falloutStep": "EXECUTE_TASKS",
               "falloutCode": "PROVISIONING_REJECTED",
               "falloutReason": "UNSUPPORTED_CPE_MODEL: CPE-XR500 cannot be configured on this line",
               "rejectedTaskId": CONFIGURE_CPE})
    );
    let vars = variables(&view);
    assert_eq!(vars["falloutStep"], "EXECUTE_TASKS");
    assert_eq!(vars["falloutCode"], "PROVISIONING_REJECTED");
    assert_eq!(vars["rejectedTaskId"], CONFIGURE_CPE);
    assert_eq!(vars["orderStep"], "FALLOUT");
    // The refused batch's results never reach the process: taskResults is still batch 1's.
    assert_eq!(
        vars["taskResults"],
        json!([succeeded("ord-2", RESERVE_INVENTORY)])
    );
    for local in INNER_LOCALS {
        assert!(!vars.contains_key(local), "{local} leaked: {vars:?}");
    }
    assert_eq!(view["incidents"], json!([]), "a refusal is no incident");
    // The boundary ended the sibling: the engine refused its late completion (NOT_FOUND).
    stop(workers, &[("integration.provisioning.activate", 1)]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_and_decomposition_failures_reach_record_fallout_with_their_step() {
    let platform = Platform::start().await;
    let stand_ins = StandIns::new(Faults {
        invalid_order: Some("ord-invalid"),
        unplannable_order: Some("ord-unplannable"),
        ..Faults::default()
    });
    let workers = stand_ins
        .registry()
        .start(&platform.gateway)
        .expect("workers start");

    let invalid = platform
        .create(ORDER_FULFILLMENT, order("ord-invalid"))
        .await;
    let unplannable = platform
        .create(ORDER_FULFILLMENT, order("ord-unplannable"))
        .await;
    let cases = [
        (
            invalid,
            "ord-invalid",
            &HAPPY_PATH[..1],
            "VALIDATE",
            "VALIDATION_FAILED",
            "CUSTOMER_BLOCKED: customer cust-42 is blocked",
        ),
        (
            unplannable,
            "ord-unplannable",
            &HAPPY_PATH[..2],
            "DECOMPOSE",
            "DECOMPOSITION_FAILED",
            "NO_FULFILMENT_PROFILE: offering FIBER-1G has no fulfilment profile",
        ),
    ];
    for (key, order_id, before, step, code, reason) in cases {
        let view = platform.ended(key).await;
        assert_eq!(view["state"], "COMPLETED", "{order_id}");
        let mut ran = before.to_vec();
        ran.push("order.record-fallout");
        assert_eq!(stand_ins.journal.job_types(key), ran, "{order_id}");
        assert_eq!(
            stand_ins.journal.seen(key, "order.record-fallout"),
            json!({"orderId": order_id, "falloutStep": step, "falloutCode": code,
                   "falloutReason": reason, "rejectedTaskId": null})
        );
        let vars = variables(&view);
        assert_eq!(vars["falloutStep"], step);
        assert_eq!(vars["falloutCode"], code);
        assert_eq!(vars["orderStep"], "FALLOUT");
        assert_eq!(view["incidents"], json!([]), "{order_id}");
    }
    stop(workers, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn technical_failures_retry_and_an_exhausted_call_holds_its_batch_until_resolved() {
    let platform = Platform::start().await;
    let faults = Faults {
        flaky_task: Some(ACTIVATE_SERVICE),
        down_task: Some(CONFIGURE_CPE),
        ..Faults::default()
    };
    faults.down.store(true, Ordering::SeqCst);
    let stand_ins = StandIns::new(faults.clone());
    let workers = stand_ins
        .registry()
        .start(&platform.gateway)
        .expect("workers start");

    let key = platform.create(ORDER_FULFILLMENT, order("ord-3")).await;
    let incident = platform.incident(key).await;
    assert_eq!(incident["errorType"], "JOB_NO_RETRIES");
    assert_eq!(
        incident["errorMessage"],
        "FAILED_TECHNICAL: provisioning system unavailable; 0 attempts left"
    );
    assert_eq!(incident["elementId"], "Task_RunReadyTasks");
    let journal = &stand_ins.journal;
    // The failure with budget left was retried, and its call succeeded meanwhile.
    assert!(
        eventually(|| journal.answers(key, ACTIVATE_SERVICE) == ["FAILED_TECHNICAL", "SUCCEEDED"])
            .await,
        "{:?}",
        journal.answers(key, ACTIVATE_SERVICE)
    );
    assert_eq!(
        journal.answers(key, CONFIGURE_CPE),
        vec!["FAILED_TECHNICAL"; BUDGET],
        "the worker's budget decides, not retries=\"5\" on the task"
    );
    let view = platform.instance(key).await;
    assert_eq!(view["state"], "ACTIVE", "an incident holds the order");
    let elements = view["activeElements"].as_array().expect("active elements");
    assert!(
        elements
            .iter()
            .any(|e| e["elementId"] == "Task_RunReadyTasks" && e["job"]["retries"] == 0),
        "{elements:#?}"
    );
    let advances = || {
        journal
            .job_types(key)
            .iter()
            .filter(|t| *t == "order.advance")
            .count()
    };
    assert_eq!(advances(), 2, "the batch waits for its last call");

    // The system is back; the operator gives the job a retry and resolves the incident.
    faults.down.store(false, Ordering::SeqCst);
    let incident_key = incident["incidentKey"].as_str().expect("key");
    let (status, body) = platform
        .post(
            &format!("/v1/ops/incidents/{incident_key}/resolve"),
            &json!({"retries": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let view = platform.ended(key).await;
    assert_eq!(view["state"], "COMPLETED");
    let mut expected = vec!["FAILED_TECHNICAL"; BUDGET];
    expected.push("SUCCEEDED");
    assert_eq!(journal.answers(key, CONFIGURE_CPE), expected);
    let results: Vec<Value> = journal
        .seen_all(key, "order.advance")
        .into_iter()
        .map(|a| a["taskResults"].clone())
        .collect();
    assert_eq!(
        results[2],
        json!([
            succeeded("ord-3", ACTIVATE_SERVICE),
            succeeded("ord-3", CONFIGURE_CPE)
        ])
    );
    let mut distinct = journal.job_types(key);
    distinct.dedup();
    let mut happy = HAPPY_PATH.to_vec();
    happy.dedup();
    assert_eq!(distinct, happy, "retries repeat a call, never skip a step");
    assert_eq!(variables(&view)["orderStep"], "COMPLETED");
    assert_eq!(view["incidents"], json!([]));
    stop(workers, &[]).await;
}
