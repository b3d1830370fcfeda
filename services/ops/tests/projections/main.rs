//! The projections over the real stack: a private Kafka-protocol broker, the real PostgreSQL and
//! the ops service in this process, fed events in the envelopes the services publish.

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test set-up fails loudly"
)]

mod harness;
mod incidents;
mod scenario;
mod stuck;
mod timelines;
mod views;
