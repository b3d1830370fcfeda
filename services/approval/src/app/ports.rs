//! What the use cases need from the outside, as traits the application owns (ADR 0027):
//! request storage and the approver directory. `infra` implements them; every storage method
//! takes the caller's connection, so the command owns the transaction and the outbox and audit
//! writes join it.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use common_kernel::context::RequestContext;
use domain_kernel::{ActorId, TenantId};
use sqlx::PgConnection;

use crate::domain::{
    ApprovalEvent, ApprovalLevel, ApprovalRequest, ApprovalRequestId, Approver, Delegation,
    DelegationBook, GroupId, QuoteId, QuoteRef,
};

/// A schema guard that refused a write, named after its constraint so the application maps it
/// to the same stable code as the domain's own refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardViolation {
    /// `approval_request_one_open`: the quote revision has a PENDING request already.
    OpenRequestExists,
    /// `approval_decision_one_per_actor` / `_one_per_principal`: decided already.
    AlreadyDecided,
    /// `approval_decision_separation_of_duties`: the submitter decided.
    SelfDecision,
    /// `approval_decision_price_hash`: another price hash.
    PriceHash,
    /// `approval_decision_request_pending`, `approval_request_transition`,
    /// `approval_request_rejected_final`: the lifecycle refused.
    Transition,
    /// `approval_delegation_cycle`: the delegate delegates back.
    DelegationCycle,
    /// `approval_delegation_not_self`: delegating to oneself.
    DelegationToSelf,
    /// Any other named guard (append-only, immutability): a bug, never user input.
    Other(&'static str),
}

impl GuardViolation {
    /// Stable code, the same the domain uses for the refusal.
    pub fn code(self) -> &'static str {
        match self {
            Self::OpenRequestExists => "APPROVAL_REQUEST_ALREADY_OPEN",
            Self::AlreadyDecided => "APPROVAL_ALREADY_DECIDED",
            Self::SelfDecision => "APPROVAL_SELF_DECISION",
            Self::PriceHash => "APPROVAL_PRICE_HASH_MISMATCH",
            Self::Transition => domain_kernel::ILLEGAL_TRANSITION,
            Self::DelegationCycle => "DELEGATION_CYCLE",
            Self::DelegationToSelf => "DELEGATION_TO_SELF",
            Self::Other(name) => name,
        }
    }
}

/// Why storage could not answer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// Another command changed the request since it was read (optimistic version).
    #[error("approval request {0} changed concurrently")]
    VersionConflict(ApprovalRequestId),
    /// A named schema guard refused the write.
    #[error("the schema refused the write: {}", .0.code())]
    Guard(GuardViolation),
    /// Stored rows do not read back as a request (a bug, never user input).
    #[error("stored approval data is unreadable: {0}")]
    Corrupt(String),
}

/// A PENDING request's open level, as an approver's work list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenTask {
    /// The request.
    pub request_id: ApprovalRequestId,
    /// Quote revision and hash.
    pub quote: QuoteRef,
    /// The open level.
    pub level: ApprovalLevel,
    /// Groups it is assigned to.
    pub groups: Vec<GroupId>,
    /// When it is overdue.
    pub due: DateTime<Utc>,
}

/// Request storage, on the caller's tenant-scoped connection (`db::begin_for_tenant`).
#[async_trait]
pub trait ApprovalRepository: Send + Sync + fmt::Debug {
    /// Stores a request just opened: its row, levels and the history of `events` (the opening,
    /// and the approval by reuse when every level was skipped).
    async fn insert(
        &self,
        conn: &mut PgConnection,
        ctx: &RequestContext,
        request: &ApprovalRequest,
        events: &[ApprovalEvent],
    ) -> Result<(), StoreError>;

    /// Stores one transition: a decision first (its guard needs the request still PENDING),
    /// then the level it moved, then the root under its previous version, then history.
    async fn save(
        &self,
        conn: &mut PgConnection,
        ctx: &RequestContext,
        request: &ApprovalRequest,
        event: &ApprovalEvent,
    ) -> Result<(), StoreError>;

    /// Reads a request without locking it.
    async fn load(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        id: ApprovalRequestId,
    ) -> Result<Option<ApprovalRequest>, StoreError>;

    /// Reads a request and locks it for the transaction: commands on one request serialise.
    async fn lock(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        id: ApprovalRequestId,
    ) -> Result<Option<ApprovalRequest>, StoreError>;

    /// Every request of a quote, newest first; locked when `lock` (supersession).
    async fn by_quote(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        quote: QuoteId,
        lock: bool,
    ) -> Result<Vec<ApprovalRequest>, StoreError>;

    /// PENDING requests whose open level is assigned to one of `groups`, soonest due first.
    async fn open_tasks(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        groups: &[GroupId],
        limit: i64,
    ) -> Result<Vec<OpenTask>, StoreError>;

    /// Ids of PENDING requests whose time is over at `now` (the expiry's work list).
    async fn due_for_expiry(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<ApprovalRequestId>, StoreError>;

    /// Stores a delegation grant.
    async fn insert_delegation(
        &self,
        conn: &mut PgConnection,
        ctx: &RequestContext,
        delegation: &Delegation,
    ) -> Result<(), StoreError>;

    /// The unrevoked delegations naming `actor` as delegate or delegator.
    async fn delegations(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        actor: &ActorId,
    ) -> Result<DelegationBook, StoreError>;
}

/// Who may decide what: the tenant's approver directory (groups, and a principal's levels when
/// someone decides on their behalf; the acting user's levels come from their token).
#[async_trait]
pub trait ApproverDirectory: Send + Sync + fmt::Debug {
    /// The approver groups `actor` belongs to.
    async fn groups_of(
        &self,
        tenant: &TenantId,
        actor: &ActorId,
    ) -> Result<Vec<GroupId>, StoreError>;

    /// `principal`'s own authority (levels from their roles, groups), when known.
    async fn approver(
        &self,
        tenant: &TenantId,
        principal: &ActorId,
    ) -> Result<Option<Approver>, StoreError>;
}

/// The ports every use case receives.
#[derive(Debug, Clone)]
pub struct Ports {
    /// Request storage.
    pub requests: Arc<dyn ApprovalRepository>,
    /// The approver directory.
    pub directory: Arc<dyn ApproverDirectory>,
}
