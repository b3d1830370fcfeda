//! What the use cases need from the outside, as traits the application owns (ADR 0027):
//! request storage, the approver directory and the workflow engine's user tasks. `infra`
//! implements them; every storage method takes the caller's connection, so the command owns the
//! transaction and the outbox and audit writes join it.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use common_kernel::context::{ActorType, RequestContext};
use domain_kernel::access::Role;
use domain_kernel::{ActorId, TenantId};
use serde_json::{Map, Value};
use sqlx::PgConnection;

use crate::domain::{
    ApprovalCommand, ApprovalEvent, ApprovalLevel, ApprovalRequest, ApprovalRequestId,
    ApprovalStatus, Approver, Delegation, DelegationBook, GroupId, QuoteId, QuoteRef,
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

/// An open level whose chain runs in a workflow-engine process instance: what an engine user
/// task of that instance is joined to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceTask {
    /// The engine's `quote-approval` instance of the request.
    pub process_instance_key: i64,
    /// The request's open level.
    pub open: OpenTask,
}

/// One row of a request's append-only history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    /// The command (`None` for the opening).
    pub command: Option<ApprovalCommand>,
    /// Status before (none for the opening).
    pub from: Option<ApprovalStatus>,
    /// Status after.
    pub to: ApprovalStatus,
    /// The request's version after.
    pub version: i64,
    /// Who acted.
    pub actor: ActorId,
    /// As what.
    pub actor_type: ActorType,
    /// The service that carried the command, when one did.
    pub via: Option<String>,
    /// Why, when given.
    pub reason: Option<String>,
    /// The event's own fields (decision, escalation, skips…).
    pub details: Value,
    /// The request's correlation id.
    pub correlation_id: String,
    /// When.
    pub occurred_at: DateTime<Utc>,
}

/// One approver of the tenant's directory, as stored: the roles and groups the service trusts
/// when the caller brings no token of theirs (a Tasklist assignee, a principal decided for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApproverEntry {
    /// The approver.
    pub actor: ActorId,
    /// Their realm roles.
    pub roles: Vec<Role>,
    /// Their approver groups (Tasklist candidate groups).
    pub groups: Vec<GroupId>,
    /// 1 when created, +1 per change.
    pub version: i64,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Who changed it last.
    pub updated_by: ActorId,
}

impl ApproverEntry {
    /// Their authority to decide: levels from their roles, and their groups.
    pub fn approver(&self) -> Approver {
        Approver::from_roles(self.actor.clone(), &self.roles, self.groups.clone())
    }
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

    /// Every unrevoked delegation of the tenant still in force after `from`, read under the
    /// tenant's delegation lock (the one the schema's cycle guard takes), so a grant checked
    /// against this book for cycles of any length cannot race another grant.
    async fn delegations_for_grant(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        from: DateTime<Utc>,
    ) -> Result<DelegationBook, StoreError>;

    /// The engine's process instance running request `id`, once linked.
    async fn process_instance_key(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        id: ApprovalRequestId,
    ) -> Result<Option<i64>, StoreError>;

    /// The PENDING requests run by `instances`, each with its open level (requests of other
    /// tenants, and instances no request names, are absent).
    async fn open_tasks_of_instances(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        instances: &[i64],
    ) -> Result<Vec<InstanceTask>, StoreError>;

    /// The request's history, oldest first.
    async fn history(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        id: ApprovalRequestId,
    ) -> Result<Vec<HistoryEntry>, StoreError>;

    /// The directory entry of `actor`; when `lock`, the entry's key is locked for the
    /// transaction first (an entry not created yet included), so two changes serialise.
    async fn approver_entry(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        actor: &ActorId,
        lock: bool,
    ) -> Result<Option<ApproverEntry>, StoreError>;

    /// Stores `entry` (created at version 1, else replacing version − 1, which the caller
    /// locked); returns it as stored.
    async fn save_approver(
        &self,
        conn: &mut PgConnection,
        ctx: &RequestContext,
        entry: &ApproverEntry,
    ) -> Result<ApproverEntry, StoreError>;
}

/// Who may decide what: the tenant's approver directory (groups, and a principal's levels when
/// someone decides on their behalf; the acting user's levels come from their token, or from
/// [`ApproverDirectory::roles_of`] when they bring none, as a Tasklist assignee does).
///
/// Each call reads on its own short transaction (never the caller's): a command asks the
/// directory before it locks anything (ADR 0027).
#[async_trait]
pub trait ApproverDirectory: Send + Sync + fmt::Debug {
    /// The approver groups `actor` belongs to (none when unknown).
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

    /// The realm roles the directory grants `actor` (none when unknown): what a context built
    /// for someone who brings no token (a Tasklist assignee) carries as its authority.
    async fn roles_of(&self, tenant: &TenantId, actor: &ActorId) -> Result<Vec<Role>, StoreError>;
}

/// The BPMN process id whose user tasks are approval tasks.
pub const APPROVAL_PROCESS_ID: &str = "quote-approval";

/// Which open user tasks of the approval process to search: every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    /// A group among the task's candidate groups.
    pub candidate_group: Option<String>,
    /// The task's assignee.
    pub assignee: Option<String>,
    /// The task's process instance.
    pub process_instance_key: Option<i64>,
}

/// An open user task of the engine, as the approval service reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineTask {
    /// The engine's key, for assignment and completion.
    pub user_task_key: i64,
    /// The process instance it belongs to.
    pub process_instance_key: i64,
    /// The BPMN element of the task.
    pub element_id: String,
    /// Who may claim it.
    pub candidate_groups: Vec<String>,
    /// Who holds it, when claimed.
    pub assignee: Option<String>,
    /// When it is due, when it has a due date.
    pub due_date: Option<DateTime<Utc>>,
    /// When it was created.
    pub creation_date: DateTime<Utc>,
}

/// Why a call to the engine's user-task API did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum TaskEngineError {
    /// No answer, a timeout or a 5xx: whether the call took effect is unknown, so it is never
    /// reported as failed; retry or reconcile later.
    #[error("the workflow engine gave no definite answer")]
    Unknown(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The task does not exist (404).
    #[error("the workflow engine has no user task {0}")]
    NotFound(i64),
    /// The engine refused the call (4xx other than 404): a task no longer open, a denied
    /// completion, a request it cannot read.
    #[error("the workflow engine refused the call ({status}): {detail}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The engine's problem detail (or title), when it sent one.
        detail: String,
    },
    /// A success answer that does not read as the contract says.
    #[error("the workflow engine answered unreadably: {0}")]
    Unreadable(String),
}

/// The engine's user-task API (Camunda 8's `/v2/user-tasks`), called as this service.
#[async_trait]
pub trait UserTaskEngine: Send + Sync + fmt::Debug {
    /// Open (CREATED) user tasks of [`APPROVAL_PROCESS_ID`] matching `filter`, oldest first, at
    /// most `limit`.
    async fn search_open(
        &self,
        filter: &TaskFilter,
        limit: usize,
    ) -> Result<Vec<EngineTask>, TaskEngineError>;

    /// Assigns the task to `assignee`, taking it over from anyone who holds it.
    async fn assign(&self, user_task_key: i64, assignee: &str) -> Result<(), TaskEngineError>;

    /// Completes the task with `variables`; the process instance moves on.
    async fn complete(
        &self,
        user_task_key: i64,
        variables: Map<String, Value>,
    ) -> Result<(), TaskEngineError>;
}

/// The ports every use case receives.
#[derive(Debug, Clone)]
pub struct Ports {
    /// Request storage.
    pub requests: Arc<dyn ApprovalRepository>,
    /// The approver directory.
    pub directory: Arc<dyn ApproverDirectory>,
}
