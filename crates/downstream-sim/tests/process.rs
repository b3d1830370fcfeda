//! The simulator as its users see it: the real binary, real HTTP, faults through the control
//! API, effects counted in the effects log, and the journal across a kill -9.

#![expect(clippy::expect_used, reason = "test set-up fails loudly")]

use std::path::Path;
use std::time::{Duration, Instant};

use downstream_sim::harness::SimProcess;
use serde_json::{Value, json};

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_downstream-sim"))
}

async fn sim() -> SimProcess {
    SimProcess::start(binary(), &[]).await
}

fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .expect("client")
}

async fn activate(
    client: &reqwest::Client,
    sim: &SimProcess,
    key: &str,
) -> Result<(u16, Value), reqwest::Error> {
    let response = client
        .post(format!("{}/services", sim.system_url("provisioning")))
        .header("Idempotency-Key", key)
        .json(
            &json!({"serviceSpecification": "FIBER", "customerAccount": "C-1",
                      "characteristics": {}, "orderReference": "O-1"}),
        )
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await?))
}

async fn count(sim: &SimProcess, key: &str) -> u64 {
    sim.effects("provisioning", key)
        .await
        .iter()
        .map(|e| e.count)
        .sum()
}

async fn status_of(sim: &SimProcess, key: &str) -> (u16, Value) {
    let response = client(Duration::from_secs(5))
        .get(format!("{}/requests/{key}", sim.system_url("provisioning")))
        .send()
        .await
        .expect("status");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

#[tokio::test]
async fn an_effect_is_applied_once_per_key_and_a_reused_key_is_refused() {
    let sim = sim().await;
    let http = client(Duration::from_secs(5));
    let (status, first) = activate(&http, &sim, "k-1").await.expect("call");
    assert_eq!(status, 201);
    assert_eq!(first["state"], "active");
    assert_eq!(
        activate(&http, &sim, "k-1").await.expect("replay"),
        (201, first.clone())
    );
    assert_eq!(count(&sim, "k-1").await, 1);
    let effects = sim.effects("provisioning", "k-1").await;
    assert_eq!(effects[0].deliveries, 2);
    let (status, answer) = status_of(&sim, "k-1").await;
    assert_eq!(
        (status, &answer["status"], &answer["response"]),
        (200, &json!("APPLIED"), &first)
    );
    assert_eq!(status_of(&sim, "never").await.0, 404);

    let reused = http
        .post(format!("{}/services", sim.system_url("provisioning")))
        .header("Idempotency-Key", "k-1")
        .json(
            &json!({"serviceSpecification": "OTHER", "customerAccount": "C-1",
                      "characteristics": {}, "orderReference": "O-1"}),
        )
        .send()
        .await
        .expect("call");
    assert_eq!(reused.status().as_u16(), 409);
    let body: Value = reused.json().await.expect("problem");
    assert_eq!(body["code"], "IDEMPOTENCY_KEY_REUSED");

    let keyless = http
        .post(format!("{}/charges", sim.system_url("billing")))
        .json(&json!({}))
        .send()
        .await
        .expect("call");
    assert_eq!(keyless.status().as_u16(), 400);
}

#[tokio::test]
async fn faults_act_as_declared() {
    let sim = sim().await;
    let http = client(Duration::from_millis(400));

    // ERROR_5XX: no effect; REJECT: its code, no effect.
    sim.add_fault(
        json!({"system": "provisioning", "operation": "activate", "mode": "ERROR_5XX", "times": 1}),
    )
    .await;
    assert_eq!(activate(&http, &sim, "e").await.expect("call").0, 503);
    assert_eq!(count(&sim, "e").await, 0);
    sim.add_fault(json!({"system": "provisioning", "operation": "activate", "mode": "REJECT", "times": 1, "code": "NO_PORT"})).await;
    let (status, body) = activate(&http, &sim, "r").await.expect("call");
    assert_eq!((status, body["code"].as_str()), (422, Some("NO_PORT")));
    assert_eq!(status_of(&sim, "r").await.0, 404, "a refusal is not stored");

    // TIMEOUT: applied at once, answered after the caller gave up.
    sim.add_fault(json!({"system": "provisioning", "operation": "activate", "mode": "TIMEOUT", "times": 1, "delayMs": 1500})).await;
    let timed_out = activate(&http, &sim, "t").await.expect_err("times out");
    assert!(timed_out.is_timeout());
    assert_eq!(count(&sim, "t").await, 1);
    assert_eq!(status_of(&sim, "t").await.1["status"], "APPLIED");

    // DELAY: processed after the wait.
    sim.add_fault(json!({"system": "provisioning", "operation": "activate", "mode": "DELAY", "times": 1, "delayMs": 300})).await;
    let started = Instant::now();
    assert_eq!(
        activate(&client(Duration::from_secs(5)), &sim, "d")
            .await
            .expect("call")
            .0,
        201
    );
    assert!(started.elapsed() >= Duration::from_millis(300));

    // DROP_CONNECTION: applied, then the connection breaks.
    sim.add_fault(json!({"system": "provisioning", "operation": "activate", "mode": "DROP_CONNECTION", "times": 1})).await;
    let dropped = activate(&client(Duration::from_secs(5)), &sim, "x")
        .await
        .expect_err("dropped");
    assert!(
        !dropped.is_connect() && !dropped.is_timeout(),
        "{dropped:?}"
    );
    assert_eq!(count(&sim, "x").await, 1);

    // UNAVAILABLE: connections refused, then open again after the outage or on DELETE.
    sim.add_fault(json!({"system": "provisioning", "mode": "UNAVAILABLE", "delayMs": 600}))
        .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let refused = activate(&client(Duration::from_secs(5)), &sim, "u")
        .await
        .expect_err("refused");
    assert!(refused.is_connect(), "{refused:?}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        activate(&client(Duration::from_secs(5)), &sim, "u")
            .await
            .expect("back")
            .0,
        201
    );
    sim.add_fault(json!({"system": "provisioning", "mode": "UNAVAILABLE", "delayMs": 60_000}))
        .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        activate(&client(Duration::from_secs(5)), &sim, "v")
            .await
            .expect_err("down")
            .is_connect()
    );
    sim.clear_faults().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        activate(&client(Duration::from_secs(5)), &sim, "v")
            .await
            .expect("reopened")
            .0,
        201
    );
    // Other systems were never affected.
    assert_eq!(
        reqwest::get(format!("{}/health", sim.system_url("billing")))
            .await
            .expect("billing")
            .status()
            .as_u16(),
        200
    );
}

#[tokio::test]
async fn bad_faults_are_refused_with_their_fields() {
    let sim = sim().await;
    let response = reqwest::Client::new()
        .post(format!("{}/faults", sim.control_url()))
        .json(&json!({"system": "erp", "mode": "ERROR_5XX", "times": 1, "probability": 0.5}))
        .send()
        .await
        .expect("call");
    assert_eq!(response.status().as_u16(), 422);
    let body: Value = response.json().await.expect("problem");
    assert_eq!(body["code"], "INVALID_FAULT");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert!(
        fields.contains(&"/system") && fields.contains(&"/times"),
        "{body}"
    );
}

#[tokio::test]
async fn effects_and_answers_survive_a_kill_with_a_data_directory() {
    let dir = std::env::temp_dir().join(format!("sim-journal-{}", uuid::Uuid::now_v7()));
    let dir_arg = dir.display().to_string();
    let mut first = SimProcess::start(binary(), &["--data-dir", &dir_arg]).await;
    let http = client(Duration::from_secs(5));
    let (_, answer) = activate(&http, &first, "kept").await.expect("call");
    first.kill();
    let second = SimProcess::start(binary(), &["--data-dir", &dir_arg]).await;
    assert_eq!(count(&second, "kept").await, 1);
    assert_eq!(
        activate(&http, &second, "kept").await.expect("replay"),
        (201, answer)
    );
    assert_eq!(
        count(&second, "kept").await,
        1,
        "the replay applied nothing"
    );
    drop(second);
    let _ = std::fs::remove_dir_all(dir);
}
