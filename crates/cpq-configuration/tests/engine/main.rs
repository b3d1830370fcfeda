//! Configuration engine tests: one per violation code, whole-quote reporting, hash
//! stability, property tests and a 10,000-item quote. One test crate, several modules, so it
//! links once.

#![expect(clippy::unwrap_used, reason = "test fixtures fail loudly")]

mod hashing;
mod properties;
mod rules;
mod scale;
mod support;
