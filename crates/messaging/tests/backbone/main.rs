//! The event backbone over real connections: PostgreSQL (a fresh migrated database per test)
//! and the Kafka-protocol broker (`KAFKA_BROKERS` or the local one `./dev test` starts).

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

mod support;

mod batch_consumer;
mod consumer;
mod db_outage;
mod jobs_role;
mod outage;
mod relay;
