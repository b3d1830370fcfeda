//! The operations domain: what a published fact means for the operators' views, and when an
//! order counts as stuck. Pure; the ops service never decides anything about the business, it
//! only projects what the owning services published.

pub mod fact;
pub mod stuck;
pub mod view_update;

pub use fact::{Fact, FactKind, classify};
pub use stuck::{StuckThresholds, TERMINAL_ORDER_STATUSES};
pub use view_update::{FalloutState, InstalledAsset, QuoteMilestone, ViewUpdate, view_update};
