//! The `ApprovalRequest` aggregate: one request per quote revision and price hash, its policy
//! snapshot, chain and decisions. Every command checks its guards, asks the lifecycle table,
//! then changes the request and returns the typed event(s); a refusal changes nothing.
//! Escalation, recall, expiry and supersession are in [`super::closing`].

use chrono::{DateTime, Utc};
use domain_kernel::version::Version;
use domain_kernel::{ActorId, TenantId};
use serde::{Deserialize, Serialize};

use super::chain::{ApprovalChain, LevelPlan, LevelState};
use super::decision::{Decision, DecisionInput, DecisionOutcome};
use super::error::ApprovalError;
use super::escalation::{EscalationFact, EscalationKind};
use super::events::{ApprovalEvent, EventDetail};
use super::lifecycle::{ApprovalCommand, ApprovalStatus, transition};
use super::reapproval::SkipEvidence;
use super::snapshot::PolicySnapshot;
use super::{ApprovalLevel, ApprovalRequestId, PriceHash, QuoteId, QuoteRevision};

/// The quote revision and price a request is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuoteRef {
    /// The quote.
    pub quote_id: QuoteId,
    /// Its revision.
    pub revision: QuoteRevision,
    /// The price hash the request covers.
    pub price_hash: PriceHash,
}

/// What opening a request needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRequest {
    /// New id (a submit always creates a new request).
    pub id: ApprovalRequestId,
    /// Tenant.
    pub tenant: TenantId,
    /// Quote revision and hash.
    pub quote: QuoteRef,
    /// Who submitted the quote (never one of its deciders).
    pub submitter: ActorId,
    /// The policy evaluation.
    pub snapshot: PolicySnapshot,
    /// One plan per required level, in order.
    pub chain: Vec<LevelPlan>,
    /// Levels smart re-approval skips ([`super::reapproval::plan`]).
    pub skips: Vec<SkipEvidence>,
    /// When a PENDING request's time is over (it then only expires).
    pub expires_at: DateTime<Utc>,
    /// When.
    pub at: DateTime<Utc>,
}

/// What a decision did.
#[derive(Debug, Clone, PartialEq)]
pub enum DecideResult {
    /// Recorded: the event of the transition.
    Recorded(Box<ApprovalEvent>),
    /// The same decision by the same actor on the same level existed: returned as it is, no
    /// transition.
    Repeated(Decision),
}

/// An approval request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRequest {
    pub(super) id: ApprovalRequestId,
    pub(super) tenant: TenantId,
    pub(super) quote: QuoteRef,
    pub(super) submitter: ActorId,
    pub(super) snapshot: PolicySnapshot,
    pub(super) chain: ApprovalChain,
    pub(super) status: ApprovalStatus,
    pub(super) decisions: Vec<Decision>,
    pub(super) escalations: Vec<EscalationFact>,
    pub(super) expires_at: DateTime<Utc>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) version: Version,
}

impl ApprovalRequest {
    /// Opens a request: NOT_REQUIRED when the snapshot requires no level, else PENDING, and at
    /// once APPROVED (a second event) when smart re-approval skipped every level.
    pub fn open(new: NewRequest) -> Result<(Self, Vec<ApprovalEvent>), ApprovalError> {
        if !new.snapshot.is_coherent() {
            return Err(ApprovalError::IncoherentSnapshot);
        }
        let chain = ApprovalChain::build(&new.snapshot.required_levels, new.chain, new.skips)?;
        let status = if new.snapshot.approval_required() {
            ApprovalStatus::Pending
        } else {
            ApprovalStatus::NotRequired
        };
        let mut request = Self {
            id: new.id,
            tenant: new.tenant,
            quote: new.quote,
            submitter: new.submitter.clone(),
            snapshot: new.snapshot,
            chain,
            status,
            decisions: Vec::new(),
            escalations: Vec::new(),
            expires_at: new.expires_at,
            created_at: new.at,
            version: Version::INITIAL,
        };
        let levels = |skipped: bool| {
            request
                .chain
                .levels()
                .iter()
                .filter(|l| matches!(l.state, LevelState::Skipped(_)) == skipped)
                .map(|l| l.level)
                .collect()
        };
        let detail = EventDetail::Requested {
            submitter: new.submitter,
            open_levels: levels(false),
            skipped_levels: levels(true),
        };
        let mut events = vec![request.event(None, None, new.at, detail)];
        if status == ApprovalStatus::Pending && request.chain.is_complete() {
            events.push(request.apply(
                ApprovalCommand::CompleteApproval,
                new.at,
                EventDetail::ApprovedByReuse,
            )?);
        }
        Ok((request, events))
    }

    /// Records a decision on the open level. A repeat of an existing decision (same actor,
    /// principal, level, verdict and hash) returns it unchanged, whatever the status now.
    /// Guards, in order: the table allows a decision; the request's time is not over; the hash
    /// is the request's; separation of duties (the submitter decides neither as actor nor as
    /// principal); the delegation, when on behalf; no other decision by the actor or principal
    /// on the level; the level is in the chain, open
    /// (strict order), covered by the principal's roles and assigned to one of their groups.
    pub fn decide(&mut self, input: DecisionInput) -> Result<DecideResult, ApprovalError> {
        let command = match input.outcome {
            DecisionOutcome::Reject { .. } => ApprovalCommand::Reject,
            DecisionOutcome::Approve { .. } => ApprovalCommand::RecordApproval,
        };
        if let Some(existing) = self.decisions.iter().find(|d| d.is_repeated_by(&input)) {
            return Ok(DecideResult::Repeated(existing.clone()));
        }
        transition(self.status, command)?;
        if input.at >= self.expires_at {
            return Err(ApprovalError::TimedOut);
        }
        if input.price_hash != self.quote.price_hash {
            return Err(ApprovalError::PriceHashMismatch {
                expected: self.quote.price_hash.clone(),
            });
        }
        let principal = input.authority();
        if input.actor.id == self.submitter || principal.id == self.submitter {
            return Err(ApprovalError::SelfDecision);
        }
        if let Some(behalf) = &input.on_behalf {
            if input.actor.id == behalf.principal.id {
                return Err(super::DelegationError::SelfDelegation.into());
            }
            if !behalf
                .delegation
                .allows(&input.actor.id, &behalf.principal.id, input.at)
            {
                return Err(super::DelegationError::NoDelegation {
                    actor: input.actor.id.clone(),
                    principal: behalf.principal.id.clone(),
                }
                .into());
            }
        }
        if self.decisions.iter().any(|d| {
            d.level == input.level && (d.actor == input.actor.id || d.principal() == &principal.id)
        }) {
            return Err(ApprovalError::AlreadyDecided(input.level));
        }
        let Some(target) = self.chain.level(input.level) else {
            return Err(ApprovalError::LevelNotInChain(input.level));
        };
        if target.state.is_done() {
            return Err(ApprovalError::LevelAlreadyDone(input.level));
        }
        let open = self.chain.current().map(|l| l.level);
        if open != Some(input.level) {
            return Err(ApprovalError::LevelNotOpen {
                requested: input.level,
                open: open.unwrap_or(input.level),
            });
        }
        // Exact level match (ADR 0032), except for a level handed over by escalation or by
        // hand: its new group decides it, whatever level their roles cover, or nobody could.
        if !principal.covers(input.level) && !self.handed_over(input.level) {
            return Err(ApprovalError::LevelNotCovered(input.level));
        }
        let group = target
            .group_for(&principal.groups)
            .cloned()
            .ok_or(ApprovalError::NotAssigned(input.level))?;
        let decision = Decision {
            id: input.id,
            level: input.level,
            group: group.clone(),
            actor: input.actor.id.clone(),
            on_behalf_of: input.on_behalf.as_ref().map(|b| b.principal.id.clone()),
            delegation: input.on_behalf.as_ref().map(|b| b.delegation.id),
            outcome: input.outcome,
            price_hash: input.price_hash,
            decided_at: input.at,
        };
        let (command, level_satisfied) = match command {
            ApprovalCommand::Reject => {
                if let Some(level) = self.chain.current_mut() {
                    level.state = LevelState::Rejected { at: input.at };
                }
                (command, false)
            }
            _ => {
                let satisfied = self
                    .chain
                    .current_mut()
                    .is_some_and(|level| level.record_approval(group, input.at));
                if self.chain.is_complete() {
                    (ApprovalCommand::CompleteApproval, satisfied)
                } else {
                    (ApprovalCommand::RecordApproval, satisfied)
                }
            }
        };
        self.decisions.push(decision.clone());
        let detail = EventDetail::Decided {
            decision,
            level_satisfied,
        };
        Ok(DecideResult::Recorded(Box::new(
            self.apply(command, input.at, detail)?,
        )))
    }

    /// Whether this request vouches for `hash`: APPROVED or NOT_REQUIRED, and for exactly the
    /// hash it was opened for. An approval of one price never approves another.
    pub fn approves(&self, hash: &PriceHash) -> bool {
        self.status.vouches_for_hash() && &self.quote.price_hash == hash
    }

    /// Moves the status by `command` per the table, bumps the version, builds the event.
    pub(super) fn apply(
        &mut self,
        command: ApprovalCommand,
        at: DateTime<Utc>,
        detail: EventDetail,
    ) -> Result<ApprovalEvent, ApprovalError> {
        let from = self.status;
        self.status = transition(from, command)?;
        self.version = self.version.next();
        Ok(self.event(Some(command), Some(from), at, detail))
    }

    fn event(
        &self,
        command: Option<ApprovalCommand>,
        from: Option<ApprovalStatus>,
        at: DateTime<Utc>,
        detail: EventDetail,
    ) -> ApprovalEvent {
        ApprovalEvent {
            request_id: self.id,
            quote: self.quote.clone(),
            command,
            from,
            to: self.status,
            version: self.version,
            at,
            detail,
        }
    }

    /// Whether `level` was moved to another group (escalation or by hand) since it opened.
    fn handed_over(&self, level: ApprovalLevel) -> bool {
        self.escalations.iter().any(|fact| {
            fact.level == level
                && matches!(
                    fact.kind,
                    EscalationKind::Escalated { .. } | EscalationKind::Reassigned { .. }
                )
        })
    }

    /// Its id.
    pub fn id(&self) -> ApprovalRequestId {
        self.id
    }

    /// Its tenant.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// The quote revision and hash.
    pub fn quote(&self) -> &QuoteRef {
        &self.quote
    }

    /// Who submitted.
    pub fn submitter(&self) -> &ActorId {
        &self.submitter
    }

    /// The policy evaluation.
    pub fn snapshot(&self) -> &PolicySnapshot {
        &self.snapshot
    }

    /// The chain with its progress.
    pub fn chain(&self) -> &ApprovalChain {
        &self.chain
    }

    /// The status.
    pub fn status(&self) -> ApprovalStatus {
        self.status
    }

    /// Decisions in the order recorded.
    pub fn decisions(&self) -> &[Decision] {
        &self.decisions
    }

    /// Escalation steps in the order recorded.
    pub fn escalations(&self) -> &[EscalationFact] {
        &self.escalations
    }

    /// When a PENDING request's time is over.
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }

    /// When it opened.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// Aggregate version (bumped by every transition).
    pub fn version(&self) -> Version {
        self.version
    }
}
