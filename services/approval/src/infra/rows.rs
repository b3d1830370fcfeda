//! Rows as stored and their way back into the domain: every text column is parsed into its
//! domain value, and the whole is rebuilt by `ApprovalRequest::restore`, which refuses what no
//! command produces. Nothing here decides; a row that does not read back is `Corrupt`.

use chrono::{DateTime, Utc};
use domain_kernel::version::Version;
use domain_kernel::{ActorId, TenantId};
use serde_json::Value;
use sqlx::types::Uuid;

use crate::app::ports::StoreError;
use crate::domain::{
    ApprovalLevel, ApprovalRequest, ApprovalRequestId, ApprovalStatus, Assignment, ChainLevel,
    Decision, DecisionId, DecisionOutcome, DelegationId, EscalationFact, GroupId, LevelState,
    PolicySnapshot, PriceHash, Quorum, QuoteId, QuoteRef, QuoteRevision, Reason, StoredRequest,
};

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

/// `approval_request`.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct RequestRow {
    pub approval_request_id: Uuid,
    pub tenant_id: String,
    pub quote_id: Uuid,
    pub quote_revision: i32,
    pub price_hash: String,
    pub status: String,
    pub submitted_by: String,
    pub policy_snapshot: Value,
    pub expires_at: DateTime<Utc>,
    pub aggregate_version: i64,
    pub created_at: DateTime<Utc>,
}

/// `approval_level`.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct LevelRow {
    pub level: String,
    pub quorum: String,
    pub groups: Vec<String>,
    pub escalation_groups: Vec<String>,
    pub reminded: bool,
    pub due_at: DateTime<Utc>,
    pub state: String,
    pub decided_at: Option<DateTime<Utc>>,
    pub skip_evidence: Option<Value>,
}

/// `approval_decision`.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct DecisionRow {
    pub approval_decision_id: Uuid,
    pub level: String,
    pub group_id: String,
    pub actor_id: String,
    pub on_behalf_of: Option<String>,
    pub delegation_id: Option<Uuid>,
    pub decision: String,
    pub reason: Option<String>,
    pub price_hash: String,
    pub decided_at: DateTime<Utc>,
}

pub(super) fn level(value: &str) -> Result<ApprovalLevel, StoreError> {
    ApprovalLevel::parse(value).ok_or_else(|| corrupt(format!("level {value}")))
}

fn group(value: &str) -> Result<GroupId, StoreError> {
    GroupId::parse(value).map_err(corrupt)
}

fn groups(values: &[String]) -> Result<Vec<GroupId>, StoreError> {
    values.iter().map(|g| group(g)).collect()
}

fn actor(value: &str) -> Result<ActorId, StoreError> {
    ActorId::parse(value).map_err(corrupt)
}

pub(super) fn hash(value: &str) -> Result<PriceHash, StoreError> {
    PriceHash::parse(value).map_err(corrupt)
}

/// The storage form of an assignment: quorum name and groups.
pub(super) fn assignment_columns(assignment: &Assignment) -> (&'static str, Vec<String>) {
    let names = assignment
        .groups()
        .iter()
        .map(|g| g.as_str().to_owned())
        .collect();
    match assignment {
        Assignment::Single { .. } => ("SINGLE", names),
        Assignment::Parallel {
            quorum: Quorum::Any,
            ..
        } => ("ANY", names),
        Assignment::Parallel {
            quorum: Quorum::All,
            ..
        } => ("ALL", names),
    }
}

fn assignment(quorum: &str, names: &[String]) -> Result<Assignment, StoreError> {
    let mut groups = groups(names)?;
    match (quorum, groups.len()) {
        ("SINGLE", 1) => Ok(Assignment::Single {
            group: groups.remove(0),
        }),
        ("ANY", _) => Ok(Assignment::Parallel {
            groups,
            quorum: Quorum::Any,
        }),
        ("ALL", _) => Ok(Assignment::Parallel {
            groups,
            quorum: Quorum::All,
        }),
        _ => Err(corrupt(format!(
            "quorum {quorum} with {} groups",
            names.len()
        ))),
    }
}

/// The storage form of a level's state: name, decision time, skip evidence.
pub(super) type StateColumns = (&'static str, Option<DateTime<Utc>>, Option<Value>);

/// The columns `state`, `decided_at` and `skip_evidence` of `state`.
pub(super) fn state_columns(state: &LevelState) -> Result<StateColumns, StoreError> {
    Ok(match state {
        LevelState::Open => ("OPEN", None, None),
        LevelState::Satisfied { at } => ("SATISFIED", Some(*at), None),
        LevelState::Rejected { at } => ("REJECTED", Some(*at), None),
        LevelState::Skipped(evidence) => (
            "SKIPPED",
            None,
            Some(serde_json::to_value(evidence).map_err(corrupt)?),
        ),
    })
}

impl LevelRow {
    fn into_domain(self) -> Result<ChainLevel, StoreError> {
        let state = match (self.state.as_str(), self.decided_at, self.skip_evidence) {
            ("OPEN", None, None) => LevelState::Open,
            ("SATISFIED", Some(at), None) => LevelState::Satisfied { at },
            ("REJECTED", Some(at), None) => LevelState::Rejected { at },
            ("SKIPPED", None, Some(evidence)) => {
                LevelState::Skipped(serde_json::from_value(evidence).map_err(corrupt)?)
            }
            (state, ..) => return Err(corrupt(format!("level state {state}"))),
        };
        Ok(ChainLevel {
            level: level(&self.level)?,
            assignment: assignment(&self.quorum, &self.groups)?,
            due: self.due_at,
            escalation_groups: groups(&self.escalation_groups)?,
            reminded: self.reminded,
            approved_groups: Default::default(),
            state,
        })
    }
}

impl DecisionRow {
    fn into_domain(self) -> Result<Decision, StoreError> {
        let reason = self
            .reason
            .as_deref()
            .map(Reason::parse)
            .transpose()
            .map_err(corrupt)?;
        let outcome = match (self.decision.as_str(), reason) {
            ("APPROVE", reason) => DecisionOutcome::Approve { reason },
            ("REJECT", Some(reason)) => DecisionOutcome::Reject { reason },
            (other, _) => return Err(corrupt(format!("decision {other}"))),
        };
        Ok(Decision {
            id: DecisionId::from_uuid(self.approval_decision_id),
            level: level(&self.level)?,
            group: group(&self.group_id)?,
            actor: actor(&self.actor_id)?,
            on_behalf_of: self.on_behalf_of.as_deref().map(actor).transpose()?,
            delegation: self.delegation_id.map(DelegationId::from_uuid),
            outcome,
            price_hash: hash(&self.price_hash)?,
            decided_at: self.decided_at,
        })
    }
}

/// Rebuilds a request from its rows; `escalations` are the `details` of its ESCALATE and
/// REASSIGN history rows, in order.
pub(super) fn restore(
    row: RequestRow,
    levels: Vec<LevelRow>,
    decisions: Vec<DecisionRow>,
    escalations: Vec<Value>,
) -> Result<ApprovalRequest, StoreError> {
    let snapshot: PolicySnapshot = serde_json::from_value(row.policy_snapshot).map_err(corrupt)?;
    let stored = StoredRequest {
        id: ApprovalRequestId::from_uuid(row.approval_request_id),
        tenant: TenantId::parse(&row.tenant_id).map_err(corrupt)?,
        quote: QuoteRef {
            quote_id: QuoteId::from_uuid(row.quote_id),
            revision: QuoteRevision::new(row.quote_revision).map_err(corrupt)?,
            price_hash: hash(&row.price_hash)?,
        },
        submitter: actor(&row.submitted_by)?,
        snapshot,
        levels: levels
            .into_iter()
            .map(LevelRow::into_domain)
            .collect::<Result<_, _>>()?,
        status: ApprovalStatus::parse(&row.status)
            .ok_or_else(|| corrupt(format!("status {}", row.status)))?,
        decisions: decisions
            .into_iter()
            .map(DecisionRow::into_domain)
            .collect::<Result<_, _>>()?,
        escalations: escalations
            .into_iter()
            .map(serde_json::from_value::<EscalationFact>)
            .collect::<Result<_, _>>()
            .map_err(corrupt)?,
        expires_at: row.expires_at,
        created_at: row.created_at,
        version: Version::new(row.aggregate_version),
    };
    ApprovalRequest::restore(stored).map_err(corrupt)
}
