//! Bad input answers problem+json with stable codes and writes nothing (row counts prove it).

use std::collections::HashMap;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, expect_problem, spawn_cpq};

async fn refused(app: &TestApp, body: &Value, status: StatusCode, code: &str) -> Value {
    let before = app.footprint().await;
    let problem = expect_problem(app.post("/quotes", body).await, status, code).await;
    assert_eq!(app.footprint().await, before, "rows written by {problem}");
    problem
}

#[tokio::test]
async fn bad_quotes_are_refused_with_stable_codes_and_nothing_written() {
    let app = TestApp::spawn().await;

    let negative = app.create_body(3600, json!([app.item("1", -2)]));
    let problem = refused(
        &app,
        &negative,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "/items/0/quantity");
    assert_eq!(problem["errors"][0]["code"], "QUANTITY_INVALID");

    let unknown = app.create_body(3600, json!([{"offeringId": Uuid::now_v7(), "quantity": 1}]));
    let problem = refused(
        &app,
        &unknown,
        StatusCode::UNPROCESSABLE_ENTITY,
        "UNKNOWN_OFFERING",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "/items/0/offeringId");

    // An offering that was published and then retired cannot be sold.
    let retired =
        crate::harness::published_offering(&app.client, &app.catalog.base, "RETIRED-ONE").await;
    let response = app
        .catalog_request(
            Method::POST,
            &format!("/product-offerings/{retired}/retire"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = app.create_body(3600, json!([{"offeringId": retired, "quantity": 1}]));
    let problem = refused(
        &app,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "OFFERING_NOT_SELLABLE",
    )
    .await;
    assert_eq!(problem["errors"][0]["code"], "OFFERING_NOT_SELLABLE");

    let mut euro = app.create_body(3600, json!([app.item("1", 1)]));
    euro["currency"] = json!("EUR");
    refused(
        &app,
        &euro,
        StatusCode::UNPROCESSABLE_ENTITY,
        "CURRENCY_MISMATCH",
    )
    .await;

    let mut past = app.create_body(3600, json!(null));
    past["validUntil"] = json!("2020-01-01T00:00:00Z");
    refused(
        &app,
        &past,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;

    let duplicate = app.create_body(3600, json!([app.item("x", 1), app.item("x", 1)]));
    refused(
        &app,
        &duplicate,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;

    let mut unknown_book = app.create_body(3600, json!(null));
    unknown_book["priceBookId"] = json!(Uuid::now_v7());
    refused(
        &app,
        &unknown_book,
        StatusCode::UNPROCESSABLE_ENTITY,
        "UNKNOWN_PRICE_BOOK",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn huge_payloads_are_refused_before_any_work() {
    let app = TestApp::spawn().await;
    let offering = app.fixture.offering;
    let lines: Vec<Value> = (0..100_000)
        .map(|i| json!({"id": i.to_string(), "offeringId": offering, "quantity": 1}))
        .collect();
    let body = app.create_body(3600, Value::Array(lines));
    refused(
        &app,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
    )
    .await;

    // Under the byte limit but over the item limit: refused by count.
    let lines: Vec<Value> = (0..1_001)
        .map(|_| json!({"offeringId": offering, "quantity": 1}))
        .collect();
    let body = app.create_body(3600, Value::Array(lines));
    let problem = refused(
        &app,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(problem["errors"][0]["code"], "TOO_MANY_ITEMS");
    app.stop().await;
}

#[tokio::test]
async fn an_unreachable_catalog_is_a_retryable_503() {
    let app = TestApp::spawn().await;
    let closed = format!("http://127.0.0.1:{}", test_support::free_port());
    let (cpq, db) = spawn_cpq(&closed, HashMap::new()).await;
    let response = app
        .client
        .request(Method::POST, format!("{}/quotes", cpq.base))
        .bearer_auth(crate::harness::seller_token())
        .json(&app.create_body(3600, json!(null)))
        .send()
        .await
        .unwrap();
    let problem = expect_problem(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "CATALOG_UNAVAILABLE",
    )
    .await;
    assert_eq!(problem["retryable"], true);
    let quotes: i64 = sqlx::query_scalar("SELECT count(*) FROM quote")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(quotes, 0);
    db.close().await;
    app.stop().await;
}
