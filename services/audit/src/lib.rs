//! The audit bounded context (architecture §3, §9; issue 25): the append-only, tamper-evident
//! log of every decision's evidence. Every service submits `audit.evidence-submitted.v1`
//! through its outbox; this service takes each message once (inbox), normalises it to the
//! spec's audit shape, appends it to its tenant's RFC 6962 Merkle log and signs checkpoints.
//! Auditors query disputes by resource, actor, business transaction or correlation, read a
//! resource's timeline with its diffs, fetch inclusion and consistency proofs, verify the
//! stored log, and export evidence bundles that `audit-verify` checks offline.
//!
//! Layers: `http` → `app` → `domain`; `infra` holds the SQL and the consumer; the proof format
//! is the `audit-proof` crate's, shared with the offline verifier.

pub mod app;
pub mod application;
pub mod domain;
pub mod http;
pub mod infra;
pub mod settings;

pub use application::{
    Application, DEFAULT_PORT, IDENTITY, MIGRATOR, SCHEMA, SERVICE, StartupError, run_main,
};
