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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequence_of_service_tasks_flows_variables_through_mappings() {
    let target = Target::start().await;
    target.deploy("sequence.bpmn", &bpmn("sequence.bpmn")).await;
    let client = target.client.clone();
    let result = tokio::spawn(async move {
        client
            .create_process_instance()
            .with_bpmn_process_id("sequence".to_owned())
            .with_variables(json!({"order": {"id": "o-7", "qty": 3}}))
            .unwrap()
            .with_result(None)
            .send_with_serialized_result()
            .await
            .expect("instance completes")
    });
    let price = target.activate("seq-price", WAIT).await.expect("price job");
    // Input mapping: the task sees `qty` as a local next to the instance variables.
    assert_eq!(vars(&price)["qty"], json!(3));
    complete(
        &target.client,
        &price,
        json!({"unit": 2.5, "ignored": true}),
    )
    .await;
    let invoice = target
        .activate("seq-invoice", WAIT)
        .await
        .expect("invoice job");
    let seen = vars(&invoice);
    // Output mapping merged `total` into `order`; unmapped job variables did not propagate.
    assert_eq!(seen["order"], json!({"id": "o-7", "qty": 3, "total": 7.5}));
    assert!(
        seen.get("qty").is_none() && seen.get("ignored").is_none(),
        "{seen}"
    );
    complete(&target.client, &invoice, json!({"invoiceNo": "I-1"})).await;
    let done = result.await.unwrap();
    let variables: serde_json::Value = serde_json::from_str(done.variables()).unwrap();
    assert_eq!(variables["invoiceNo"], json!("I-1"));
    assert_eq!(variables["order"]["total"], json!(7.5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exclusive_gateway_takes_the_true_condition_or_the_default_flow() {
    let target = Target::start().await;
    target.deploy("gateway.bpmn", &bpmn("gateway.bpmn")).await;
    for (amount, job_type) in [(5000, "gw-big"), (10, "gw-small"), (0, "gw-other")] {
        let key = target.create("gateway", json!({"amount": amount})).await;
        let job = target
            .activate(job_type, WAIT)
            .await
            .unwrap_or_else(|| panic!("{job_type} for {amount}"));
        assert_eq!(job.process_instance_key(), key);
        complete(&target.client, &job, json!({})).await;
        // Every branch meets at a merge gateway with one unconditioned outgoing flow.
        let after = target
            .activate("gw-after", WAIT)
            .await
            .unwrap_or_else(|| panic!("the merge passes the token on after {job_type}"));
        assert_eq!(after.process_instance_key(), key);
        complete(&target.client, &after, json!({})).await;
        if target.is_embedded() {
            assert_eq!(target.instance_state(key).await, "COMPLETED");
            assert!(target.incidents(key).await.is_empty());
        }
    }
    if target.is_embedded() {
        // A condition over a missing variable is not a boolean: CONDITION_ERROR incident.
        let key = target.create("gateway", json!({})).await;
        let incidents = target.incidents(key).await;
        assert_eq!(incidents.len(), 1, "{incidents:?}");
        assert_eq!(incidents[0].1, "CONDITION_ERROR");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_fork_waits_for_both_branches_at_the_join() {
    let target = Target::start().await;
    target.deploy("parallel.bpmn", &bpmn("parallel.bpmn")).await;
    let key = target.create("parallel", json!({})).await;
    let a = target.activate("par-a", WAIT).await.expect("branch a");
    let b = target.activate("par-b", WAIT).await.expect("branch b");
    complete(&target.client, &a, json!({"a": 1})).await;
    assert!(
        target
            .activate("par-after", Duration::from_millis(500))
            .await
            .is_none(),
        "the join must wait for branch b"
    );
    complete(&target.client, &b, json!({"b": 2})).await;
    let after = target
        .activate("par-after", WAIT)
        .await
        .expect("after the join");
    assert_eq!(vars(&after), json!({"a": 1, "b": 2}));
    complete(&target.client, &after, json!({})).await;
    if target.is_embedded() {
        assert_eq!(target.instance_state(key).await, "COMPLETED");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_job_retries_after_back_off_then_incident_is_resolved_and_continues() {
    let target = Target::start().await;
    target.deploy("retry.bpmn", &bpmn("retry.bpmn")).await;
    let key = target.create("retry", json!({})).await;
    let job = target.activate("retry-flaky", WAIT).await.expect("job");
    assert_eq!(job.retries(), 2);
    let failed_at = std::time::Instant::now();
    target
        .client
        .fail_job()
        .with_job_key(job.key())
        .with_retries(1)
        .with_error_message("downstream 503".to_owned())
        .with_retry_back_off(Duration::from_millis(700))
        .send()
        .await
        .expect("fail with retries");
    let again = target
        .activate("retry-flaky", WAIT)
        .await
        .expect("retried job");
    assert!(
        failed_at.elapsed() >= Duration::from_millis(650),
        "back-off honoured: {:?}",
        failed_at.elapsed()
    );
    assert_eq!((again.key(), again.retries()), (job.key(), 1));
    target
        .client
        .fail_job()
        .with_job_key(again.key())
        .with_retries(0)
        .with_error_message("still down".to_owned())
        .send()
        .await
        .expect("fail without retries");
    assert!(
        target
            .activate("retry-flaky", Duration::from_millis(300))
            .await
            .is_none()
    );
    if !target.is_embedded() {
        return; // incident keys come from Operate on Camunda 8
    }
    let incidents = target.incidents(key).await;
    assert_eq!(incidents.len(), 1);
    assert_eq!(
        (incidents[0].1.as_str(), incidents[0].2.as_str()),
        ("JOB_NO_RETRIES", "still down")
    );
    target
        .client
        .update_job_retries()
        .with_job_key(job.key())
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
    let resumed = target
        .activate("retry-flaky", WAIT)
        .await
        .expect("job after resolution");
    complete(&target.client, &resumed, json!({})).await;
    assert_eq!(target.instance_state(key).await, "COMPLETED");
    assert!(target.incidents(key).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bpmn_error_from_a_worker_is_caught_by_the_error_boundary_event() {
    let target = Target::start().await;
    target
        .deploy("error-boundary.bpmn", &bpmn("error-boundary.bpmn"))
        .await;
    let key = target.create("error-boundary", json!({})).await;
    let job = target
        .activate("eb-charge", WAIT)
        .await
        .expect("charge job");
    target
        .client
        .throw_error()
        .with_job_key(job.key())
        .with_error_code("CARD_DECLINED".to_owned())
        .with_error_message("insufficient funds".to_owned())
        .with_variables(json!({"reason": "funds"}))
        .unwrap()
        .send()
        .await
        .expect("throw error");
    let notify = target
        .activate("eb-notify", WAIT)
        .await
        .expect("boundary path");
    assert_eq!(vars(&notify)["reason"], json!("funds"));
    complete(&target.client, &notify, json!({})).await;
    // The charge job left with its task: completing it now is NOT_FOUND.
    let err = target
        .client
        .complete_job()
        .with_job_key(job.key())
        .send()
        .await
        .expect_err("job gone");
    assert!(
        matches!(err, zeebe_rs::ClientError::RequestFailed(ref s) if format!("{:?}", s.code()) == "NotFound"),
        "{err:?}"
    );
    if target.is_embedded() {
        assert_eq!(target.instance_state(key).await, "COMPLETED");
        // An uncaught code raises UNHANDLED_ERROR_EVENT.
        let key = target.create("error-boundary", json!({})).await;
        let job = target
            .activate("eb-charge", WAIT)
            .await
            .expect("charge job");
        target
            .client
            .throw_error()
            .with_job_key(job.key())
            .with_error_code("OTHER".to_owned())
            .send()
            .await
            .expect("throw");
        let incidents = target.incidents(key).await;
        assert_eq!(incidents[0].1, "UNHANDLED_ERROR_EVENT", "{incidents:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_mid_instance_finishes_and_no_job_completes_twice() {
    let mut target = Target::start().await;
    if !target.is_embedded() {
        return; // restarting needs the embedded engine
    }
    target.deploy("sequence.bpmn", &bpmn("sequence.bpmn")).await;
    let key = target
        .create("sequence", json!({"order": {"qty": 2}}))
        .await;
    let price = target.activate("seq-price", WAIT).await.expect("price job");
    target.restart().await;
    // A job activated before the restart completes afterwards.
    complete(&target.client, &price, json!({"unit": 4})).await;
    let invoice = target
        .activate("seq-invoice", WAIT)
        .await
        .expect("invoice job after restart");
    assert_eq!(vars(&invoice)["order"]["total"], json!(8));
    target.restart().await;
    complete(&target.client, &invoice, json!({})).await;
    assert_eq!(target.instance_state(key).await, "COMPLETED");
    for job in [&price, &invoice] {
        let err = target
            .client
            .complete_job()
            .with_job_key(job.key())
            .send()
            .await
            .expect_err("already completed");
        assert!(
            matches!(err, zeebe_rs::ClientError::RequestFailed(ref s) if format!("{:?}", s.code()) == "NotFound"),
            "{err:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_elements_are_refused_at_deploy_naming_element_and_line() {
    let target = Target::start().await;
    let err = target
        .client
        .deploy_resource()
        .with_definition(
            "unsupported.bpmn".to_owned(),
            bpmn("unsupported.bpmn").into_bytes(),
        )
        .send()
        .await
        .expect_err("sub-process refused");
    let zeebe_rs::ClientError::RequestFailed(status) = err else {
        panic!("{err:?}")
    };
    assert_eq!(format!("{:?}", status.code()), "InvalidArgument");
    assert!(
        status.message().contains("Sub_Review") && status.message().contains("line 5"),
        "{}",
        status.message()
    );
    if target.is_embedded() {
        let err = target
            .client
            .deploy_resource()
            .with_definition(
                "timer-cycle.bpmn".to_owned(),
                bpmn("timer-cycle.bpmn").into_bytes(),
            )
            .send()
            .await
            .expect_err("timer cycles are refused");
        let zeebe_rs::ClientError::RequestFailed(status) = err else {
            panic!("{err:?}")
        };
        let message = status.message();
        assert!(
            message.contains("Wait_Cycle")
                && message.contains("line 6")
                && message.contains("timeCycle"),
            "{message}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_poll_returns_as_soon_as_a_job_is_created() {
    let target = Target::start().await;
    target.deploy("one-task.bpmn", &bpmn("one-task.bpmn")).await;
    for _ in 0..3 {
        let client = target.client.clone();
        let poll = tokio::spawn(async move {
            let job =
                support::activate_one(&client, "one-task-work", Duration::from_secs(20)).await;
            (job, std::time::Instant::now())
        });
        tokio::time::sleep(Duration::from_millis(400)).await; // the poll is parked
        let created_at = std::time::Instant::now();
        let key = target.create("one-task", json!({})).await;
        let (job, received_at) = poll.await.unwrap();
        let job = job.expect("job delivered to the waiting poll");
        assert_eq!(job.process_instance_key(), key);
        let latency = received_at - created_at;
        // The fallback re-check is 30 s in tests: only the NOTIFY can wake the poll this fast.
        assert!(
            latency < Duration::from_millis(500),
            "woken after {latency:?}"
        );
        complete(&target.client, &job, json!({})).await;
    }
}
