//! Idempotency-Key semantics: replay, reuse with a different request, concurrent duplicates,
//! and stored refusals.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, expect_problem, expect_status};

async fn create_with_key(app: &TestApp, key: &str, body: &Value) -> reqwest::Response {
    app.request(Method::POST, "/product-offerings")
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn same_key_and_request_replays_the_stored_answer() {
    let app = TestApp::spawn().await;
    let spec = app.create_spec("IDEM").await;
    let body = json!({"code": "IDEM-1", "name": "Once", "productSpecificationId": spec});

    let first = create_with_key(&app, "key-1", &body).await;
    let location = first.headers().get("location").cloned();
    let first = expect_status(first, StatusCode::CREATED).await;
    let events = app.count("outbox_event").await;

    // Same key, same body with different key order and whitespace: replayed, not re-executed.
    let reordered = json!({"productSpecificationId": spec, "name": "Once", "code": "IDEM-1"});
    let second = create_with_key(&app, "key-1", &reordered).await;
    assert_eq!(
        second
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(second.headers().get("location").cloned(), location);
    let second = expect_status(second, StatusCode::CREATED).await;
    assert_eq!(second, first, "the replay returns the stored body");
    assert_eq!(app.count("product_offering").await, 1);
    assert_eq!(
        app.count("outbox_event").await,
        events,
        "no second set of events"
    );
    app.stop().await;
}

#[tokio::test]
async fn same_key_with_a_different_request_is_refused() {
    let app = TestApp::spawn().await;
    let spec = app.create_spec("REUSE").await;
    let first = create_with_key(
        &app,
        "key-2",
        &json!({"code": "A", "name": "A", "productSpecificationId": spec}),
    )
    .await;
    expect_status(first, StatusCode::CREATED).await;
    let before = app.footprint().await;
    let second = create_with_key(
        &app,
        "key-2",
        &json!({"code": "B", "name": "B", "productSpecificationId": spec}),
    )
    .await;
    let problem = expect_problem(
        second,
        StatusCode::UNPROCESSABLE_ENTITY,
        "IDEMPOTENCY_KEY_REUSED",
    )
    .await;
    assert_eq!(problem["retryable"], false);
    assert_eq!(app.footprint().await, before, "nothing written");

    // The same key on another command is a different request too.
    let offering = app.create_offering("OTHER").await;
    let publish = app
        .request(
            Method::POST,
            &format!("/product-offerings/{offering}/submit-for-review"),
        )
        .header("Idempotency-Key", "key-2")
        .send()
        .await
        .unwrap();
    expect_problem(
        publish,
        StatusCode::UNPROCESSABLE_ENTITY,
        "IDEMPOTENCY_KEY_REUSED",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn concurrent_duplicates_execute_once() {
    let app = TestApp::spawn().await;
    let spec = app.create_spec("RACE").await;
    let body = json!({"code": "RACE-1", "name": "Race", "productSpecificationId": spec});
    let attempts = (0..12).map(|_| create_with_key(&app, "race-key", &body));
    let responses = futures::future::join_all(attempts).await;

    let mut created = Vec::new();
    let mut in_progress = 0;
    for response in responses {
        match response.status() {
            StatusCode::CREATED => created.push(expect_status(response, StatusCode::CREATED).await),
            StatusCode::CONFLICT => {
                let problem =
                    expect_problem(response, StatusCode::CONFLICT, "IDEMPOTENCY_IN_PROGRESS").await;
                assert_eq!(problem["retryable"], true);
                in_progress += 1;
            }
            other => panic!("unexpected {other}: {}", response.text().await.unwrap()),
        }
    }
    assert!(!created.is_empty());
    assert!(
        created.windows(2).all(|w| w[0] == w[1]),
        "every success is the same answer"
    );
    assert_eq!(created.len() + in_progress, 12);
    assert_eq!(
        app.count("product_offering").await,
        1,
        "exactly one offering"
    );
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox_event WHERE event_type = 'catalog.product-offering.created.v1'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(events, 1, "exactly one created event");

    // Once the first finished, a retry replays it.
    let retry = create_with_key(&app, "race-key", &body).await;
    assert_eq!(expect_status(retry, StatusCode::CREATED).await, created[0]);
    app.stop().await;
}

#[tokio::test]
async fn business_refusals_are_replayed_too() {
    let app = TestApp::spawn().await;
    let offering = app.create_offering("REFUSED").await;
    let publish = |key: &'static str| {
        app.request(
            Method::POST,
            &format!("/product-offerings/{offering}/publish"),
        )
        .header("Idempotency-Key", key)
        .send()
    };
    let first = expect_problem(
        publish("refusal").await.unwrap(),
        StatusCode::CONFLICT,
        "ILLEGAL_TRANSITION",
    )
    .await;
    // The state changes, but the key's answer does not: the same request means the same answer.
    app.command(offering, "submit-for-review").await;
    let replay = publish("refusal").await.unwrap();
    assert_eq!(
        replay
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(replay.status(), StatusCode::CONFLICT);
    let replayed: Value = replay.json().await.unwrap();
    assert_eq!(replayed["code"], first["code"]);
    assert_eq!(replayed["detail"], first["detail"]);
    // A new key executes against the new state.
    let fresh = publish("fresh").await.unwrap();
    assert_eq!(
        expect_status(fresh, StatusCode::OK).await["status"],
        "PUBLISHED"
    );
    app.stop().await;
}

#[tokio::test]
async fn validation_failures_release_nothing_and_store_the_refusal() {
    let app = TestApp::spawn().await;
    let body =
        json!({"code": "bad code", "name": "", "productSpecificationId": uuid::Uuid::now_v7()});
    let first = create_with_key(&app, "invalid", &body).await;
    let first = expect_problem(first, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    assert_eq!(first["errors"].as_array().unwrap().len(), 3, "{first}");
    let stored: String = sqlx::query_scalar(
        "SELECT status FROM idempotency_record WHERE idempotency_key = 'invalid'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(stored, "COMPLETED");
    assert_eq!(app.count("product_offering").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn expired_records_are_claimed_afresh_and_purged() {
    let app = TestApp::spawn().await;
    let spec = app.create_spec("EXPIRY").await;
    let first = create_with_key(
        &app,
        "old-key",
        &json!({"code": "OLD", "name": "Old", "productSpecificationId": spec}),
    )
    .await;
    expect_status(first, StatusCode::CREATED).await;
    sqlx::query("UPDATE idempotency_record SET expires_at = now() - interval '1 minute' WHERE idempotency_key = 'old-key'")
        .execute(&app.db)
        .await
        .unwrap();

    // Past its expiry the key no longer binds: a different request under it executes.
    let reused = create_with_key(
        &app,
        "old-key",
        &json!({"code": "NEW", "name": "New", "productSpecificationId": spec}),
    )
    .await;
    assert_eq!(
        expect_status(reused, StatusCode::CREATED).await["code"],
        "NEW"
    );

    sqlx::query("UPDATE idempotency_record SET expires_at = now() - interval '1 minute'")
        .execute(&app.db)
        .await
        .unwrap();
    let runner = common_kernel::idempotency::CommandRunner::new(
        app.db.clone(),
        std::time::Duration::from_secs(60),
    );
    assert_eq!(runner.purge_expired().await.unwrap(), 1);
    assert_eq!(app.count("idempotency_record").await, 0);
    app.stop().await;
}
