//! Producer settings shared by the relay and tools: idempotent, acknowledged by all in-sync
//! replicas, so a retried send never duplicates or reorders a partition.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::producer::FutureProducer;

/// How long librdkafka keeps trying to deliver one message before reporting failure. The relay's
/// lease must be longer, so a row is never claimed twice while its send is still in flight.
pub const MESSAGE_TIMEOUT: Duration = Duration::from_secs(20);

/// Builds the idempotent producer (`enable.idempotence=true`, `acks=all`).
pub fn idempotent_producer(brokers: &str) -> Result<FutureProducer, rdkafka::error::KafkaError> {
    idempotent_config(brokers).create()
}

/// The idempotent producer's settings, for producers with a context of their own (the relay's).
pub fn idempotent_config(brokers: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set(
            "message.timeout.ms",
            MESSAGE_TIMEOUT.as_millis().to_string(),
        )
        .set("linger.ms", "2")
        .set("queue.buffering.max.messages", "200000")
        .set("reconnect.backoff.max.ms", "2000");
    config
}
