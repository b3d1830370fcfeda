//! Catalog access: Redis is only an accelerator (its loss changes speed, never answers), and
//! price books whose volume tiers punish buying more are refused before any pricing.

use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::{Value, json};
use test_support::RedisProcess;
use uuid::Uuid;

use crate::harness::{TestApp, catalog_post, expect_problem, expect_status, id_of};

fn cached_keys(redis: &RedisProcess) -> Vec<String> {
    redis.keys("cpq:catalog:*")
}

/// Creates and prices a one-item quote; returns (quote id, priced body).
async fn create_and_price(app: &TestApp, quantity: i64) -> (Uuid, Value) {
    let body = app.create_body(3600, json!([app.item("1", quantity)]));
    let created = expect_status(app.post("/quotes", &body).await, StatusCode::CREATED).await;
    let id = id_of(&created, "id");
    let priced = app.command(id, "price").await;
    assert_eq!(priced["status"], "PRICED", "{priced}");
    (id, priced)
}

#[tokio::test]
async fn redis_stopped_mid_test_changes_speed_not_answers() {
    let mut redis = RedisProcess::start();
    let app = TestApp::spawn_with(HashMap::from([("REDIS_URL", redis.url())])).await;

    let (_, warm) = create_and_price(&app, 3).await;
    let keys = cached_keys(&redis);
    assert!(
        keys.iter().any(|k| k.contains(":offering:"))
            && keys.iter().any(|k| k.contains(":price-book:")),
        "the first quote reads the catalog through Redis and caches offering and price book: {keys:?}"
    );

    redis.stop();

    // Every command still works against the catalog alone, with the same prices and hash.
    let (cold_id, cold) = create_and_price(&app, 3).await;
    assert_eq!(cold["price"]["totals"], warm["price"]["totals"]);
    assert_eq!(
        cold["priceHash"], warm["priceHash"],
        "same inputs, same hash, cache or not"
    );
    let trace = expect_status(
        app.get(&format!("/quotes/{cold_id}/price-trace")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(trace["priceHash"], cold["priceHash"]);
    let submitted = app.command(cold_id, "submit").await;
    assert_eq!(submitted["status"], "SUBMITTED", "{submitted}");
    let approved = app.approve(cold_id).await;
    assert_eq!(approved["status"], "APPROVED", "{approved}");
    let accepted = app.command(cold_id, "accept").await;
    assert_eq!(accepted["status"], "ACCEPTED", "{accepted}");
    app.stop().await;
}

/// Publishes a price book for the fixture offering with one RANGE-tiered recurring charge.
async fn tiered_price_book(app: &TestApp, code: &str, tiers: Value) -> Uuid {
    let book = catalog_post(
        &app.client,
        &app.catalog.base,
        "/price-books",
        json!({"code": code, "name": code, "currency": "USD", "entries": [{
        "offeringId": app.fixture.offering, "offeringVersion": 1, "charges": [
            {"chargeType": "RECURRING", "period": "MONTH", "tierMode": "RANGE", "tiers": tiers}
        ]}]}),
    )
    .await;
    let id = id_of(&book, "priceBookId");
    catalog_post(
        &app.client,
        &app.catalog.base,
        &format!("/price-books/{id}/publish"),
        json!({}),
    )
    .await;
    id
}

#[tokio::test]
async fn a_price_book_that_makes_buying_more_cheaper_in_total_is_refused() {
    let app = TestApp::spawn().await;
    // 10 units cost 1,000.00 but 11 units only 550.00: an inversion at the boundary 10.
    let inverted = tiered_price_book(
        &app,
        "PB-INVERTED",
        json!([
            {"fromQuantity": 1, "toQuantity": 10, "unitPrice": "100.00"},
            {"fromQuantity": 11, "toQuantity": null, "unitPrice": "50.00"}
        ]),
    )
    .await;
    let mut body = app.create_body(3600, json!([app.item("1", 4)]));
    body["priceBookId"] = json!(inverted);
    let created = expect_status(app.post("/quotes", &body).await, StatusCode::CREATED).await;
    let quote = id_of(&created, "id");
    let snapshots = app.count("quote_price_snapshot").await;

    let problem = expect_problem(
        app.post_empty(&format!("/quotes/{quote}/price")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "PRICE_LADDER_REJECTED",
    )
    .await;
    let errors = problem["errors"].as_array().expect("findings");
    assert_eq!(errors.len(), 1, "{problem}");
    assert_eq!(errors[0]["code"], "TOTAL_DECREASES_AT_BOUNDARY");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.contains("1000.00") && message.contains("550.00"),
        "{message}"
    );
    assert_eq!(
        app.count("quote_price_snapshot").await,
        snapshots,
        "nothing priced"
    );
    assert_eq!(app.quote(quote).await["status"], "CONFIGURED");

    // A gentle ladder (10 × 100.00 = 1,000.00 ≤ 11 × 95.00 = 1,045.00) prices normally.
    let gentle = tiered_price_book(
        &app,
        "PB-GENTLE",
        json!([
            {"fromQuantity": 1, "toQuantity": 10, "unitPrice": "100.00"},
            {"fromQuantity": 11, "toQuantity": null, "unitPrice": "95.00"}
        ]),
    )
    .await;
    let mut body = app.create_body(3600, json!([app.item("1", 11)]));
    body["priceBookId"] = json!(gentle);
    let created = expect_status(app.post("/quotes", &body).await, StatusCode::CREATED).await;
    let priced = app.command(id_of(&created, "id"), "price").await;
    assert_eq!(priced["status"], "PRICED", "{priced}");
    app.stop().await;
}
