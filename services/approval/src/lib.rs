//! The approval bounded context (architecture §3): approval requests for a quote revision and
//! price hash, their approver chains, decisions, delegation and escalation.
//!
//! The domain is pure; the application layer owns its ports and transactions; `infra`
//! implements the ports over PostgreSQL. The HTTP API and workflow workers follow in later
//! parts of issue 21 and will depend on these, never the other way round.

pub mod app;
pub mod domain;
pub mod http;
pub mod infra;
