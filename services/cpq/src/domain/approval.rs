//! What the approval service says about a submitted quote revision, as CPQ reads it (ADR 0035).
//! The approval policy left CPQ (ADR 0031): CPQ publishes what it priced
//! ([`super::policy_input`]), the approval service decides and publishes
//! `approval.*.v1` events, and CPQ follows them. This module holds the outcome of one such event,
//! the evidence CPQ keeps per request, and [`screen`]: the one rule deciding whether an outcome
//! moves a quote, and if not, why.
//!
//! A transition happens only when the outcome is about the quote's current revision, at its
//! current price hash, and the quote is waiting for it (SUBMITTED or APPROVAL_PENDING; the
//! lifecycle table says which command each status takes). Everything else is recorded as ignored
//! with its reason: an approval of one price can never approve another.

use std::fmt;

use chrono::{DateTime, Utc};
use domain_kernel::Actor;
use serde::{Deserialize, Serialize};

use super::QuoteId;
use super::quote::lifecycle::{QuoteCommand, QuoteStatus, transition};

pub use super::approval_evidence::{DecisionEvidence, LevelEvidence, RequestEvidence};

domain_kernel::uuid_id!(
    /// Identifies an approval request of the approval service (its aggregate id).
    ApprovalRequestId
);

/// An approval request's status, as the approval service's state machine names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApprovalStatus {
    /// The policy required no level: approved without an approver.
    NotRequired,
    /// Waiting for approvers.
    Pending,
    /// Every level approved.
    Approved,
    /// An approver rejected.
    Rejected,
    /// Recalled by the submitter.
    Cancelled,
    /// Ran out of time.
    Expired,
    /// The quote's commercial terms changed.
    Superseded,
}

impl ApprovalStatus {
    /// Every status.
    pub const ALL: [Self; 7] = [
        Self::NotRequired,
        Self::Pending,
        Self::Approved,
        Self::Rejected,
        Self::Cancelled,
        Self::Expired,
        Self::Superseded,
    ];

    /// Wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotRequired => "NOT_REQUIRED",
            Self::Pending => "PENDING",
            Self::Approved => "APPROVED",
            Self::Rejected => "REJECTED",
            Self::Cancelled => "CANCELLED",
            Self::Expired => "EXPIRED",
            Self::Superseded => "SUPERSEDED",
        }
    }

    /// Reads the wire and storage name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// Which approval event an outcome comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutcomeKind {
    /// `approval.requested.v1`: a request opened, PENDING or NOT_REQUIRED.
    Requested,
    /// `approval.approved.v1`: the chain approved.
    Approved,
    /// `approval.rejected.v1`: an approver rejected.
    Rejected,
    /// `approval.escalated.v1`: a reminder or reassignment (evidence only).
    Escalated,
    /// `approval.superseded.v1`: the request no longer counts (evidence only; CPQ's own revise
    /// already reopened the quote).
    Superseded,
    /// `approval.recalled.v1`: the submitter withdrew the request (evidence only: the quote
    /// shows the request CANCELLED and waits for its own revise or cancel).
    Recalled,
    /// `approval.expired.v1`: nobody decided in time (evidence only: the quote shows the request
    /// EXPIRED and waits for its own revise or cancel).
    Expired,
}

impl OutcomeKind {
    /// Every kind.
    pub const ALL: [Self; 7] = [
        Self::Requested,
        Self::Approved,
        Self::Rejected,
        Self::Escalated,
        Self::Superseded,
        Self::Recalled,
        Self::Expired,
    ];

    /// The event type it comes from.
    pub fn event_type(self) -> &'static str {
        match self {
            Self::Requested => "approval.requested.v1",
            Self::Approved => "approval.approved.v1",
            Self::Rejected => "approval.rejected.v1",
            Self::Escalated => "approval.escalated.v1",
            Self::Superseded => "approval.superseded.v1",
            Self::Recalled => "approval.recalled.v1",
            Self::Expired => "approval.expired.v1",
        }
    }

    /// The kind of an event type; `None` for an event CPQ does not follow.
    pub fn of_event_type(event_type: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.event_type() == event_type)
    }
}

/// The request an outcome belongs to, with the policy that shaped it (the approval's basis).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRequestRef {
    /// The request.
    pub request_id: ApprovalRequestId,
    /// The policy that required its levels.
    pub policy_id: String,
    /// The policy's version.
    pub policy_version: String,
}

/// One approval event, as far as the quote is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalOutcome {
    /// Which event.
    pub kind: OutcomeKind,
    /// The request and its policy.
    pub request: ApprovalRequestRef,
    /// The quote it is about.
    pub quote_id: QuoteId,
    /// The quote revision it is about.
    pub revision: i32,
    /// The price hash it covers.
    pub price_hash: String,
    /// The request's status after the event.
    pub status: ApprovalStatus,
    /// Who caused it (the approver, or the approval service itself).
    pub actor: Actor,
    /// Why, when given (a rejection's reason).
    pub reason: Option<String>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

/// What a quote's root says about it, enough to screen an outcome without reading the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing<'a> {
    /// Status.
    pub status: QuoteStatus,
    /// Current revision.
    pub revision: i32,
    /// Hash of the current price snapshot, when priced.
    pub price_hash: Option<&'a str>,
}

/// Why an approval event moved nothing; each has a stable code for history and audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IgnoredReason {
    /// Escalations, supersessions, recalls and expiries are evidence, never transitions.
    EvidenceOnly,
    /// The event's request status does not fit its type (a contract the approval service broke).
    UnexpectedStatus(ApprovalStatus),
    /// About another revision than the current one.
    StaleRevision {
        /// The event's revision.
        event: i32,
        /// The quote's.
        current: i32,
    },
    /// About another price than the current one.
    PriceHashMismatch {
        /// The event's price hash.
        event: String,
        /// The quote's, if priced.
        current: Option<String>,
    },
    /// The quote is not waiting for this outcome (already decided, revised, cancelled…).
    NotAwaitingApproval(QuoteStatus),
    /// The price cannot be frozen from its pricing state (never expected after a submit).
    PriceNotFreezable(&'static str),
}

impl IgnoredReason {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::EvidenceOnly => "EVIDENCE_ONLY",
            Self::UnexpectedStatus(_) => "UNEXPECTED_APPROVAL_STATUS",
            Self::StaleRevision { .. } => "STALE_REVISION",
            Self::PriceHashMismatch { .. } => "PRICE_HASH_MISMATCH",
            Self::NotAwaitingApproval(_) => "NOT_AWAITING_APPROVAL",
            Self::PriceNotFreezable(_) => "PRICE_NOT_FREEZABLE",
        }
    }
}

impl fmt::Display for IgnoredReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EvidenceOnly => f.write_str("evidence only; no quote transition"),
            Self::UnexpectedStatus(status) => {
                write!(
                    f,
                    "the event's request status {} does not fit its type",
                    status.as_str()
                )
            }
            Self::StaleRevision { event, current } => {
                write!(
                    f,
                    "about revision {event}; the quote is at revision {current}"
                )
            }
            Self::PriceHashMismatch { event, current } => write!(
                f,
                "about price hash {event}; the quote's is {}",
                current.as_deref().unwrap_or("none")
            ),
            Self::NotAwaitingApproval(status) => {
                write!(f, "the quote is {status} and waits for no approval outcome")
            }
            Self::PriceNotFreezable(state) => write!(f, "a {state} price cannot be frozen"),
        }
    }
}

/// The command an outcome asks of the lifecycle, judged by its type and request status alone.
fn requested_command(outcome: &ApprovalOutcome) -> Result<QuoteCommand, IgnoredReason> {
    use ApprovalStatus as A;
    match (outcome.kind, outcome.status) {
        (OutcomeKind::Requested, A::Pending) => Ok(QuoteCommand::ApprovalRequested),
        (OutcomeKind::Requested, A::NotRequired) => Ok(QuoteCommand::ApprovalNotRequired),
        (OutcomeKind::Approved, A::Approved) => Ok(QuoteCommand::Approve),
        (OutcomeKind::Rejected, A::Rejected) => Ok(QuoteCommand::Reject),
        (OutcomeKind::Escalated | OutcomeKind::Superseded, _)
        | (OutcomeKind::Recalled, A::Cancelled)
        | (OutcomeKind::Expired, A::Expired) => Err(IgnoredReason::EvidenceOnly),
        (_, status) => Err(IgnoredReason::UnexpectedStatus(status)),
    }
}

/// Whether `outcome` moves a quote that stands as `standing`: the command (checked against the
/// quote's one transition table) and the status it leads to, or why nothing moves. Checked in
/// this order: evidence-only event, revision, price hash, lifecycle.
pub fn screen(
    outcome: &ApprovalOutcome,
    standing: Standing<'_>,
) -> Result<(QuoteCommand, QuoteStatus), IgnoredReason> {
    let command = requested_command(outcome)?;
    if outcome.revision != standing.revision {
        return Err(IgnoredReason::StaleRevision {
            event: outcome.revision,
            current: standing.revision,
        });
    }
    if standing.price_hash != Some(outcome.price_hash.as_str()) {
        return Err(IgnoredReason::PriceHashMismatch {
            event: outcome.price_hash.clone(),
            current: standing.price_hash.map(str::to_owned),
        });
    }
    let to = transition(standing.status, command)
        .map_err(|_| IgnoredReason::NotAwaitingApproval(standing.status))?;
    Ok((command, to))
}

#[cfg(test)]
mod tests {
    use domain_kernel::{ActorId, ActorType};

    use super::*;

    const HASH: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const OTHER: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn outcome(kind: OutcomeKind, status: ApprovalStatus) -> ApprovalOutcome {
        ApprovalOutcome {
            kind,
            request: ApprovalRequestRef {
                request_id: ApprovalRequestId::generate(),
                policy_id: "quote-approval".into(),
                policy_version: "2".into(),
            },
            quote_id: QuoteId::generate(),
            revision: 2,
            price_hash: HASH.into(),
            status,
            actor: Actor {
                actor_id: ActorId::parse("manager1").unwrap(),
                actor_type: ActorType::HumanAgent,
            },
            reason: None,
            occurred_at: DateTime::UNIX_EPOCH,
        }
    }

    fn standing(status: QuoteStatus) -> Standing<'static> {
        Standing {
            status,
            revision: 2,
            price_hash: Some(HASH),
        }
    }

    #[test]
    fn each_event_type_asks_for_its_transition() {
        use ApprovalStatus as A;
        use QuoteStatus as S;
        let cases = [
            (
                OutcomeKind::Requested,
                A::Pending,
                S::Submitted,
                Ok((QuoteCommand::ApprovalRequested, S::ApprovalPending)),
            ),
            (
                OutcomeKind::Requested,
                A::NotRequired,
                S::Submitted,
                Ok((QuoteCommand::ApprovalNotRequired, S::Approved)),
            ),
            (
                OutcomeKind::Approved,
                A::Approved,
                S::ApprovalPending,
                Ok((QuoteCommand::Approve, S::Approved)),
            ),
            (
                OutcomeKind::Approved,
                A::Approved,
                S::Submitted,
                Ok((QuoteCommand::Approve, S::Approved)),
            ),
            (
                OutcomeKind::Rejected,
                A::Rejected,
                S::ApprovalPending,
                Ok((QuoteCommand::Reject, S::Rejected)),
            ),
            (
                OutcomeKind::Rejected,
                A::Rejected,
                S::Submitted,
                Ok((QuoteCommand::Reject, S::Rejected)),
            ),
            (
                OutcomeKind::Escalated,
                A::Pending,
                S::ApprovalPending,
                Err(IgnoredReason::EvidenceOnly),
            ),
            (
                OutcomeKind::Superseded,
                A::Superseded,
                S::Approved,
                Err(IgnoredReason::EvidenceOnly),
            ),
            (
                OutcomeKind::Recalled,
                A::Cancelled,
                S::ApprovalPending,
                Err(IgnoredReason::EvidenceOnly),
            ),
            (
                OutcomeKind::Expired,
                A::Expired,
                S::ApprovalPending,
                Err(IgnoredReason::EvidenceOnly),
            ),
            (
                OutcomeKind::Expired,
                A::Pending,
                S::ApprovalPending,
                Err(IgnoredReason::UnexpectedStatus(A::Pending)),
            ),
            (
                OutcomeKind::Recalled,
                A::Approved,
                S::ApprovalPending,
                Err(IgnoredReason::UnexpectedStatus(A::Approved)),
            ),
            (
                OutcomeKind::Approved,
                A::Pending,
                S::ApprovalPending,
                Err(IgnoredReason::UnexpectedStatus(A::Pending)),
            ),
            (
                OutcomeKind::Requested,
                A::Approved,
                S::Submitted,
                Err(IgnoredReason::UnexpectedStatus(A::Approved)),
            ),
            (
                OutcomeKind::Approved,
                A::Approved,
                S::Approved,
                Err(IgnoredReason::NotAwaitingApproval(S::Approved)),
            ),
            (
                OutcomeKind::Requested,
                A::Pending,
                S::ApprovalPending,
                Err(IgnoredReason::NotAwaitingApproval(S::ApprovalPending)),
            ),
            (
                OutcomeKind::Requested,
                A::NotRequired,
                S::Priced,
                Err(IgnoredReason::NotAwaitingApproval(S::Priced)),
            ),
            (
                OutcomeKind::Rejected,
                A::Rejected,
                S::Cancelled,
                Err(IgnoredReason::NotAwaitingApproval(S::Cancelled)),
            ),
        ];
        for (kind, status, quote, expected) in cases {
            assert_eq!(
                screen(&outcome(kind, status), standing(quote)),
                expected,
                "{kind:?} {status:?} on {quote}"
            );
        }
    }

    #[test]
    fn only_the_current_revision_at_its_price_moves() {
        let approved = outcome(OutcomeKind::Approved, ApprovalStatus::Approved);
        let older = Standing {
            revision: 3,
            ..standing(QuoteStatus::ApprovalPending)
        };
        assert_eq!(
            screen(&approved, older),
            Err(IgnoredReason::StaleRevision {
                event: 2,
                current: 3
            })
        );
        let repriced = Standing {
            price_hash: Some(OTHER),
            ..standing(QuoteStatus::ApprovalPending)
        };
        let refused = screen(&approved, repriced).unwrap_err();
        assert_eq!(refused.code(), "PRICE_HASH_MISMATCH");
        assert_eq!(
            refused.to_string(),
            format!("about price hash {HASH}; the quote's is {OTHER}")
        );
        let unpriced = Standing {
            price_hash: None,
            ..standing(QuoteStatus::ApprovalPending)
        };
        assert!(matches!(
            screen(&approved, unpriced),
            Err(IgnoredReason::PriceHashMismatch { current: None, .. })
        ));
    }

    #[test]
    fn names_round_trip() {
        for status in ApprovalStatus::ALL {
            assert_eq!(ApprovalStatus::parse(status.as_str()), Some(status));
        }
        for kind in OutcomeKind::ALL {
            assert_eq!(OutcomeKind::of_event_type(kind.event_type()), Some(kind));
        }
        assert_eq!(OutcomeKind::of_event_type("approval.unknown.v1"), None);
    }
}
