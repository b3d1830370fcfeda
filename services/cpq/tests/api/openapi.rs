//! The committed contract matches the generated one, and the service serves it.

use reqwest::StatusCode;

use crate::harness::{TestApp, expect_status};

#[test]
fn committed_contract_matches_the_handlers() {
    let generated = cpq::http::openapi::openapi_json();
    test_support::assert_committed_contract(
        "cpq-api.json",
        &generated,
        "cargo test -p cpq --test api openapi",
    );
    let document: serde_json::Value = serde_json::from_str(&generated).unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/quotes",
        "/quotes/{id}/items",
        "/quotes/{id}/convert-to-order",
        "/quotes/{id}/items/{item_id}/price-override",
    ] {
        assert!(document["paths"][path].is_object(), "{path} documented");
    }
}

#[tokio::test]
async fn operational_endpoints_answer() {
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
    assert_eq!(ready["service"], "cpq");
    assert_eq!(ready["checks"]["database"], "UP");
    let served = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(served, cpq::http::openapi::openapi_json());
    app.stop().await;
}
