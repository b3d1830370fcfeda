//! Integration tests of the CPQ service: the real service on a random port against a fresh
//! migrated PostgreSQL database per test, real Redis, and a real catalog started in-process on
//! its own database and seeded through its HTTP API. One test crate, many modules, so the
//! services link once.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod approval_support;
mod harness;

mod approval_consumer;
mod approval_outcomes;
mod bad_input;
mod catalog_access;
mod catalog_stall;
mod contracts;
mod item_edits;
mod jobs_role;
mod lifecycle;
mod lifecycle_guard;
mod openapi;
mod properties;
mod scenarios;
mod security_authn;
mod security_authority;
mod security_matrix;
mod security_rate_limits;
mod security_service_calls;
mod security_support;
mod security_tenants;
mod tenancy;
