//! Smart re-approval: when a commercial change supersedes a request and a new one opens, a
//! level whose tested inputs did not change, or changed only in the seller's disfavour (a lower
//! discount, a higher price), is not asked again. It is skipped with evidence: which inputs were
//! compared, their values before and after, and which approvals still cover them.
//!
//! A level is reused only when all of these hold:
//! - the previous request was SUPERSEDED (a rejected, recalled or expired one vouches for
//!   nothing) under the same policy id;
//! - the previous request's chain had the level done (approved, or itself skipped with
//!   evidence);
//! - every rule requiring the level now fired for the level before too (same rule id and
//!   input), and each tested value is no riskier now than then.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::decision::Verdict;
use super::request::ApprovalRequest;
use super::snapshot::{PolicySnapshot, RiskDirection};
use super::{ApprovalLevel, ApprovalRequestId, ApprovalStatus, DecisionId, PriceHash};

/// How one tested input compares across the two evaluations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Comparison {
    /// Same value.
    Unchanged,
    /// Moved in the seller's disfavour (less risk).
    NoRiskier,
    /// Moved in the seller's favour (more risk).
    Riskier,
    /// The rule did not fire for this level before.
    New,
}

/// One compared input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputComparison {
    /// The rule.
    pub rule_id: String,
    /// The input it tested.
    pub input: String,
    /// Value the previous approval covered (none when the rule is new).
    pub previous_value: Option<Decimal>,
    /// Value now.
    pub new_value: Decimal,
    /// Which way is riskier.
    pub risk: RiskDirection,
    /// The verdict.
    pub comparison: Comparison,
}

/// Why a level is not asked again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkipEvidence {
    /// The level skipped.
    pub level: ApprovalLevel,
    /// The request whose approval still covers it.
    pub previous_request: ApprovalRequestId,
    /// That request's price hash.
    pub previous_price_hash: PriceHash,
    /// The approvals on that level (empty when it was itself skipped; its evidence chains).
    pub previous_decisions: Vec<DecisionId>,
    /// Every input compared, all unchanged or no riskier.
    pub compared: Vec<InputComparison>,
}

/// What smart re-approval says about one required level of the new evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum LevelReuse {
    /// Not asked again.
    #[serde(rename = "SKIP")]
    Skip(SkipEvidence),
    /// Decided again, with the comparisons that made it necessary (empty when the previous
    /// request could not vouch for the level at all).
    #[serde(rename = "DECIDE")]
    Decide {
        /// The level.
        level: ApprovalLevel,
        /// The comparisons.
        compared: Vec<InputComparison>,
    },
}

impl LevelReuse {
    /// The evidence when skipped.
    pub fn into_skip(self) -> Option<SkipEvidence> {
        match self {
            Self::Skip(evidence) => Some(evidence),
            Self::Decide { .. } => None,
        }
    }
}

/// For each level `new` requires, whether `previous` still covers it.
pub fn plan(previous: &ApprovalRequest, new: &PolicySnapshot) -> Vec<LevelReuse> {
    let old = previous.snapshot();
    let vouches = previous.status() == ApprovalStatus::Superseded && old.policy_id == new.policy_id;
    new.required_levels
        .iter()
        .map(|&level| {
            let done = previous
                .chain()
                .level(level)
                .is_some_and(|l| l.state.is_done());
            if !vouches || !done {
                return LevelReuse::Decide {
                    level,
                    compared: Vec::new(),
                };
            }
            let compared: Vec<InputComparison> = new
                .rules_for(level)
                .map(|rule| {
                    let before = old
                        .rules_for(level)
                        .find(|r| r.rule_id == rule.rule_id && r.input == rule.input);
                    let comparison = match before {
                        None => Comparison::New,
                        Some(b) if b.tested_value == rule.tested_value => Comparison::Unchanged,
                        Some(b) if rule.risk.no_riskier(b.tested_value, rule.tested_value) => {
                            Comparison::NoRiskier
                        }
                        Some(_) => Comparison::Riskier,
                    };
                    InputComparison {
                        rule_id: rule.rule_id.clone(),
                        input: rule.input.clone(),
                        previous_value: before.map(|b| b.tested_value),
                        new_value: rule.tested_value,
                        risk: rule.risk,
                        comparison,
                    }
                })
                .collect();
            let safe = compared
                .iter()
                .all(|c| matches!(c.comparison, Comparison::Unchanged | Comparison::NoRiskier));
            if !safe {
                return LevelReuse::Decide { level, compared };
            }
            LevelReuse::Skip(SkipEvidence {
                level,
                previous_request: previous.id(),
                previous_price_hash: previous.quote().price_hash.clone(),
                previous_decisions: previous
                    .decisions()
                    .iter()
                    .filter(|d| d.level == level && d.outcome.verdict() == Verdict::Approve)
                    .map(|d| d.id)
                    .collect(),
                compared,
            })
        })
        .collect()
}
