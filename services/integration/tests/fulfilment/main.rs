//! External calls as the fulfilment process makes them: the embedded Zeebe-compatible engine,
//! the integration service's workers over gRPC (in this process, or as the real binary when the
//! test kills it), the downstream simulator as a process, PostgreSQL.

#![expect(clippy::expect_used, reason = "test set-up fails loudly")]

mod crash;
#[path = "../support/log.rs"]
mod log;
mod stack;
mod through_the_engine;
