//! The integration bounded context (architecture §3): the anti-corruption layer between the
//! order's fulfilment and the downstream systems. Every external side effect is one external
//! operation keyed by an idempotency key derived from its business identity; every attempt and
//! status query is in the external call log; every attempt ends in one class of a closed
//! taxonomy; a timeout is reconciled, never guessed (ADR 0038).
//!
//! Layers: `http` → `app` → `domain`; `infra` implements the downstream port over HTTP and
//! stores operations and calls; `workers` adapt the fulfilment process's external-call jobs to
//! the one application command; [`application`] wires them.

pub mod app;
pub mod application;
pub mod domain;
pub mod http;
pub mod infra;
pub mod settings;
pub mod workers;

pub use application::{
    Application, DEFAULT_PORT, IDENTITY, MIGRATOR, SCHEMA, SERVICE, StartupError, run_main,
};
