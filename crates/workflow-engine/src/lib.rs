//! Embedded, single-node workflow engine speaking the Zeebe gateway gRPC protocol (ADR 0014).
//!
//! The same zeebe-rs workers run against this engine locally and in CI and against Camunda 8 in
//! production by changing one address. All state lives in PostgreSQL (`workflow_schema`):
//! a restart loses nothing, and every command is one transaction.
//!
//! * [`grpc`] — the tonic `Gateway` service generated from zeebe-rs's `gateway.proto`;
//! * [`http`] — the REST API (user tasks, operator views) on its own port;
//! * [`app`] — one handler per command, owning the transaction;
//! * [`engine`] — pure stepping rules over the `workflow-model` process model;
//! * [`store`] — explicit SQL.

pub mod app;
pub mod engine;
pub mod error;
pub mod grpc;
pub mod http;
pub mod startup;
pub mod store;

pub use app::{Engine, EngineConfig};
pub use error::EngineError;
pub use startup::{Application, StartupError};
