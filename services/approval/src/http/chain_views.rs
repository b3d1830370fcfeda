//! The chain's part of a request's evidence: each level with its assignment, due date and
//! state, the skip evidence of smart re-approval, and every reminder, escalation and manual
//! reassignment.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::dto::{LevelName, QuorumName};
use super::views::risk;
use crate::domain::{ChainLevel, EscalationFact, EscalationKind, LevelState, SkipEvidence};

/// One level of the chain.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LevelView {
    /// The level.
    pub level: LevelName,
    /// `OPEN`, `SATISFIED`, `SKIPPED` or `REJECTED`.
    pub state: String,
    /// How its groups decide.
    pub quorum: QuorumName,
    /// Groups assigned now.
    pub groups: Vec<String>,
    /// Escalation targets not used yet, in order.
    pub escalation_groups: Vec<String>,
    /// Groups whose member approved it.
    pub approved_groups: Vec<String>,
    /// When it is overdue.
    pub due_date: DateTime<Utc>,
    /// Whether the overdue reminder went out.
    pub reminded: bool,
    /// When it was satisfied or rejected.
    pub decided_at: Option<DateTime<Utc>>,
    /// Why it was not asked again (smart re-approval).
    pub skip: Option<SkipView>,
}

/// The evidence of a skipped level.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SkipView {
    /// The superseded request whose approval still covers it.
    pub previous_request_id: Uuid,
    /// The price hash that request covered.
    pub previous_price_hash: String,
    /// The decisions that approved it there.
    pub previous_decisions: Vec<Uuid>,
    /// Every input compared.
    pub compared: Vec<ComparisonView>,
}

/// One compared input.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComparisonView {
    /// The rule.
    pub rule_id: String,
    /// The input.
    pub input: String,
    /// Its value under the previous approval.
    pub previous_value: Option<String>,
    /// Its value now.
    pub new_value: String,
    /// Which way is riskier.
    pub risk: String,
    /// `UNCHANGED`, `NO_RISKIER`, `RISKIER` or `NEW`.
    pub comparison: String,
}

fn skip_view(skip: &SkipEvidence) -> SkipView {
    SkipView {
        previous_request_id: skip.previous_request.as_uuid(),
        previous_price_hash: skip.previous_price_hash.to_string(),
        previous_decisions: skip
            .previous_decisions
            .iter()
            .map(|d| d.as_uuid())
            .collect(),
        compared: skip
            .compared
            .iter()
            .map(|c| ComparisonView {
                rule_id: c.rule_id.clone(),
                input: c.input.clone(),
                previous_value: c.previous_value.map(|v| v.to_string()),
                new_value: c.new_value.to_string(),
                risk: risk(c.risk),
                comparison: serde_json::to_value(c.comparison)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
            })
            .collect(),
    }
}

impl From<&ChainLevel> for LevelView {
    fn from(level: &ChainLevel) -> Self {
        let (state, decided_at, skip) = match &level.state {
            LevelState::Open => ("OPEN", None, None),
            LevelState::Satisfied { at } => ("SATISFIED", Some(*at), None),
            LevelState::Rejected { at } => ("REJECTED", Some(*at), None),
            LevelState::Skipped(evidence) => ("SKIPPED", None, Some(skip_view(evidence))),
        };
        let names = |groups: &mut dyn Iterator<Item = String>| groups.collect::<Vec<_>>();
        Self {
            level: level.level.into(),
            state: state.to_owned(),
            quorum: (&level.assignment).into(),
            groups: names(&mut level.assignment.groups().iter().map(|g| g.to_string())),
            escalation_groups: names(&mut level.escalation_groups.iter().map(|g| g.to_string())),
            approved_groups: names(&mut level.approved_groups.iter().map(|g| g.to_string())),
            due_date: level.due,
            reminded: level.reminded,
            decided_at,
            skip,
        }
    }
}

/// One reminder, escalation or manual reassignment of a level.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EscalationView {
    /// The level.
    pub level: LevelName,
    /// `REMINDER`, `REASSIGNED_BY_ESCALATION` or `REASSIGNED_BY_HAND`.
    pub kind: String,
    /// Groups before (reassignments).
    pub from_groups: Vec<String>,
    /// Groups after (reassignments).
    pub to_groups: Vec<String>,
    /// Who reassigned by hand.
    pub actor_id: Option<String>,
    /// Why, for a reassignment by hand.
    pub reason: Option<String>,
    /// Due date before.
    pub due_before: DateTime<Utc>,
    /// Due date after.
    pub due_after: DateTime<Utc>,
    /// When.
    pub at: DateTime<Utc>,
}

impl From<&EscalationFact> for EscalationView {
    fn from(fact: &EscalationFact) -> Self {
        let groups = |a: &crate::domain::Assignment| {
            a.groups().iter().map(|g| g.to_string()).collect::<Vec<_>>()
        };
        let (kind, from, to, actor, reason) = match &fact.kind {
            EscalationKind::Reminder => ("REMINDER", vec![], vec![], None, None),
            EscalationKind::Escalated { from, to } => (
                "REASSIGNED_BY_ESCALATION",
                groups(from),
                groups(to),
                None,
                None,
            ),
            EscalationKind::Reassigned {
                from,
                to,
                actor,
                reason,
            } => (
                "REASSIGNED_BY_HAND",
                groups(from),
                groups(to),
                Some(actor.to_string()),
                Some(reason.to_string()),
            ),
        };
        Self {
            level: fact.level.into(),
            kind: kind.to_owned(),
            from_groups: from,
            to_groups: to,
            actor_id: actor,
            reason,
            due_before: fact.due_before,
            due_after: fact.due_after,
            at: fact.at,
        }
    }
}
