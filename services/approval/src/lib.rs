//! The approval bounded context (architecture §3): approval requests for a quote revision and
//! price hash, their approver chains, decisions, delegation and escalation; the policy that
//! decides which levels a submission needs (DMN, ADR 0031); the `quote-approval` process's
//! workers and the Tasklist and portal doors that both end in one `decide` command.
//!
//! Layers: `http` → `app` → `domain`; `infra` implements the ports `app` owns and runs the
//! background edges (the consumer of CPQ's quote events, the process sync, expiry); `workers`
//! adapt the engine's jobs to application commands; [`application`] wires them.

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
