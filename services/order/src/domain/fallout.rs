//! Fallout as a domain object (state-machines.md, "Fallout"): what failed, where, how badly,
//! who owns it, and how it was resolved. Its commands go through [`FalloutStatus`]'s table;
//! the order-side repair each action triggers is the order aggregate's.

use chrono::{DateTime, Utc};
use domain_kernel::{Lifecycle, TransitionError};
use serde::{Deserialize, Serialize};

use super::{FalloutCommand, FalloutId, FalloutStatus, FulfilmentTaskId, OrderId, OrderItemId};

/// Where a fallout comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FalloutCategory {
    /// The captured order could not be taken (a snapshot that does not verify).
    Capture,
    /// Validation refused the order.
    Validation,
    /// The plan could not be made.
    Decomposition,
    /// A downstream refused a task (non-retryable).
    ExternalRejection,
    /// A task's retry budget is spent.
    RetriesExhausted,
    /// A compensation failed: an effect may still be applied.
    Compensation,
    /// A cancellation needs an effect undone by hand.
    Cancellation,
    /// An outcome stayed unknown and reconciliation could not decide.
    Reconciliation,
    /// The process hit a step it could not run (an engine incident, a stalled plan).
    Workflow,
}

impl FalloutCategory {
    /// Every category.
    pub const ALL: [Self; 9] = [
        Self::Capture,
        Self::Validation,
        Self::Decomposition,
        Self::ExternalRejection,
        Self::RetriesExhausted,
        Self::Compensation,
        Self::Cancellation,
        Self::Reconciliation,
        Self::Workflow,
    ];

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Capture => "CAPTURE",
            Self::Validation => "VALIDATION",
            Self::Decomposition => "DECOMPOSITION",
            Self::ExternalRejection => "EXTERNAL_REJECTION",
            Self::RetriesExhausted => "RETRIES_EXHAUSTED",
            Self::Compensation => "COMPENSATION",
            Self::Cancellation => "CANCELLATION",
            Self::Reconciliation => "RECONCILIATION",
            Self::Workflow => "WORKFLOW",
        }
    }

    /// Reads a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == value)
    }

    /// The team that owns this kind of fallout by default.
    pub fn owner_team(self) -> &'static str {
        match self {
            Self::Capture | Self::Validation => "order-desk",
            Self::Decomposition => "catalog-operations",
            Self::Compensation | Self::Cancellation | Self::Reconciliation => "order-repair",
            Self::ExternalRejection | Self::RetriesExhausted | Self::Workflow => {
                "fulfilment-operations"
            }
        }
    }

    /// How bad it is: an effect that may be applied against the customer's will (a failed
    /// compensation, an undo by hand, an unknown outcome) is the worst.
    pub fn severity(self, retryable: bool) -> Severity {
        match self {
            Self::Compensation | Self::Cancellation | Self::Reconciliation => Severity::Critical,
            Self::ExternalRejection | Self::Capture => Severity::High,
            Self::RetriesExhausted | Self::Workflow if retryable => Severity::Medium,
            Self::RetriesExhausted | Self::Workflow => Severity::High,
            Self::Validation | Self::Decomposition => Severity::Medium,
        }
    }

    /// The status a new record starts in: an undo by hand needs hands at once.
    pub fn initial_status(self) -> FalloutStatus {
        match self {
            Self::Cancellation => FalloutStatus::ManualActionRequired,
            _ => FalloutStatus::Open,
        }
    }
}

/// How bad a fallout is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    /// Cosmetic.
    Low,
    /// Delays an order.
    Medium,
    /// Blocks an order.
    High,
    /// An effect may be wrong downstream.
    Critical,
}

impl Severity {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "LOW",
            Self::Medium => "MEDIUM",
            Self::High => "HIGH",
            Self::Critical => "CRITICAL",
        }
    }
}

/// How a fallout was resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResolutionType {
    /// The retried task succeeded.
    Retried,
    /// A redo with corrected data succeeded.
    CorrectedAndRetried,
    /// The step was skipped with evidence.
    Skipped,
    /// The effect was verified applied downstream and the task settled (privileged).
    ForceCompleted,
    /// The item was given up.
    ItemFailed,
    /// The order was aborted.
    OrderAborted,
    /// The order or item was cancelled.
    Cancelled,
    /// An effect was undone by hand.
    ManualUndo,
    /// Resolved outside the platform, recorded with a note.
    Manual,
}

impl ResolutionType {
    /// Every type.
    pub const ALL: [Self; 9] = [
        Self::Retried,
        Self::CorrectedAndRetried,
        Self::Skipped,
        Self::ForceCompleted,
        Self::ItemFailed,
        Self::OrderAborted,
        Self::Cancelled,
        Self::ManualUndo,
        Self::Manual,
    ];

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Retried => "RETRIED",
            Self::CorrectedAndRetried => "CORRECTED_AND_RETRIED",
            Self::Skipped => "SKIPPED",
            Self::ForceCompleted => "FORCE_COMPLETED",
            Self::ItemFailed => "ITEM_FAILED",
            Self::OrderAborted => "ORDER_ABORTED",
            Self::Cancelled => "CANCELLED",
            Self::ManualUndo => "MANUAL_UNDO",
            Self::Manual => "MANUAL",
        }
    }

    /// Reads a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == value)
    }
}

/// One fallout record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallout {
    /// Id.
    pub id: FalloutId,
    /// The order.
    pub order: OrderId,
    /// The item, when one failed.
    pub item: Option<OrderItemId>,
    /// The task, when one failed.
    pub task: Option<FulfilmentTaskId>,
    /// How bad.
    pub severity: Severity,
    /// Where it comes from.
    pub category: FalloutCategory,
    /// Status.
    pub status: FalloutStatus,
    /// Stable code of the failure.
    pub failure_code: String,
    /// Explanation.
    pub message: String,
    /// Whether a retry as is may succeed.
    pub retryable: bool,
    /// The owning team.
    pub owner_team: String,
    /// The operator who has it.
    pub assignee: Option<String>,
    /// Raised at.
    pub created_at: DateTime<Utc>,
    /// The last retry or failure.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// Resolved at.
    pub resolved_at: Option<DateTime<Utc>>,
    /// How it was resolved.
    pub resolution_type: Option<ResolutionType>,
    /// The resolver's note.
    pub resolution_note: Option<String>,
    /// Bumped by one on every change.
    pub version: i64,
}

/// Why a fallout command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FalloutError {
    /// The table refused the move.
    #[error("{0}")]
    Transition(String, &'static str),
    /// A retry of a failure that is not retryable.
    #[error("fallout {0} is not retryable: correct the data and retry, skip, or cancel")]
    NotRetryable(FalloutId),
}

impl FalloutError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Transition(_, code) => code,
            Self::NotRetryable(_) => "RETRY_NOT_ALLOWED",
        }
    }
}

impl From<TransitionError<FalloutStatus>> for FalloutError {
    fn from(error: TransitionError<FalloutStatus>) -> Self {
        Self::Transition(error.to_string(), error.code())
    }
}

impl Fallout {
    fn apply(&mut self, command: FalloutCommand) -> Result<(), FalloutError> {
        self.status = self.status.apply(command)?;
        self.version += 1;
        Ok(())
    }

    /// Assign · to an operator (and optionally another team) · idempotent for the same
    /// assignee.
    pub fn assign(&mut self, assignee: &str, team: Option<&str>) -> Result<bool, FalloutError> {
        if self.status == FalloutStatus::Assigned
            && self.assignee.as_deref() == Some(assignee)
            && team.is_none_or(|t| t == self.owner_team)
        {
            return Ok(false);
        }
        self.apply(FalloutCommand::Assign)?;
        self.assignee = Some(assignee.to_owned());
        if let Some(team) = team {
            self.owner_team = team.to_owned();
        }
        Ok(true)
    }

    /// Retry · only a retryable failure (`RETRY_NOT_ALLOWED`) · → RETRY_SCHEDULED ·
    /// idempotent when already scheduled.
    pub fn schedule_retry(&mut self, now: DateTime<Utc>) -> Result<bool, FalloutError> {
        if self.status == FalloutStatus::RetryScheduled {
            return Ok(false);
        }
        if !self.retryable {
            return Err(FalloutError::NotRetryable(self.id));
        }
        self.apply(FalloutCommand::ScheduleRetry)?;
        self.last_attempt_at = Some(now);
        Ok(true)
    }

    /// The repaired work is under way again (a redo with corrected data, a resumed order):
    /// like a retry, but allowed for a non-retryable failure, whose data was corrected.
    pub fn schedule_redo(&mut self, now: DateTime<Utc>) -> Result<bool, FalloutError> {
        if self.status == FalloutStatus::RetryScheduled {
            return Ok(false);
        }
        self.apply(FalloutCommand::ScheduleRetry)?;
        self.last_attempt_at = Some(now);
        Ok(true)
    }

    /// Waiting for a downstream's answer (a ticket) · idempotent when already waiting.
    pub fn await_external(&mut self, now: DateTime<Utc>) -> Result<bool, FalloutError> {
        if self.status == FalloutStatus::WaitingExternal {
            return Ok(false);
        }
        self.apply(FalloutCommand::AwaitExternal)?;
        self.last_attempt_at = Some(now);
        Ok(true)
    }

    /// The scheduled work failed again: → OPEN · idempotent when open.
    pub fn reopen(&mut self, now: DateTime<Utc>) -> Result<bool, FalloutError> {
        if self.status == FalloutStatus::Open {
            return Ok(false);
        }
        self.apply(FalloutCommand::Reopen)?;
        self.last_attempt_at = Some(now);
        Ok(true)
    }

    /// Resolve · records how and why · idempotent when already RESOLVED or CLOSED.
    pub fn resolve(
        &mut self,
        resolution: ResolutionType,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, FalloutError> {
        if !self.status.is_open() {
            return Ok(false);
        }
        self.apply(FalloutCommand::Resolve)?;
        self.resolved_at = Some(now);
        self.resolution_type = Some(resolution);
        self.resolution_note = Some(note.to_owned());
        Ok(true)
    }

    /// Close · a RESOLVED record is archived · idempotent when CLOSED.
    pub fn close(&mut self) -> Result<bool, FalloutError> {
        if self.status == FalloutStatus::Closed {
            return Ok(false);
        }
        self.apply(FalloutCommand::Close)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fallout(retryable: bool) -> Fallout {
        Fallout {
            id: FalloutId::generate(),
            order: OrderId::generate(),
            item: None,
            task: None,
            severity: Severity::High,
            category: FalloutCategory::ExternalRejection,
            status: FalloutStatus::Open,
            failure_code: "PROVISIONING_REJECTED".into(),
            message: "no".into(),
            retryable,
            owner_team: "fulfilment-operations".into(),
            assignee: None,
            created_at: Utc::now(),
            last_attempt_at: None,
            resolved_at: None,
            resolution_type: None,
            resolution_note: None,
            version: 1,
        }
    }

    #[test]
    fn a_non_retryable_fallout_refuses_a_retry_and_changes_nothing() {
        let mut record = fallout(false);
        let before = record.clone();
        let error = record.schedule_retry(Utc::now()).unwrap_err();
        assert_eq!(error.code(), "RETRY_NOT_ALLOWED");
        assert_eq!(record, before);
    }

    #[test]
    fn every_command_is_idempotent_and_bumps_the_version_once() {
        let mut record = fallout(true);
        assert!(record.assign("ops1", None).unwrap());
        assert!(!record.assign("ops1", None).unwrap());
        assert!(record.schedule_retry(Utc::now()).unwrap());
        assert!(!record.schedule_retry(Utc::now()).unwrap());
        assert!(
            record
                .resolve(ResolutionType::Retried, "ok", Utc::now())
                .unwrap()
        );
        assert!(
            !record
                .resolve(ResolutionType::Manual, "again", Utc::now())
                .unwrap()
        );
        assert_eq!(record.resolution_type, Some(ResolutionType::Retried));
        assert!(record.close().unwrap());
        assert!(!record.close().unwrap());
        assert_eq!(record.version, 5);
        assert_eq!(record.status, FalloutStatus::Closed);
    }

    #[test]
    fn closing_needs_a_resolution_first() {
        let mut record = fallout(true);
        assert_eq!(record.close().unwrap_err().code(), "ILLEGAL_TRANSITION");
    }

    #[test]
    fn severity_puts_effects_that_may_be_wrong_first() {
        assert_eq!(
            FalloutCategory::Compensation.severity(true),
            Severity::Critical
        );
        assert!(FalloutCategory::RetriesExhausted.severity(true) < Severity::High);
        assert_eq!(
            FalloutCategory::Cancellation.initial_status(),
            FalloutStatus::ManualActionRequired
        );
    }
}
