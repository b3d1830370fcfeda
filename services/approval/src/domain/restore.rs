//! Rebuilding a stored request. Storage hands over what its rows say; [`ApprovalRequest::restore`]
//! refuses combinations no command produces, so a corrupted or hand-edited row surfaces as an
//! error at load instead of a request that decides wrongly later (ADR 0027's `Quote::restore`).

use chrono::{DateTime, Utc};
use domain_kernel::version::Version;
use domain_kernel::{ActorId, TenantId};

use super::chain::{ApprovalChain, ChainError, ChainLevel, LevelState};
use super::decision::{Decision, Verdict};
use super::escalation::EscalationFact;
use super::lifecycle::ApprovalStatus;
use super::snapshot::PolicySnapshot;
use super::{ApprovalLevel, ApprovalRequest, ApprovalRequestId, QuoteRef};

/// A request as its rows describe it. Each level's `approved_groups` is recomputed from the
/// decisions, which are the record of who approved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRequest {
    /// Its id.
    pub id: ApprovalRequestId,
    /// Its tenant.
    pub tenant: TenantId,
    /// Quote revision and hash.
    pub quote: QuoteRef,
    /// Who submitted.
    pub submitter: ActorId,
    /// The policy evaluation.
    pub snapshot: PolicySnapshot,
    /// The chain's levels, in order.
    pub levels: Vec<ChainLevel>,
    /// The status.
    pub status: ApprovalStatus,
    /// Decisions in the order recorded.
    pub decisions: Vec<Decision>,
    /// Escalation steps in the order recorded.
    pub escalations: Vec<EscalationFact>,
    /// When a PENDING request's time is over.
    pub expires_at: DateTime<Utc>,
    /// When it opened.
    pub created_at: DateTime<Utc>,
    /// Aggregate version.
    pub version: Version,
}

/// Why stored rows do not make a request; a bug or tampering, never user input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestoreError {
    /// The stored snapshot contradicts itself.
    #[error("the stored policy snapshot is incoherent")]
    IncoherentSnapshot,
    /// The levels do not fit the snapshot.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The status contradicts the levels' progress.
    #[error("status {status} contradicts the chain: {why}")]
    StatusMismatch {
        /// The stored status.
        status: ApprovalStatus,
        /// What does not fit.
        why: &'static str,
    },
    /// A decision contradicts the request (level, hash, submitter, level state).
    #[error("decision on level {level:?} contradicts the request: {why}")]
    BadDecision {
        /// The decision's level.
        level: ApprovalLevel,
        /// What does not fit.
        why: &'static str,
    },
}

impl ApprovalRequest {
    /// Rebuilds a stored request, checking that a command could have produced it.
    pub fn restore(stored: StoredRequest) -> Result<Self, RestoreError> {
        if !stored.snapshot.is_coherent() {
            return Err(RestoreError::IncoherentSnapshot);
        }
        let mut stored = stored;
        let levels = std::mem::take(&mut stored.levels);
        let mut chain = ApprovalChain::restore(&stored.snapshot.required_levels, levels)?;
        check_decisions(&stored, &chain)?;
        for level in chain.levels_mut() {
            level.approved_groups = stored
                .decisions
                .iter()
                .filter(|d| d.level == level.level && d.outcome.verdict() == Verdict::Approve)
                .map(|d| d.group.clone())
                .collect();
        }
        check_status(stored.status, &chain)?;
        Ok(Self {
            id: stored.id,
            tenant: stored.tenant,
            quote: stored.quote,
            submitter: stored.submitter,
            snapshot: stored.snapshot,
            chain,
            status: stored.status,
            decisions: stored.decisions,
            escalations: stored.escalations,
            expires_at: stored.expires_at,
            created_at: stored.created_at,
            version: stored.version,
        })
    }
}

fn check_decisions(stored: &StoredRequest, chain: &ApprovalChain) -> Result<(), RestoreError> {
    for d in &stored.decisions {
        let bad = |why| RestoreError::BadDecision {
            level: d.level,
            why,
        };
        let level = chain.level(d.level).ok_or(bad("level not in the chain"))?;
        if d.price_hash != stored.quote.price_hash {
            return Err(bad("another price hash"));
        }
        if d.actor == stored.submitter || d.principal() == &stored.submitter {
            return Err(bad("taken by the submitter"));
        }
        let rejected_here = matches!(level.state, LevelState::Rejected { .. });
        if d.outcome.verdict() == Verdict::Reject && !rejected_here {
            return Err(bad("a reject on a level not rejected"));
        }
        if matches!(level.state, LevelState::Skipped(_)) {
            return Err(bad("a decision on a skipped level"));
        }
    }
    Ok(())
}

fn check_status(status: ApprovalStatus, chain: &ApprovalChain) -> Result<(), RestoreError> {
    let levels = chain.levels();
    let rejected = levels
        .iter()
        .filter(|l| matches!(l.state, LevelState::Rejected { .. }))
        .count();
    let mismatch = |why| Err(RestoreError::StatusMismatch { status, why });
    match status {
        ApprovalStatus::NotRequired if !levels.is_empty() => mismatch("levels but not required"),
        ApprovalStatus::Pending if levels.is_empty() || chain.is_complete() => {
            mismatch("pending without an open level")
        }
        ApprovalStatus::Approved if levels.is_empty() || !chain.is_complete() => {
            mismatch("approved with a level not done")
        }
        ApprovalStatus::Rejected if rejected != 1 => mismatch("rejected needs one rejected level"),
        ApprovalStatus::Rejected => Ok(()),
        _ if rejected > 0 => mismatch("a rejected level outside REJECTED"),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;

    fn stored(request: &ApprovalRequest) -> StoredRequest {
        StoredRequest {
            id: request.id,
            tenant: request.tenant.clone(),
            quote: request.quote.clone(),
            submitter: request.submitter.clone(),
            snapshot: request.snapshot.clone(),
            levels: request.chain.levels().to_vec(),
            status: request.status,
            decisions: request.decisions.clone(),
            escalations: request.escalations.clone(),
            expires_at: request.expires_at,
            created_at: request.created_at,
            version: request.version,
        }
    }

    #[test]
    fn what_a_command_produced_restores_equal() {
        let (mut request, _) = manager_then_director();
        let mia = approver("mia", &[ApprovalLevel::Manager], &["managers"]);
        request
            .decide(approve(&mia, ApprovalLevel::Manager, minutes(1)))
            .unwrap();
        let mut rows = stored(&request);
        for level in &mut rows.levels {
            level.approved_groups.clear(); // storage keeps them only as decisions
        }
        assert_eq!(ApprovalRequest::restore(rows), Ok(request));
    }

    #[test]
    fn combinations_no_command_produces_are_refused() {
        let (request, _) = manager_then_director();
        let mut approved_while_open = stored(&request);
        approved_while_open.status = ApprovalStatus::Approved;
        assert!(matches!(
            ApprovalRequest::restore(approved_while_open),
            Err(RestoreError::StatusMismatch { .. })
        ));
        let mut missing_level = stored(&request);
        missing_level.levels.pop();
        assert!(matches!(
            ApprovalRequest::restore(missing_level),
            Err(RestoreError::Chain(_))
        ));
        let (mut decided, _) = manager_then_director();
        let mia = approver("mia", &[ApprovalLevel::Manager], &["managers"]);
        decided
            .decide(approve(&mia, ApprovalLevel::Manager, minutes(1)))
            .unwrap();
        let mut foreign_hash = stored(&decided);
        foreign_hash.decisions[0].price_hash = hash('f');
        assert!(matches!(
            ApprovalRequest::restore(foreign_hash),
            Err(RestoreError::BadDecision { .. })
        ));
    }
}
