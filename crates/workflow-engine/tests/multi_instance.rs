//! Parallel multi-instance service tasks and catch-all error boundaries (ADR 0039), driven
//! through zeebe-rs over gRPC like `conformance.rs`, so they run against Camunda 8 too when
//! `ZEEBE_ADDRESS` is set (steps that read incidents or restart the engine are embedded-only).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use serde_json::{Value as Json, json};
use support::{Target, bpmn, complete, vars};
use tokio::sync::mpsc;
use zeebe_rs::{ActivatedJob, Client, ClientError};

const WAIT: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(400);

/// Activates up to `n` jobs of `job_type` in one long poll (`maxJobsToActivate = n`).
async fn activate_many(client: &Client, job_type: &str, n: usize) -> Vec<ActivatedJob> {
    let (tx, mut rx) = mpsc::channel::<ActivatedJob>(n.max(1));
    let worker = client
        .worker()
        .with_request_timeout(WAIT)
        .with_job_timeout(Duration::from_secs(30))
        .with_max_jobs_to_activate(i32::try_from(n).unwrap())
        .with_concurrency_limit(u32::try_from(n).unwrap())
        .with_job_type(job_type.to_owned())
        .with_handler(move |_client, job| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(job).await;
            }
        })
        .build();
    let running = tokio::spawn(worker.run());
    let mut jobs = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT + Duration::from_secs(1);
    while jobs.len() < n {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(job)) => jobs.push(job),
            _ => break,
        }
    }
    running.abort();
    jobs.sort_by_key(|j| vars(j)["loopCounter"].as_i64());
    jobs
}

fn ready_task(id: &str, job_type: &str) -> Json {
    json!({
        "taskId": id,
        "orderItemId": format!("item-{id}"),
        "jobType": job_type,
        "retries": 3,
        "request": {"sku": format!("sku-{id}")},
    })
}

fn is_not_found(err: &ClientError) -> bool {
    matches!(err, ClientError::RequestFailed(s) if format!("{:?}", s.code()) == "NotFound")
}

async fn start(process: &str, file: &str, variables: Json) -> (Target, i64) {
    let target = Target::start().await;
    target.deploy(file, &bpmn(file)).await;
    let key = target.create(process, variables).await;
    (target, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_inner_jobs_collect_their_outputs_in_element_order() {
    let tasks = vec![
        ready_task("t1", "mi-work"),
        ready_task("t2", "mi-work"),
        ready_task("t3", "mi-work"),
    ];
    let (mut target, key) = start(
        "multi-instance",
        "multi-instance.bpmn",
        json!({"readyTasks": tasks}),
    )
    .await;
    let jobs = activate_many(&target.client, "mi-work", 3).await;
    assert_eq!(jobs.len(), 3, "all inner jobs are activatable at once");
    for (i, job) in jobs.iter().enumerate() {
        let seen = vars(job);
        assert_eq!(seen["loopCounter"], json!(i + 1), "{seen}");
        assert_eq!(seen["task"], tasks[i], "{seen}");
        assert_eq!(seen["taskId"], tasks[i]["taskId"]);
        assert_eq!(seen["orderItemId"], tasks[i]["orderItemId"]);
        assert_eq!(seen["request"], tasks[i]["request"]);
        assert_eq!(job.retries(), 3);
        assert_eq!(job.element_id(), "Task_RunReadyTasks");
    }
    assert_eq!(
        jobs.iter()
            .map(ActivatedJob::element_instance_key)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        3,
        "one inner instance per element"
    );
    // Reverse order: the collection still follows the input order.
    for (step, job) in jobs.iter().rev().enumerate() {
        let n = vars(job)["loopCounter"].clone();
        complete(&target.client, job, json!({"externalCall": {"n": n}})).await;
        if step < 2 {
            assert!(
                target.activate("mi-after", QUIET).await.is_none(),
                "the body waits for every inner instance"
            );
            if target.is_embedded() && step == 0 {
                // All state is in PostgreSQL: a restart mid-body loses nothing.
                target.restart().await;
            }
        }
    }
    let after = target
        .activate("mi-after", WAIT)
        .await
        .expect("flow continues");
    let seen = vars(&after);
    assert_eq!(
        seen["taskResults"],
        json!([
            {"taskId": "t1", "call": {"n": 1}},
            {"taskId": "t2", "call": {"n": 2}},
            {"taskId": "t3", "call": {"n": 3}},
        ]),
        "{seen}"
    );
    if target.is_embedded() {
        // Inner locals and job variables stay in the inner instances (ADR 0039).
        for name in ["task", "loopCounter", "taskId", "externalCall"] {
            assert!(seen.get(name).is_none(), "{name} leaked: {seen}");
        }
    }
    complete(&target.client, &after, json!({})).await;
    if target.is_embedded() {
        assert_eq!(target.instance_state(key).await, "COMPLETED");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_collection_skips_the_activity() {
    let (target, key) = start(
        "multi-instance",
        "multi-instance.bpmn",
        json!({"readyTasks": []}),
    )
    .await;
    let after = target
        .activate("mi-after", WAIT)
        .await
        .expect("the body completes at once");
    assert_eq!(vars(&after)["taskResults"], json!([]));
    complete(&target.client, &after, json!({})).await;
    if target.is_embedded() {
        assert_eq!(target.instance_state(key).await, "COMPLETED");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_inner_instance_takes_its_job_type_from_its_element() {
    let (target, key) = start(
        "multi-instance",
        "multi-instance.bpmn",
        json!({"readyTasks": [ready_task("a", "mi-type-a"), ready_task("b", "mi-type-b")]}),
    )
    .await;
    let b = target.activate("mi-type-b", WAIT).await.expect("type b");
    let a = target.activate("mi-type-a", WAIT).await.expect("type a");
    assert_eq!(vars(&a)["taskId"], json!("a"));
    assert_eq!(vars(&b)["taskId"], json!("b"));
    assert_eq!(a.process_instance_key(), key);
    complete(&target.client, &b, json!({"externalCall": "B"})).await;
    complete(&target.client, &a, json!({"externalCall": "A"})).await;
    let after = target.activate("mi-after", WAIT).await.expect("after");
    assert_eq!(
        vars(&after)["taskResults"],
        json!([{"taskId": "a", "call": "A"}, {"taskId": "b", "call": "B"}])
    );
    complete(&target.client, &after, json!({})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_caught_by_the_catch_all_boundary_terminates_every_sibling() {
    let (target, key) = start(
        "multi-instance",
        "multi-instance.bpmn",
        json!({"readyTasks": [
            ready_task("t1", "mi-work"),
            ready_task("t2", "mi-work"),
            ready_task("t3", "mi-work"),
        ]}),
    )
    .await;
    let jobs = activate_many(&target.client, "mi-work", 3).await;
    assert_eq!(jobs.len(), 3);
    complete(&target.client, &jobs[0], json!({"externalCall": "ok"})).await;
    target
        .client
        .throw_error()
        .with_job_key(jobs[1].key())
        .with_error_code("SUPPLIER_REJECTED".to_owned())
        .with_error_message("out of stock".to_owned())
        .with_variables(json!({"falloutReason": "out of stock", "rejectedTaskId": "t2"}))
        .unwrap()
        .send()
        .await
        .expect("throw error");
    let fallout = target
        .activate("mi-fallout", WAIT)
        .await
        .expect("boundary path");
    let seen = vars(&fallout);
    assert_eq!(seen["falloutCode"], json!("SUPPLIER_REJECTED"), "{seen}");
    assert_eq!(seen["falloutReason"], json!("out of stock"));
    assert_eq!(seen["rejectedTaskId"], json!("t2"));
    // The sibling's job went with the body.
    let err = target
        .client
        .complete_job()
        .with_job_key(jobs[2].key())
        .send()
        .await
        .expect_err("sibling terminated");
    assert!(is_not_found(&err), "{err:?}");
    complete(&target.client, &fallout, json!({})).await;
    assert!(target.activate("mi-after", QUIET).await.is_none());
    if target.is_embedded() {
        assert_eq!(target.instance_state(key).await, "COMPLETED");
        let active: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM element_instance
             WHERE process_instance_key = $1 AND state = 'ACTIVE'",
        )
        .bind(key)
        .fetch_one(target.pool())
        .await
        .unwrap();
        assert_eq!(active, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_specific_error_boundary_wins_over_the_catch_all() {
    let target = Target::start().await;
    let file = "multi-instance-specific.bpmn";
    target.deploy(file, &bpmn(file)).await;
    let items = json!({"items": [{"jobType": "mis-work"}, {"jobType": "mis-work"}]});
    for (code, job_type, caught) in [
        ("REJECTED", "mis-specific", "specific:REJECTED:nope"),
        ("OTHER", "mis-any", "OTHER"),
    ] {
        let key = target
            .create("multi-instance-specific", items.clone())
            .await;
        let jobs = activate_many(&target.client, "mis-work", 2).await;
        assert_eq!(jobs.len(), 2);
        target
            .client
            .throw_error()
            .with_job_key(jobs[0].key())
            .with_error_code(code.to_owned())
            .with_error_message("nope".to_owned())
            .send()
            .await
            .expect("throw error");
        let next = target
            .activate(job_type, WAIT)
            .await
            .unwrap_or_else(|| panic!("{code} is caught by {job_type}"));
        assert_eq!(next.process_instance_key(), key);
        assert_eq!(vars(&next)["caughtBy"], json!(caught));
        let err = target
            .client
            .complete_job()
            .with_job_key(jobs[1].key())
            .send()
            .await
            .expect_err("sibling terminated");
        assert!(is_not_found(&err), "{err:?}");
        complete(&target.client, &next, json!({})).await;
        if target.is_embedded() {
            assert_eq!(target.instance_state(key).await, "COMPLETED");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_inner_job_raises_one_incident_and_siblings_go_on() {
    let (target, key) = start(
        "multi-instance",
        "multi-instance.bpmn",
        json!({"readyTasks": [
            ready_task("t1", "mi-work"),
            ready_task("t2", "mi-work"),
            ready_task("t3", "mi-work"),
        ]}),
    )
    .await;
    let jobs = activate_many(&target.client, "mi-work", 3).await;
    assert_eq!(jobs.len(), 3);
    target
        .client
        .fail_job()
        .with_job_key(jobs[1].key())
        .with_retries(0)
        .with_error_message("supplier down".to_owned())
        .send()
        .await
        .expect("fail without retries");
    complete(&target.client, &jobs[0], json!({"externalCall": 1})).await;
    complete(&target.client, &jobs[2], json!({"externalCall": 3})).await;
    assert!(
        target.activate("mi-after", QUIET).await.is_none(),
        "the body waits for the failed inner instance"
    );
    if !target.is_embedded() {
        return; // incident keys come from Operate on Camunda 8
    }
    let incidents = target.incidents(key).await;
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(
        (incidents[0].1.as_str(), incidents[0].2.as_str()),
        ("JOB_NO_RETRIES", "supplier down")
    );
    target
        .client
        .update_job_retries()
        .with_job_key(jobs[1].key())
        .with_retries(1)
        .send()
        .await
        .expect("retries");
    target
        .client
        .resolve_incident()
        .with_incident_key(incidents[0].0)
        .send()
        .await
        .expect("resolve");
    let again = target
        .activate("mi-work", WAIT)
        .await
        .expect("activatable again");
    assert_eq!(again.key(), jobs[1].key());
    assert_eq!(vars(&again)["loopCounter"], json!(2));
    complete(&target.client, &again, json!({"externalCall": 2})).await;
    let after = target.activate("mi-after", WAIT).await.expect("after");
    assert_eq!(
        vars(&after)["taskResults"],
        json!([
            {"taskId": "t1", "call": 1},
            {"taskId": "t2", "call": 2},
            {"taskId": "t3", "call": 3},
        ])
    );
    complete(&target.client, &after, json!({})).await;
    assert_eq!(target.instance_state(key).await, "COMPLETED");
    assert!(target.incidents(key).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_list_input_collection_raises_an_incident_that_can_be_resolved() {
    let (target, key) = start(
        "multi-instance",
        "multi-instance.bpmn",
        json!({"readyTasks": "not a list"}),
    )
    .await;
    assert!(target.activate("mi-after", QUIET).await.is_none());
    if !target.is_embedded() {
        return; // incident keys come from Operate on Camunda 8
    }
    let incidents = target.incidents(key).await;
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(incidents[0].1, "EXTRACT_VALUE_ERROR");
    assert!(incidents[0].2.contains("readyTasks"), "{}", incidents[0].2);
    target
        .client
        .set_variables()
        .with_element_instance_key(key)
        .with_variable(json!({"readyTasks": [ready_task("t1", "mi-work")]}))
        .unwrap()
        .send()
        .await
        .expect("fix the variable");
    target
        .client
        .resolve_incident()
        .with_incident_key(incidents[0].0)
        .send()
        .await
        .expect("resolve");
    let job = target.activate("mi-work", WAIT).await.expect("inner job");
    complete(&target.client, &job, json!({"externalCall": "x"})).await;
    let after = target.activate("mi-after", WAIT).await.expect("after");
    assert_eq!(
        vars(&after)["taskResults"],
        json!([{"taskId": "t1", "call": "x"}])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_the_instance_terminates_the_body_and_its_inner_jobs() {
    let (target, key) = start(
        "multi-instance",
        "multi-instance.bpmn",
        json!({"readyTasks": [ready_task("t1", "mi-work"), ready_task("t2", "mi-work")]}),
    )
    .await;
    let jobs = activate_many(&target.client, "mi-work", 2).await;
    assert_eq!(jobs.len(), 2);
    target
        .client
        .cancel_process_instance()
        .with_process_instance_key(key)
        .send()
        .await
        .expect("cancel");
    for job in &jobs {
        let err = target
            .client
            .complete_job()
            .with_job_key(job.key())
            .send()
            .await
            .expect_err("job gone with the instance");
        assert!(is_not_found(&err), "{err:?}");
    }
    if target.is_embedded() {
        assert_eq!(target.instance_state(key).await, "CANCELED");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupting_timer_on_the_body_terminates_every_inner_instance() {
    let target = Target::start().await;
    let file = "multi-instance-timer.bpmn";
    target.deploy(file, &bpmn(file)).await;
    let key = target
        .create(
            "multi-instance-timer",
            json!({"items": ["a", "b"], "patience": "PT2S"}),
        )
        .await;
    let jobs = activate_many(&target.client, "mit-work", 2).await;
    assert_eq!(jobs.len(), 2);
    assert_eq!(vars(&jobs[0])["item"], json!("a"));
    if target.is_embedded() {
        // The operator view lists the body and its inner instances with their loop counters.
        let (status, detail) = target
            .call(
                reqwest::Method::GET,
                &format!("/v1/ops/process-instances/{key}"),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{detail}");
        let elements = detail["activeElements"].as_array().unwrap();
        let types: Vec<&str> = elements
            .iter()
            .map(|e| e["elementType"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            ["multiInstanceBody", "serviceTask", "serviceTask"],
            "{detail}"
        );
        assert_eq!(elements[0]["timers"].as_array().unwrap().len(), 1);
        let counters: Vec<(String, Json)> = detail["variables"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["name"] == "loopCounter")
            .map(|v| (v["scopeKey"].to_string(), v["value"].clone()))
            .collect();
        assert_eq!(counters.len(), 2, "{detail}");
    }
    complete(&target.client, &jobs[0], json!({})).await;
    let late = target
        .activate("mit-late", Duration::from_secs(10))
        .await
        .expect("the timer fires on the body");
    assert_eq!(late.process_instance_key(), key);
    let err = target
        .client
        .complete_job()
        .with_job_key(jobs[1].key())
        .send()
        .await
        .expect_err("inner instance terminated");
    assert!(is_not_found(&err), "{err:?}");
    complete(&target.client, &late, json!({})).await;
    if target.is_embedded() {
        assert_eq!(target.instance_state(key).await, "COMPLETED");
        assert_eq!(target.open_timers(key).await, 0);
    }
}
