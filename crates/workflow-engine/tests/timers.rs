//! Timer scenarios driven through zeebe-rs: intermediate timer catch events and timer boundary
//! events (durations and dates, interrupting and not), and timers surviving a restart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{Target, bpmn, complete, vars};

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timer_catch_event_waits_its_feel_duration_then_continues() {
    let target = Target::start().await;
    target
        .deploy("timer-catch.bpmn", &bpmn("timer-catch.bpmn"))
        .await;
    let started = Instant::now();
    let key = target
        .create("timer-catch", json!({"cooling": "PT1S", "orderId": "o-9"}))
        .await;
    assert!(
        target
            .activate("tc-after", Duration::from_millis(500))
            .await
            .is_none(),
        "the token waits at the timer"
    );
    // The scheduler sleeps 30 s between re-checks in the tests: only the NOTIFY sent when the
    // timer was created can make it fire on time.
    let job = target
        .activate("tc-after", Duration::from_secs(10))
        .await
        .expect("after job");
    let waited = started.elapsed();
    // Well under the 30 s re-check even on a loaded machine.
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_secs(10),
        "fired after {waited:?}"
    );
    assert_eq!(job.process_instance_key(), key);
    assert_eq!(vars(&job)["orderId"], json!("o-9"));
    complete(&target.client, &job, json!({})).await;
    if target.is_embedded() {
        assert_eq!(target.instance_state(key).await, "COMPLETED");
        assert_eq!(target.open_timers(key).await, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_interrupting_timer_boundary_spawns_a_token_and_keeps_the_task() {
    let target = Target::start().await;
    target
        .deploy("timer-boundary.bpmn", &bpmn("timer-boundary.bpmn"))
        .await;
    let key = target
        .create(
            "timer-boundary",
            json!({"deadline": "2099-01-01T00:00:00Z"}),
        )
        .await;
    let work = target.activate("tb-work", WAIT).await.expect("work job");
    let remind = target
        .activate("tb-remind", WAIT)
        .await
        .expect("the reminder fires after PT1S");
    assert_eq!(remind.process_instance_key(), key);
    complete(&target.client, &remind, json!({})).await;
    if target.is_embedded() {
        assert_eq!(target.instance_state(key).await, "ACTIVE");
        // The reminder fired once and is gone; the deadline still waits.
        assert_eq!(target.open_timers(key).await, 1);
    }
    // The task kept its job: completing it ends the instance and closes the deadline timer.
    complete(&target.client, &work, json!({"worked": true})).await;
    if target.is_embedded() {
        assert_eq!(target.instance_state(key).await, "COMPLETED");
        assert_eq!(target.open_timers(key).await, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupting_timer_boundary_with_a_past_date_terminates_the_task_at_once() {
    let target = Target::start().await;
    target
        .deploy("timer-boundary.bpmn", &bpmn("timer-boundary.bpmn"))
        .await;
    let key = target
        .create(
            "timer-boundary",
            json!({"deadline": "2001-02-03T04:05:06+01:00"}),
        )
        .await;
    let escalate = target
        .activate("tb-escalate", WAIT)
        .await
        .expect("a date in the past is due at once");
    assert_eq!(escalate.process_instance_key(), key);
    // The interrupted task's job and its reminder timer went with it.
    assert!(
        target
            .activate("tb-work", Duration::from_millis(300))
            .await
            .is_none()
    );
    assert!(
        target
            .activate("tb-remind", Duration::from_millis(1500))
            .await
            .is_none(),
        "the reminder of an interrupted task never fires"
    );
    complete(&target.client, &escalate, json!({})).await;
    if target.is_embedded() {
        assert_eq!(target.instance_state(key).await, "COMPLETED");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_timer_expression_raises_an_incident() {
    let target = Target::start().await;
    if !target.is_embedded() {
        return; // incidents are read from the engine's database
    }
    target
        .deploy("timer-catch.bpmn", &bpmn("timer-catch.bpmn"))
        .await;
    let key = target
        .create("timer-catch", json!({"cooling": "soon"}))
        .await;
    let incidents = target.incidents(key).await;
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(incidents[0].1, "EXTRACT_VALUE_ERROR");
    assert!(incidents[0].2.contains("soon"), "{incidents:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_survive_a_restart_and_fire_once() {
    let mut target = Target::start().await;
    if !target.is_embedded() {
        return; // restarting needs the embedded engine
    }
    target
        .deploy("timer-catch.bpmn", &bpmn("timer-catch.bpmn"))
        .await;
    let due_soon = target
        .create("timer-catch", json!({"cooling": "PT1S"}))
        .await;
    let due_later = target
        .create("timer-catch", json!({"cooling": "PT3S"}))
        .await;
    target.stop_embedded().await;
    // The first timer falls due while the engine is down.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    target.start_embedded().await;
    let first = target
        .activate("tc-after", WAIT)
        .await
        .expect("overdue timer");
    assert_eq!(first.process_instance_key(), due_soon);
    let second = target
        .activate("tc-after", WAIT)
        .await
        .expect("later timer");
    assert_eq!(second.process_instance_key(), due_later);
    for job in [&first, &second] {
        complete(&target.client, job, json!({})).await;
    }
    assert!(
        target
            .activate("tc-after", Duration::from_millis(500))
            .await
            .is_none(),
        "each timer fired once"
    );
    for key in [due_soon, due_later] {
        assert_eq!(target.instance_state(key).await, "COMPLETED");
    }
}
