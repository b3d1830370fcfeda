//! Shared building blocks of every cpq-oms service.
//!
//! The kernel holds what each bounded context needs in the same shape — identifiers, money,
//! request context, errors, idempotency, the transactional outbox, HTTP plumbing and telemetry —
//! so that services differ only in their domain. It contains no service logic.

pub mod audit;
pub mod cache;
pub mod context;
pub mod db;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod ids;
pub mod money;
pub mod outbox;
pub mod pagination;
pub mod settings;
pub mod telemetry;
pub mod version;

/// Re-exports used by the kernel's macros, so services need not depend on them directly.
#[doc(hidden)]
pub mod __private {
    pub use serde;
    pub use uuid;
}
