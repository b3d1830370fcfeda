//! The operations bounded context (architecture §3): read models only — order and quote
//! timelines, stuck orders, the fallout queue, approval aging, customers, search and the
//! business metrics, projected from the events the other services publish — and the operators'
//! console. Never a command source of truth: repairs are the owning services' commands.
//!
//! Layers: `http` → `app` → `domain`; `infra` holds the projection store, the projector and the
//! rebuild; `console` serves the browser and sends repairs on to the order service.

pub mod app;
pub mod application;
pub mod console;
pub mod domain;
pub mod http;
pub mod infra;
pub mod settings;

pub use application::{
    Application, DEFAULT_PORT, IDENTITY, MIGRATOR, SCHEMA, SERVICE, StartupError, run_main,
};
