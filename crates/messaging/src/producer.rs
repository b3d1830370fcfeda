//! Producer settings shared by the relay and tools: idempotent, acknowledged by all in-sync
//! replicas, so a retried send never duplicates or reorders a partition.

use std::time::Duration;

use rdkafka::ClientConfig;

/// How long librdkafka keeps trying to deliver one message before reporting failure. The relay's
/// lease must be longer, so a row is never claimed twice while its send is still in flight.
pub const MESSAGE_TIMEOUT: Duration = Duration::from_secs(20);

/// The idempotent producer's settings (`enable.idempotence=true`, `acks=all`); the relay and
/// the relay bench build their producers from them, each with its own delivery context.
pub fn idempotent_config(brokers: &str) -> ClientConfig {
    let mut config = crate::kafka_log::client_config(brokers);
    config
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
