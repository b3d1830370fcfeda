//! The request commands besides decisions: escalation and reassignment of a level, recall by
//! the submitter, expiry and supersession. Same shape as [`ApprovalRequest::decide`]: guards,
//! then the lifecycle table, then the change and its event.

use chrono::{DateTime, Utc};
use domain_kernel::ActorId;

use super::chain::{Assignment, ChainError, LevelState};
use super::error::ApprovalError;
use super::escalation::{EscalationFact, EscalationKind};
use super::events::{ApprovalEvent, EventDetail};
use super::lifecycle::{ApprovalCommand, transition};
use super::{ApprovalLevel, ApprovalRequest, Reason};

impl ApprovalRequest {
    /// Escalates the open level once it is overdue: first a reminder, then, still overdue,
    /// reassignment to the next group of its escalation path. `next_due` is the level's new due
    /// date (the grace after a reminder, the new group's time after a reassignment).
    pub fn escalate(
        &mut self,
        at: DateTime<Utc>,
        next_due: DateTime<Utc>,
    ) -> Result<ApprovalEvent, ApprovalError> {
        transition(self.status, ApprovalCommand::Escalate)?;
        if at >= self.expires_at {
            return Err(ApprovalError::TimedOut);
        }
        let id = self.id;
        let Some(level) = self.chain.current_mut() else {
            return Err(ApprovalError::NoOpenLevel);
        };
        if at < level.due {
            return Err(ApprovalError::NotOverdue(level.level));
        }
        let kind = if level.reminded {
            if level.escalation_groups.is_empty() {
                return Err(ApprovalError::NoEscalationTarget(level.level));
            }
            let group = level.escalation_groups.remove(0);
            let to = Assignment::Single { group };
            let from = std::mem::replace(&mut level.assignment, to.clone());
            level.reminded = false;
            EscalationKind::Escalated { from, to }
        } else {
            level.reminded = true;
            EscalationKind::Reminder
        };
        let fact = EscalationFact {
            request_id: id,
            level: level.level,
            kind,
            due_before: level.due,
            due_after: next_due,
            at,
        };
        level.due = next_due;
        self.escalations.push(fact.clone());
        self.apply(ApprovalCommand::Escalate, at, EventDetail::Escalated(fact))
    }

    /// Reassigns a level not yet decided to `to`, by hand, with a reason.
    pub fn reassign(
        &mut self,
        actor: ActorId,
        level: ApprovalLevel,
        to: Assignment,
        due: DateTime<Utc>,
        reason: Reason,
        at: DateTime<Utc>,
    ) -> Result<ApprovalEvent, ApprovalError> {
        transition(self.status, ApprovalCommand::Reassign)?;
        if !to.is_valid() {
            return Err(ChainError::BadAssignment(level).into());
        }
        let id = self.id;
        let target = self
            .chain
            .levels_mut()
            .find(|l| l.level == level)
            .ok_or(ApprovalError::LevelNotInChain(level))?;
        if target.state != LevelState::Open {
            return Err(ApprovalError::LevelAlreadyDone(level));
        }
        let from = std::mem::replace(&mut target.assignment, to.clone());
        target.reminded = false;
        let fact = EscalationFact {
            request_id: id,
            level,
            kind: EscalationKind::Reassigned {
                from,
                to,
                actor,
                reason,
            },
            due_before: target.due,
            due_after: due,
            at,
        };
        target.due = due;
        self.escalations.push(fact.clone());
        self.apply(ApprovalCommand::Reassign, at, EventDetail::Escalated(fact))
    }

    /// The submitter withdraws a PENDING request (reason required) → CANCELLED.
    pub fn recall(
        &mut self,
        actor: ActorId,
        reason: Reason,
        at: DateTime<Utc>,
    ) -> Result<ApprovalEvent, ApprovalError> {
        transition(self.status, ApprovalCommand::Recall)?;
        if actor != self.submitter {
            return Err(ApprovalError::NotSubmitter);
        }
        self.apply(
            ApprovalCommand::Recall,
            at,
            EventDetail::Recalled { actor, reason },
        )
    }

    /// A PENDING request whose time is over → EXPIRED (it then never approves).
    pub fn expire(&mut self, at: DateTime<Utc>) -> Result<ApprovalEvent, ApprovalError> {
        transition(self.status, ApprovalCommand::Expire)?;
        if at < self.expires_at {
            return Err(ApprovalError::NotYetDue);
        }
        self.apply(ApprovalCommand::Expire, at, EventDetail::Expired)
    }

    /// The quote's commercial terms changed (a revision, a new price): a PENDING, APPROVED or
    /// NOT_REQUIRED request → SUPERSEDED. The next submit opens a new request.
    pub fn supersede(
        &mut self,
        reason: Reason,
        at: DateTime<Utc>,
    ) -> Result<ApprovalEvent, ApprovalError> {
        self.apply(
            ApprovalCommand::Supersede,
            at,
            EventDetail::Superseded { reason },
        )
    }
}
