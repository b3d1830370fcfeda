//! Quote-to-cash over the real stack (issue 23's acceptance): a private Kafka-protocol broker,
//! the embedded engine, the downstream simulator and every service up to the order service.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test set-up fails loudly (not every module needs both)"
)]

mod actions;
mod audit_trail;
mod business_metrics;
mod cancellations;
mod capture;
mod changes;
mod console;
mod exceptions;
mod failures;
mod quote_to_cash;
mod stack;
