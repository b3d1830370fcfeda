//! The audit domain: what an entry of the evidence log is, how submitted evidence becomes one,
//! and how two states of a resource differ. Pure: no I/O; the proof math is `audit-proof`'s.

pub mod diff;
pub mod entry;
pub mod normalise;
pub mod resource_type;

pub use entry::{AuditEntry, AuditEventId, EntryActor, EntryPolicy, EntryResource};
pub use normalise::{Rejection, normalise};
pub use resource_type::ResourceType;
