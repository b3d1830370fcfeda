//! The adapters end to end: the executor and its HTTP adapters against the downstream simulator
//! running as a real process, the operations and the call log in a real PostgreSQL. Faults are
//! injected through the simulator's control API; effects are counted in its effects log.

#![expect(clippy::expect_used, reason = "test set-up fails loudly")]

mod harness;
#[path = "../support/log.rs"]
mod log;
mod reconciliation;
mod taxonomy;
