//! Integration tests of the pricing engine through its public API: hand-computed examples,
//! property tests and price-trace snapshots.

#![expect(clippy::unwrap_used, reason = "test fixtures fail loudly")]

mod examples;
mod properties;
mod snapshots;
mod support;
