//! Approval domain (state-machines.md, "Approval request"). Pure: no axum, sqlx, redis, reqwest,
//! rdkafka or zeebe. The application layer loads an [`ApprovalRequest`], calls one command and
//! persists the typed [`ApprovalEvent`]s it returns; the schema in `migrations/approval` repeats
//! the lifecycle table as its last line of defence.

pub mod chain;
mod closing;
pub mod decision;
pub mod delegation;
pub mod error;
pub mod escalation;
pub mod events;
pub mod lifecycle;
pub mod policy;
pub mod reapproval;
pub mod request;
pub mod restore;
pub mod snapshot;
pub mod values;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;

domain_kernel::uuid_id!(
    /// Identifies one approval request; a new submit always creates a new one (a rejected or
    /// superseded request is never reused).
    ApprovalRequestId
);
domain_kernel::uuid_id!(
    /// Identifies the quote a request is about (CPQ's own quote id, carried by value).
    QuoteId
);
domain_kernel::uuid_id!(
    /// Identifies one decision record, so audit evidence and events can name it.
    DecisionId
);
domain_kernel::uuid_id!(
    /// Identifies one delegation, so a decision taken on someone's behalf names the grant used.
    DelegationId
);

pub use chain::{ApprovalChain, Assignment, ChainLevel, LevelPlan, LevelState, Quorum};
pub use decision::{Approver, Decision, DecisionInput, DecisionOutcome, OnBehalf, Verdict};
pub use delegation::{Delegation, DelegationBook, DelegationError};
pub use domain_kernel::access::ApprovalLevel;
pub use error::ApprovalError;
pub use escalation::{EscalationFact, EscalationKind};
pub use events::ApprovalEvent;
pub use lifecycle::{ApprovalCommand, ApprovalStatus};
pub use policy::{ApproverRouting, LevelDurations, LevelRoute, PolicyMappingError};
pub use reapproval::{InputComparison, LevelReuse, SkipEvidence};
pub use request::{ApprovalRequest, DecideResult, NewRequest, QuoteRef};
pub use restore::{RestoreError, StoredRequest};
pub use snapshot::{PolicySnapshot, RiskDirection, RuleEvaluation};
pub use values::{GroupId, PriceHash, QuoteRevision, Reason, ValueError};
