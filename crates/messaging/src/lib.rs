//! The event backbone: the outbox relay that publishes each service's committed events to Kafka,
//! the consumer runtime that applies other services' events exactly once in effect through an
//! inbox, the declared topic list every environment creates, and the platform tables (outbox,
//! inbox, idempotency records) that every service schema carries.
//!
//! Nothing here depends on a particular broker: the same code runs against the local
//! Kafka-protocol broker and a production Kafka cluster (`KAFKA_BROKERS`).

mod availability;
mod backlog;
pub mod batch_consumer;
pub mod consumer;
pub mod kafka_log;
pub mod ops;
pub mod producer;
pub mod relay;
pub mod schema;
pub mod topics;
