//! The approval schema's guards against a real PostgreSQL: the platform migrations then
//! `migrations/approval`, applied as `service-host`'s `Foundation::open` does, into a database
//! cloned per test from a template. Each test tries to break one family of guards as the role
//! that would (the request role `approval_app` under row-level security, or the jobs role) and
//! checks the refusal by constraint or trigger name, or SQLSTATE.
//!
//! Most families are tables of [`guard::GuardCase`]s run by [`guard::assert_refused`], which
//! tries every case in its own rolled-back tenant transaction and names each case that fails.

#![expect(clippy::expect_used, reason = "test set-up fails loudly")]

mod decisions;
mod delegations;
mod guard;
mod isolation;
mod requests;
mod support;
