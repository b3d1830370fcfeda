//! Reads what the approval service published on the broker (`cpq.approval.events.v1`), from the
//! beginning, the way any consumer of the topic would.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use serde_json::Value;
use tokio::time::Instant;

use super::actions::WAIT;

/// The approval events topic.
pub const APPROVAL_TOPIC: &str = "cpq.approval.events.v1";

/// A reader of the approval events topic with its own consumer group.
pub struct EventReader {
    consumer: StreamConsumer,
    seen: Vec<Value>,
}

impl EventReader {
    /// Subscribes from the earliest offset.
    pub fn new(brokers: &str) -> Self {
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("group.id", format!("scenario-{}", uuid::Uuid::now_v7()))
            .set("auto.offset.reset", "earliest")
            .set("enable.auto.commit", "false")
            .create()
            .expect("consumer");
        consumer.subscribe(&[APPROVAL_TOPIC]).expect("subscribe");
        Self {
            consumer,
            seen: Vec::new(),
        }
    }

    /// Waits until an event matching `wanted` was published; returns its envelope.
    pub async fn wait_for(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(found) = self.seen.iter().find(|e| wanted(e)) {
            return found.clone();
        }
        let until = Instant::now() + WAIT;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no {what} on {APPROVAL_TOPIC}; seen: {:#?}",
                self.seen
            );
            let Ok(received) =
                tokio::time::timeout(left.min(Duration::from_secs(1)), self.consumer.recv()).await
            else {
                continue;
            };
            let message = received.expect("kafka message");
            let Some(payload) = message.payload() else {
                continue;
            };
            let envelope: Value = serde_json::from_slice(payload).expect("a JSON envelope");
            let matches = wanted(&envelope);
            self.seen.push(envelope.clone());
            if matches {
                return envelope;
            }
        }
    }

    /// Every event read so far of `event_type` for `request`.
    pub fn count(&self, event_type: &str, request: &str) -> usize {
        self.seen
            .iter()
            .filter(|e| e["eventType"] == event_type && e["payload"]["requestId"] == request)
            .count()
    }
}

/// A predicate for `event_type` about the request `request`.
pub fn of(event_type: &'static str, request: String) -> impl Fn(&Value) -> bool {
    move |e: &Value| e["eventType"] == event_type && e["payload"]["requestId"] == request.as_str()
}
