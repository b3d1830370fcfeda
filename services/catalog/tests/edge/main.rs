//! Edge-case integration tests of the catalog: bad input, database guards, price books, the
//! cache with Redis stopped, tenancy and paging, event contracts. Shares the harness of the `api`
//! test crate.

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
#[path = "../api/harness.rs"]
mod harness;

mod bad_input;
mod cache;
mod contracts;
mod database;
mod price_books;
mod queries;
