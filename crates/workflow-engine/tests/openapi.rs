//! The committed REST contract matches the generated one, and the engine serves it next to its
//! health endpoints.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::{Method, StatusCode};
use support::Target;

#[test]
fn committed_contract_matches_the_handlers() {
    let generated = workflow_engine::http::openapi::openapi_json();
    test_support::assert_committed_contract(
        "workflow-engine-api.json",
        &generated,
        "cargo test -p workflow-engine --test openapi",
    );
    let document: serde_json::Value = serde_json::from_str(&generated).unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/v2/user-tasks/search",
        "/v2/user-tasks/{userTaskKey}/assignment",
        "/v2/user-tasks/{userTaskKey}/completion",
    ] {
        assert!(document["paths"][path].is_object(), "{path} documented");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_serves_its_contract_and_health() {
    let target = Target::start().await;
    if !target.is_embedded() {
        return; // the embedded engine's own endpoints
    }
    let (status, ready) = target.call(Method::GET, "/health/ready").await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    assert_eq!(ready["service"], "workflow-engine");
    assert_eq!(ready["checks"]["database"], "UP");
    let (status, served) = target.call(Method::GET, "/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let generated: serde_json::Value =
        serde_json::from_str(&workflow_engine::http::openapi::openapi_json()).unwrap();
    assert_eq!(served, generated);
    let (status, problem) = target.call(Method::GET, "/v2/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(problem["code"], "ROUTE_NOT_FOUND");
}
