//! The operations bounded context (architecture §3): read models only — order and quote
//! timelines and the stuck orders, projected from the events the other services publish. Never
//! a command source of truth: repairs are the owning services' commands.
//!
//! Layers: `http` → `app` → `domain`; `infra` holds the projection store and the projector.

pub mod app;
pub mod application;
pub mod domain;
pub mod http;
pub mod infra;
pub mod settings;

pub use application::{
    Application, DEFAULT_PORT, IDENTITY, MIGRATOR, SCHEMA, SERVICE, StartupError, run_main,
};
