//! Workers against a gateway that demands a bearer token (the embedded engine with
//! `WORKFLOW_GRPC_REQUIRE_TOKEN`, as Camunda 8 with Identity): configured with Camunda's
//! client variables, they fetch a `client_credentials` token from the real issuer and every
//! call carries it; without credentials, or with a wrong secret, the gateway refuses the call
//! and no job is handed out.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{Target, issuer};
use workflow_runtime::{GatewayCredentials, JobContext, JobError, WorkerConfig, handler};

const WAIT: Duration = Duration::from_secs(15);

/// The demo directory's worker client, as Camunda's client variables would configure it.
fn worker_credentials(secret: Option<&str>) -> GatewayCredentials {
    let issuer = issuer();
    let [(_, client_id), (_, real_secret)] = issuer.client_env("workflow-worker");
    let secret = secret.map_or(real_secret, str::to_owned);
    let url = format!("{}/token", issuer.issuer_url());
    GatewayCredentials::from_lookup(|name| match name {
        "ZEEBE_CLIENT_ID" => Some(client_id.clone()),
        "ZEEBE_CLIENT_SECRET" => Some(secret.clone()),
        "ZEEBE_AUTHORIZATION_SERVER_URL" => Some(url.clone()),
        _ => None,
    })
    .expect("valid credentials")
    .expect("configured")
}

async fn price(_: JobContext, input: Value) -> Result<Value, JobError> {
    let total = input["qty"].as_u64().unwrap_or(0) * input["unitPrice"].as_u64().unwrap_or(0);
    Ok(json!({ "total": total }))
}

fn config() -> WorkerConfig {
    WorkerConfig {
        request_timeout: Duration::from_secs(2),
        ..WorkerConfig::new("rt-price")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_with_credentials_works_through_a_gateway_that_demands_tokens() {
    let target = Target::start_requiring_tokens(Some(worker_credentials(None))).await;
    target.deploy("price.bpmn").await;
    let worker = target
        .gateway
        .start_worker(config(), handler(price))
        .expect("worker starts");
    let (_, variables) = target
        .run("rt-price", json!({"qty": 4, "unitPrice": 5}), WAIT)
        .await;
    assert_eq!(variables["total"], 20);
    let report = worker.shutdown(Duration::from_secs(5)).await;
    assert_eq!(report.stats.completed, 1);
    assert_eq!(
        report.stats.poll_errors, 0,
        "every activation call was accepted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_valid_token_the_gateway_refuses_every_call() {
    // No credentials: the first command is refused before any engine code runs.
    let anonymous = Target::start_requiring_tokens(None).await;
    let xml = std::fs::read(support::bpmn_dir().join("price.bpmn")).unwrap();
    let refused = anonymous
        .client()
        .deploy_resource()
        .with_definition("price.bpmn".to_owned(), xml)
        .send()
        .await
        .expect_err("no token, no deployment");
    assert!(
        format!("{refused:?}").contains("Unauthenticated"),
        "UNAUTHENTICATED, got {refused:?}"
    );

    // A worker whose secret the issuer refuses: its activation calls fail, it gets no job and
    // keeps polling (an unavailable token server is a back-off, never a crash).
    let wrong =
        Target::start_requiring_tokens(Some(worker_credentials(Some("not-the-secret")))).await;
    let worker = wrong
        .gateway
        .start_worker(config(), handler(price))
        .expect("worker starts");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let report = worker.shutdown(Duration::from_secs(5)).await;
    assert_eq!(report.stats.activated, 0);
    assert!(
        report.stats.poll_errors >= 1,
        "the refused polls are counted"
    );
}
