//! The approval service's HTTP API end to end: the real router on the shared host, a real
//! PostgreSQL database per test (the request role under row-level security), real tokens from
//! the test issuer, and a real embedded workflow engine whose user tasks the inbox reads and
//! decisions complete.

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test set-up and assertions fail loudly"
)]

mod decisions;
mod delegations;
mod directory;
mod engine_client;
mod harness;
mod inbox;
mod openapi;
mod requests;
mod schema;
