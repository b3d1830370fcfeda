//! The approval consumer end to end over the real broker: CPQ runs with Kafka on, an approval
//! event published to its topic moves the quote, and the same event delivered twice moves it
//! once (the inbox). Each run has its own topic and consumer group, so parallel tests and earlier
//! runs never feed each other.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::Value;
use uuid::Uuid;

use crate::approval_support::ApprovalEvent;
use crate::harness::TestApp;

async fn create_topic(brokers: &str) -> String {
    let topic = format!("test.cpq-approvals.{}.v1", Uuid::now_v7().simple());
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let created = admin
        .create_topics(
            &[NewTopic::new(&topic, 1, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        )
        .await
        .unwrap();
    for result in created {
        result.unwrap();
    }
    topic
}

async fn publish(producer: &FutureProducer, topic: &str, event: &ApprovalEvent) {
    let body = event.envelope().to_string();
    let key = event.request.to_string();
    producer
        .send(
            FutureRecord::to(topic).key(&key).payload(&body),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(error, _)| error)
        .unwrap();
}

/// Polls the quote until `done` holds, for at most `within`; returns it and the time it took.
async fn wait_for(
    app: &TestApp,
    quote: Uuid,
    within: Duration,
    done: impl Fn(&Value) -> bool,
) -> (Value, Duration) {
    let started = Instant::now();
    loop {
        let view = app.quote(quote).await;
        if done(&view) || started.elapsed() > within {
            return (view, started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn history_commands(app: &TestApp, quote: Uuid) -> Vec<String> {
    sqlx::query_scalar("SELECT command FROM quote_history WHERE quote_id = $1 ORDER BY history_id")
        .bind(quote)
        .fetch_all(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_approval_published_to_kafka_moves_the_quote_once() {
    let brokers = test_support::kafka_brokers();
    let topic = create_topic(&brokers).await;
    let group = format!("cpq.approval-outcomes.test-{}", Uuid::now_v7().simple());
    let app = TestApp::spawn_with(HashMap::from([
        ("KAFKA_BROKERS", brokers.clone()),
        ("APP__CPQ__APPROVAL_EVENTS_TOPIC", topic.clone()),
        ("APP__CPQ__APPROVAL_CONSUMER_GROUP", group.clone()),
    ]))
    .await;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .create()
        .unwrap();

    // The first event, published twice with one event id: one transition.
    let quote = app.configured_quote().await;
    app.command(quote, "price").await;
    let submitted = app.command(quote, "submit").await;
    let not_required = ApprovalEvent::requested(&submitted, "NOT_REQUIRED");
    publish(&producer, &topic, &not_required).await;
    publish(&producer, &topic, &not_required).await;
    let (approved, _) = wait_for(&app, quote, Duration::from_secs(30), |v| {
        v["status"] == "APPROVED"
    })
    .await;
    assert_eq!(approved["status"], "APPROVED", "{approved}");
    assert_eq!(approved["approvalRequest"]["status"], "NOT_REQUIRED");
    // A later event of the same request (same partition): once it shows, the duplicate before it
    // was consumed too.
    let escalated = not_required.then("approval.escalated.v1", "PENDING");
    publish(&producer, &topic, &escalated).await;
    let settled = Instant::now();
    while !history_commands(&app, quote)
        .await
        .contains(&"APPROVAL_EVIDENCE_RECORDED".to_owned())
    {
        assert!(
            settled.elapsed() < Duration::from_secs(30),
            "the escalation never arrived"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let commands = history_commands(&app, quote).await;
    assert_eq!(
        commands
            .iter()
            .filter(|c| *c == "APPROVAL_NOT_REQUIRED")
            .count(),
        1,
        "{commands:?}"
    );
    let inbox: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT message_id, outcome FROM inbox_message WHERE consumer_group = $1 ORDER BY received_at",
    )
    .bind(&group)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        inbox,
        [
            (not_required.event_id, "APPLIED".to_owned()),
            (escalated.event_id, "APPLIED".to_owned())
        ]
    );
    let accepted = app.command(quote, "accept").await;
    assert_eq!(accepted["status"], "ACCEPTED");

    // Warmed up, the consumer's share of "approved within 1 s of submit" (ADR 0035) is small:
    // from publishing to the quote reading APPROVED.
    let second = app.configured_quote().await;
    app.command(second, "price").await;
    let submitted = app.command(second, "submit").await;
    publish(
        &producer,
        &topic,
        &ApprovalEvent::requested(&submitted, "NOT_REQUIRED"),
    )
    .await;
    let (approved, took) = wait_for(&app, second, Duration::from_secs(10), |v| {
        v["status"] == "APPROVED"
    })
    .await;
    assert_eq!(approved["status"], "APPROVED", "{approved}");
    assert!(
        took < Duration::from_secs(3),
        "the outcome took {took:?} to apply"
    );
    app.stop().await;
}
