//! The order bounded context (architecture §3): orders captured from an accepted quote's frozen
//! snapshot or directly, decomposed from the catalog's fulfilment profiles into a plan (a DAG
//! over items and tasks), fulfilled by the `order-fulfillment` process (the external effects
//! through the integration service, ADR 0037), and the installed base they leave behind:
//! product instances with their history, and subscriptions. The semantics follow TMF622 and
//! TMF637 (ADR 0041).
//!
//! Layers: `http` → `app` → `domain`; `infra` stores the aggregates, reads the catalog, consumes
//! CPQ's and integration's events and starts the processes; `workers` adapt the process's
//! `order.*` jobs to the application commands; [`application`] wires them.

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
