//! Smart re-approval: when a commercial change supersedes a request and a new one opens, a
//! level whose tested inputs did not change, or changed only in the seller's disfavour (a lower
//! discount, a higher price), is not asked again. It is skipped with evidence: which inputs were
//! compared, their values before and after, and which approvals still cover them.
//!
//! A level is reused only when all of these hold:
//! - the previous request was SUPERSEDED or REJECTED (a recalled or expired one vouches for
//!   nothing; a rejected one only for the levels approved before the reject) and was evaluated
//!   by the same policy table, byte for byte (same SHA-256, ADR 0031): a new table version may
//!   move a threshold, so its findings are not comparable;
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
    // A superseded request vouches for its done levels, and so does a rejected one: the reject
    // ended the request at a later level, the levels approved before it still hold for inputs
    // that did not get riskier (revise, fix, resubmit asks only what the fix changed).
    let vouches = matches!(
        previous.status(),
        ApprovalStatus::Superseded | ApprovalStatus::Rejected
    ) && old.policy_id == new.policy_id
        && old.policy_sha256 == new.policy_sha256;
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

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::super::fixtures::*;
    use super::super::*;
    use super::{Comparison, LevelReuse};
    use crate::domain::reapproval;

    /// Previous: manager and director approved for a 15 % discount at a price of 100; then
    /// superseded.
    fn approved_and_superseded() -> ApprovalRequest {
        let (mut previous, _) = manager_then_director();
        let mia = approver("mia", &[ApprovalLevel::Manager], &["managers"]);
        let dana = approver("dana", &[ApprovalLevel::Director], &["directors"]);
        previous
            .decide(approve(&mia, ApprovalLevel::Manager, minutes(1)))
            .unwrap();
        previous
            .decide(approve(&dana, ApprovalLevel::Director, minutes(2)))
            .unwrap();
        previous
            .supersede(reason("revision 2"), minutes(3))
            .unwrap();
        previous
    }

    #[test]
    fn unchanged_or_seller_disfavouring_inputs_skip_their_level_with_evidence() {
        let previous = approved_and_superseded();
        let mut new = snapshot(&[ApprovalLevel::Manager, ApprovalLevel::Director]);
        new.rules[0].tested_value = Decimal::from(12); // discount lower
        new.rules[1].tested_value = Decimal::from(45); // net price higher
        let plan = reapproval::plan(&previous, &new);
        let skips: Vec<_> = plan.into_iter().filter_map(LevelReuse::into_skip).collect();
        assert_eq!(skips.len(), 2);
        assert_eq!(skips[0].compared[0].comparison, Comparison::NoRiskier);
        assert_eq!(skips[0].compared[0].previous_value, Some(Decimal::from(15)));
        assert_eq!(skips[0].previous_decisions, [previous.decisions()[0].id]);
        let (request, events) = ApprovalRequest::open(NewRequest {
            quote: quote_ref('c', 2),
            skips,
            ..new_request(
                new,
                vec![
                    level_plan(ApprovalLevel::Manager, "managers"),
                    level_plan(ApprovalLevel::Director, "directors"),
                ],
            )
        })
        .unwrap();
        assert_eq!(request.status(), ApprovalStatus::Approved);
        assert!(matches!(
            events[1].detail,
            events::EventDetail::ApprovedByReuse
        ));
        assert!(request.approves(&hash('c')) && !request.approves(&hash('a')));
    }

    #[test]
    fn inputs_moving_in_the_seller_s_favour_or_new_rules_need_a_decision() {
        let previous = approved_and_superseded();
        let mut new = snapshot(&[ApprovalLevel::Manager, ApprovalLevel::Director]);
        new.rules[0].tested_value = Decimal::from(20); // discount higher
        new.rules.push(RuleEvaluation {
            rule_id: "MANUAL_OVERRIDE".into(),
            input: "item:a/override".into(),
            tested_value: Decimal::ONE,
            threshold: Decimal::ZERO,
            risk: RiskDirection::HigherIsRiskier,
            required_level: ApprovalLevel::Director,
        });
        let plan = reapproval::plan(&previous, &new);
        assert!(
            matches!(&plan[0], LevelReuse::Decide { compared, .. } if compared[0].comparison == Comparison::Riskier)
        );
        assert!(
            matches!(&plan[1], LevelReuse::Decide { compared, .. } if compared.iter().any(|c| c.comparison == Comparison::New))
        );
    }

    #[test]
    fn a_request_decided_by_another_table_vouches_for_nothing() {
        let previous = approved_and_superseded();
        let mut new = snapshot(&[ApprovalLevel::Manager]);
        new.policy_sha256 = "d".repeat(64);
        let plan = reapproval::plan(&previous, &new);
        assert!(matches!(&plan[0], LevelReuse::Decide { compared, .. } if compared.is_empty()));
    }

    #[test]
    fn a_rejected_request_vouches_only_for_the_levels_approved_before_the_reject() {
        let (mut previous, _) = manager_then_director();
        let mia = approver("mia", &[ApprovalLevel::Manager], &["managers"]);
        let dana = approver("dana", &[ApprovalLevel::Director], &["directors"]);
        previous
            .decide(approve(&mia, ApprovalLevel::Manager, minutes(1)))
            .unwrap();
        previous
            .decide(reject(&dana, ApprovalLevel::Director, minutes(2)))
            .unwrap();
        let plan = reapproval::plan(
            &previous,
            &snapshot(&[ApprovalLevel::Manager, ApprovalLevel::Director]),
        );
        assert!(
            matches!(&plan[0], LevelReuse::Skip(evidence) if evidence.level == ApprovalLevel::Manager),
            "{plan:?}"
        );
        assert!(matches!(&plan[1], LevelReuse::Decide { compared, .. } if compared.is_empty()));
    }
}
