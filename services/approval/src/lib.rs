//! The approval bounded context (architecture §3): approval requests for a quote revision and
//! price hash, their approver chains, decisions, delegation and escalation.
//!
//! Only the pure domain exists so far (issue 21, part 1); the HTTP API, application commands,
//! repositories and workflow workers follow in later parts and will depend on it, never the
//! other way round.

pub mod domain;
