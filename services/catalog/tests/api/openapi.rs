//! The committed contract matches the generated one, and the operational endpoints answer.

use reqwest::StatusCode;

use crate::harness::{TestApp, expect_status};

#[test]
fn committed_contract_matches_the_handlers() {
    let generated = catalog::http::openapi::openapi_json();
    test_support::assert_committed_contract(
        "catalog-api.json",
        &generated,
        "cargo test -p catalog --test api openapi",
    );
    let document: serde_json::Value = serde_json::from_str(&generated).unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/product-offerings",
        "/product-offerings/{id}/publish",
        "/price-books/{id}/versions/{version}",
    ] {
        assert!(document["paths"][path].is_object(), "{path} documented");
    }
}

#[tokio::test]
async fn operational_endpoints_answer() {
    let app = TestApp::spawn().await;
    let live = expect_status(
        app.client
            .get(format!("{}/health/live", app.base))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(live["service"], "catalog");
    let ready = expect_status(
        app.client
            .get(format!("{}/health/ready", app.base))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
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
    assert_eq!(served, catalog::http::openapi::openapi_json());
    let docs = app
        .client
        .get(format!("{}/docs", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(docs.contains("/openapi.json"));

    app.create_offering("METRICS").await;
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("http_requests_total{")
                && l.contains("route=\"/product-offerings\"")
                && l.contains("status=\"201\"")),
        "request counter by route and status"
    );
    assert!(
        metrics.contains("http_request_duration_seconds_bucket{"),
        "latency histogram"
    );

    // The relay is off in these tests, so every event waits in the outbox and shows as backlog.
    let operator = app.token(&app.tenant, "ops1", &["operator"]);
    let status = expect_status(
        app.anonymous(reqwest::Method::GET, "/ops/messaging")
            .bearer_auth(&operator)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(status["outbox"]["backlog"], app.count("outbox_event").await);
    assert!(
        status["outbox"]["oldestUnpublishedAgeSeconds"]
            .as_f64()
            .is_some()
    );
    assert_eq!(status["outbox"]["deadLetters"], 0);
    app.stop().await;
}
