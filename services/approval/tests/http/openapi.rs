//! The committed contract matches the handlers, declares every refusal the API answers under
//! its status, and is what the service serves.

use approval::http::error::REFUSALS;
use approval::http::openapi::openapi_json;
use reqwest::StatusCode;
use serde_json::Value;

use crate::harness::{TestApp, expect_status};

#[test]
fn committed_contract_matches_the_handlers() {
    let generated = openapi_json();
    test_support::assert_committed_contract(
        "approval-api.json",
        &generated,
        "cargo test -p approval --test http openapi",
    );
    let document: Value = serde_json::from_str(&generated).unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/approval-tasks",
        "/approval-requests",
        "/approval-requests/{id}",
        "/approval-requests/{id}/decisions",
        "/approval-requests/{id}/recall",
        "/approval-requests/{id}/levels/{level}/reassignment",
        "/approval-delegations",
        "/approvers/{actorId}",
    ] {
        assert!(document["paths"][path].is_object(), "{path} documented");
    }
}

#[test]
fn every_refusal_is_declared_under_its_status() {
    let document: Value = serde_json::from_str(&openapi_json()).unwrap();
    let mut missing = Vec::new();
    for (status, code) in REFUSALS {
        let declared = document["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .filter_map(|operation| {
                operation["responses"][status.to_string()]["description"].as_str()
            })
            .any(|description| description.contains(&format!("`{code}`")));
        if !declared {
            missing.push(format!("{status} {code}"));
        }
    }
    assert!(
        missing.is_empty(),
        "refusals the contract does not declare: {missing:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_serves_its_contract() {
    let app = TestApp::spawn().await;
    let ready = expect_status(
        app.client
            .get(format!("{}/health/ready", app.base))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(ready["service"], "approval");
    let served = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(served, openapi_json());
    let anonymous = app
        .client
        .get(format!("{}/approval-tasks", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}
