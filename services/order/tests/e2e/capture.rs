//! Capture from a quote: a thousand concurrent conversions of one quote give one order with the
//! id CPQ answered, and a conversion whose snapshot does not verify is recorded but never
//! fulfilled, with a fallout of a stable code.

use std::time::Duration;

use futures::StreamExt;
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use super::stack::{Stack, TENANT};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_conversions_of_one_quote_give_one_order() {
    let stack = Stack::start(true).await;
    let catalog = stack.seed_catalog().await;
    let (quote, order) = stack.quote_to_order(catalog, "CUST-ONCE").await;
    let url = format!("{}/quotes/{quote}/convert-to-order", stack.cpq.base);
    let answers: Vec<String> = futures::stream::iter(0..1000)
        .map(|_| {
            let (stack, url) = (&stack, url.clone());
            async move {
                let (status, body) = stack.call("sales1", Method::POST, url, None, None).await;
                assert!(status.is_success(), "{status} {body}");
                body["orderId"].as_str().unwrap().to_owned()
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    assert!(
        answers.iter().all(|a| *a == order.to_string()),
        "every conversion answers the one order"
    );
    stack
        .wait_order(order, &["COMPLETED", "FALLOUT", "FAILED"])
        .await;
    let orders: i64 =
        sqlx::query_scalar("SELECT count(*) FROM order_schema.customer_order WHERE quote_id = $1")
            .bind(quote)
            .fetch_one(&stack.order_db)
            .await
            .unwrap();
    assert_eq!(orders, 1);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_snapshot_that_does_not_verify_is_never_fulfilled() {
    let stack = Stack::start(true).await;
    let (quote, order) = (Uuid::now_v7(), Uuid::now_v7());
    let snapshot = json!({
        "quoteId": quote, "revision": 1, "customerId": "CUST-TAMPER", "currency": "USD",
        "priceHash": "a".repeat(64), "approvedPriceHash": "a".repeat(64),
        "items": [{"itemId": "1", "offeringId": Uuid::now_v7(), "offeringVersion": 1, "quantity": 1,
                   "characteristics": {"bandwidthMbps": 1000}, "configurationStatus": "FROZEN"}],
        "pricing": {"lines": []}});
    // The hash of another snapshot (the quantity was changed on the way).
    let mut original = snapshot.clone();
    original["items"][0]["characteristics"]["bandwidthMbps"] = json!(100);
    let sent_hash = domain_kernel::canonical::canonical_hash(
        domain_kernel::canonical::QUOTE_SNAPSHOT_DOMAIN,
        &original,
    );
    let envelope = json!({
        "eventId": Uuid::now_v7(), "eventType": "cpq.quote.converted.v1", "eventVersion": 1,
        "occurredAt": chrono::Utc::now(), "tenantId": TENANT, "aggregateType": "Quote",
        "aggregateId": quote, "aggregateVersion": 9, "correlationId": "tamper-1",
        "causationId": "tamper-1", "businessTransactionId": "tamper-1", "actorId": "sales1",
        "payload": {"quoteId": quote, "customerId": "CUST-TAMPER", "revision": 1, "fromStatus": "ACCEPTED",
                    "toStatus": "CONVERTED", "orderId": order, "priceHash": "a".repeat(64),
                    "snapshotHash": sent_hash, "snapshot": snapshot}});
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &stack.brokers)
        .create()
        .expect("producer");
    producer
        .send(
            FutureRecord::to("cpq.quote.events.v1")
                .key(&quote.to_string())
                .payload(&envelope.to_string()),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(e, _)| e)
        .expect("published");
    let failed = stack
        .wait_order(order, &["FAILED", "COMPLETED", "IN_PROGRESS", "FALLOUT"])
        .await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    assert_eq!(failed["failure"]["code"], "SNAPSHOT_NOT_VERIFIED");
    assert_eq!(
        failed["fallouts"][0]["failureCode"],
        "SNAPSHOT_NOT_VERIFIED"
    );
    assert_eq!(failed["fallouts"][0]["category"], "CAPTURE");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let again = stack.order(order).await.unwrap();
    assert_eq!(again["status"], "FAILED");
    assert!(
        again["tasks"].as_array().unwrap().is_empty(),
        "never decomposed: {again}"
    );
    assert!(again["processInstanceKey"].is_null(), "no process started");
    stack.stop().await;
}
