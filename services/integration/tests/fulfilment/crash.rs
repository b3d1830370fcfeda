//! kill -9 of the integration service after the downstream applied the effect and before the
//! job was completed: after a restart the job is redone, the operation found in flight is
//! reconciled by key, and the downstream's effects log still shows one effect.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::json;
use test_support::ServiceProcess;

use super::stack::Stack;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn start(stack: &Stack, port: u16) -> ServiceProcess {
    let env = stack.integration_env(&[
        ("APP__SERVER__PORT", port.to_string()),
        // The answer comes 4 s after the effect; the attempt waits for it.
        ("APP__INTEGRATION__PROVISIONING__TIMEOUT_MS", "20000".into()),
        // The engine offers the job again soon after the worker died with it.
        ("APP__INTEGRATION__JOB_TIMEOUT_MS", "3000".into()),
    ]);
    let env: Vec<(&str, String)> = env.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    ServiceProcess::start(
        env!("CARGO_BIN_EXE_integration"),
        &env,
        &format!("http://127.0.0.1:{port}/health/ready"),
    )
}

#[tokio::test]
async fn a_worker_killed_between_the_downstream_answer_and_the_job_completion_applies_once() {
    let stack = Stack::start().await;
    // The downstream applies at once and answers 4 s later: the kill lands in between.
    stack
        .fault(
            json!({"system": "provisioning", "operation": "activate", "mode": "TIMEOUT",
            "times": 1, "delayMs": 4000}),
        )
        .await;
    let port = free_port();
    let first = start(&stack, port);
    let (instance, key) = stack.start_probe().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while stack.activations(&key).await == 0 {
        assert!(Instant::now() < deadline, "the downstream never applied");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _log = first.kill();
    let status: String =
        sqlx::query_scalar("SELECT status FROM external_operation WHERE idempotency_key = $1")
            .bind(key.as_str())
            .fetch_one(&stack.integration_pool)
            .await
            .expect("operation");
    assert_eq!(status, "IN_FLIGHT", "the answer was never recorded");

    let _second = start(&stack, port);
    let (state, variables) = stack
        .wait_until_done(instance, Duration::from_secs(60))
        .await;
    assert_eq!(state, "COMPLETED");
    assert_eq!(
        variables["externalCall"]["outcome"], "SUCCEEDED",
        "{variables:?}"
    );
    assert_eq!(stack.activations(&key).await, 1, "one effect");
    assert_eq!(
        stack.calls(&key).await,
        [("STATUS_QUERY".to_owned(), "APPLIED".to_owned(), None)],
        "the redone job asked by key and sent nothing"
    );
    let attempts: i32 =
        sqlx::query_scalar("SELECT attempts FROM external_operation WHERE idempotency_key = $1")
            .bind(key.as_str())
            .fetch_one(&stack.integration_pool)
            .await
            .expect("operation");
    assert_eq!(attempts, 1);
}
