//! The audit log over the real stack: a private Kafka-protocol broker, the real PostgreSQL,
//! the audit service in this process, evidence published as the services publish it.

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test set-up fails loudly"
)]

mod catch_up;
mod consistency;
mod guards;
mod harness;
mod ingestion;
mod tampering;
