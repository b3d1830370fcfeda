//! Pure value types shared by every domain layer of cpq-oms: identifiers, money, optimistic
//! versions, the kinds of actor, and the transition-table helper behind every state machine.
//!
//! This crate has no I/O dependency (no axum, sqlx, redis, tokio, reqwest), so the pure crates
//! (`cpq-pricing`, `cpq-configuration`) and every service's `domain` module can use it without
//! compiling the platform. The platform half (`common-kernel`) re-exports these modules, so
//! application and HTTP code keep one import path.

pub mod access;
pub mod actor;
pub mod canonical;
pub mod ids;
pub mod money;
pub mod transition;
pub mod version;

pub use actor::{Actor, ActorType};
pub use ids::{ActorId, CommandId, EventId, TenantId};
pub use transition::{
    ILLEGAL_TRANSITION, Lifecycle, MatrixCount, TransitionError, check_transition_matrix,
};

/// Re-exports used by the kernel's macros, so callers need not depend on them directly.
#[doc(hidden)]
pub mod __private {
    pub use serde;
    pub use uuid;
}
