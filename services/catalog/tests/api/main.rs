//! Integration tests of the catalog service: the real binary's router on a random port, a
//! fresh migrated PostgreSQL database per test, real Redis. One test crate, many modules, so
//! the service links once.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

#[allow(
    dead_code,
    reason = "the harness is shared by two test crates; each uses a subset"
)]
mod harness;

mod events;
mod fulfilment;
mod idempotency;
mod jobs_role;
mod lifecycle;
mod openapi;
mod properties;
mod security;
mod tenancy;
