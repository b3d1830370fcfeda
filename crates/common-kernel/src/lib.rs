//! Shared building blocks of every cpq-oms service.
//!
//! The kernel holds what each bounded context needs in the same shape — identifiers, money,
//! request context, errors, idempotency, the transactional outbox, HTTP plumbing and telemetry —
//! so that services differ only in their domain. It contains no service logic.
//!
//! This is the platform half of the kernel: it depends on the I/O stack (axum, sqlx, redis,
//! tokio). Pure value types (ids, money, versions, actors, the transition-table helper) are in
//! `domain-kernel`, which domain code and the pure engines depend on instead.

pub mod audit;
pub mod auth;
pub mod cache;
pub mod context;
pub mod db;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod outbox;
pub mod pagination;
pub mod rate_limit;
pub mod settings;
pub mod telemetry;

// The pure value types live in `domain-kernel` (no I/O dependency); they are re-exported here
// so application and HTTP code keep one import path.
pub use domain_kernel::{access, ids, money, transition, uuid_id, version};
