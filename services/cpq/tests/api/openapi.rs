//! The committed contract matches the generated one, and the service serves it.

use std::path::Path;

use reqwest::StatusCode;

use crate::harness::{TestApp, expect_status};

fn contract_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contracts/openapi/cpq-api.json")
}

#[test]
fn committed_contract_matches_the_handlers() {
    let generated = cpq::http::openapi::openapi_json();
    if std::env::var("UPDATE_CONTRACTS").is_ok_and(|v| v == "1") {
        std::fs::write(contract_path(), &generated).unwrap();
    }
    let committed = std::fs::read_to_string(contract_path()).unwrap_or_default();
    assert!(
        committed == generated,
        "contracts/openapi/cpq-api.json differs from the generated contract; review the API change and run \
         `UPDATE_CONTRACTS=1 cargo test -p cpq --test api openapi` to accept it"
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
