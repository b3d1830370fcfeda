//! The approval service's persistence and application layer against a real PostgreSQL: the
//! platform and approval migrations applied into a database cloned per test from a template,
//! commands run as the request role `approval_app` under row-level security, each in a
//! tenant-scoped transaction (`db::begin_for_tenant`) the test commits or rolls back.

#![expect(clippy::expect_used, reason = "test set-up fails loudly")]

mod commands;
mod concurrency;
mod harness;
mod jobs_and_guards;
mod round_trip;
mod transactions;
