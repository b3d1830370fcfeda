//! The policy evaluation snapshot a request holds (state-machines.md: "holds the policy
//! evaluation snapshot (which rules fired, thresholds, required approver level)"). The DMN
//! policy crate produces these values ([`super::policy`] maps them); the approval domain treats
//! them as opaque evidence except for three reads: the required levels (which build the chain),
//! the tested values and the table's hash (which smart re-approval compares). Plain serde structs, so the snapshot is stored as
//! `jsonb` and travels in events unchanged.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::ApprovalLevel;

/// Which way a tested input moves to become riskier for the business, so smart re-approval
/// can tell a change in the seller's disfavour (safe to keep an approval) from one in their
/// favour (needs a new decision).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RiskDirection {
    /// A higher value is riskier (a discount percentage).
    HigherIsRiskier,
    /// A lower value is riskier (a net price, a margin).
    LowerIsRiskier,
}

impl RiskDirection {
    /// Whether moving from `previous` to `new` makes the deal no riskier (equal included).
    pub fn no_riskier(self, previous: Decimal, new: Decimal) -> bool {
        match self {
            Self::HigherIsRiskier => new <= previous,
            Self::LowerIsRiskier => new >= previous,
        }
    }
}

/// One rule that fired: which input it tested, with which value against which threshold, and
/// the level it requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleEvaluation {
    /// Stable rule id within the policy (`DISCOUNT_ABOVE_ROLE_LIMIT`).
    pub rule_id: String,
    /// The input the rule tested (`item:abc/discountPercent`); rules are compared across
    /// evaluations by rule id and input name.
    pub input: String,
    /// The value observed.
    pub tested_value: Decimal,
    /// The threshold it was compared with.
    pub threshold: Decimal,
    /// Which way the input becomes riskier.
    pub risk: RiskDirection,
    /// The level this finding requires.
    pub required_level: ApprovalLevel,
}

/// A policy evaluation as evidence: the policy and version in force, the rules that fired and
/// the levels they require.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicySnapshot {
    /// Policy id (the DMN definitions id, `quote-approval-policy`).
    pub policy_id: String,
    /// Its version (as the DMN file declares it).
    pub policy_version: String,
    /// SHA-256 (lower-case hex) of the exact DMN file that decided: the version is what the
    /// file claims, the hash is what it was, so evidence survives a mislabelled file.
    pub policy_sha256: String,
    /// Rules that fired.
    pub rules: Vec<RuleEvaluation>,
    /// Levels required, lowest first; empty when no approval is needed.
    pub required_levels: Vec<ApprovalLevel>,
}

impl PolicySnapshot {
    /// Whether an approver must decide.
    pub fn approval_required(&self) -> bool {
        !self.required_levels.is_empty()
    }

    /// The rules requiring `level`.
    pub fn rules_for(&self, level: ApprovalLevel) -> impl Iterator<Item = &RuleEvaluation> {
        self.rules.iter().filter(move |r| r.required_level == level)
    }

    /// Whether the snapshot is coherent: levels strictly ascending (so no duplicates), and
    /// every rule's level among them.
    pub fn is_coherent(&self) -> bool {
        self.required_levels.windows(2).all(|w| w[0] < w[1])
            && self
                .rules
                .iter()
                .all(|r| self.required_levels.contains(&r.required_level))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_round_trip_as_json() {
        let snapshot = PolicySnapshot {
            policy_id: "discount-approval".into(),
            policy_version: "3".into(),
            policy_sha256: "f".repeat(64),
            rules: vec![RuleEvaluation {
                rule_id: "DISCOUNT_ABOVE_ROLE_LIMIT".into(),
                input: "item:a/discountPercent".into(),
                tested_value: Decimal::from(15),
                threshold: Decimal::from(10),
                risk: RiskDirection::HigherIsRiskier,
                required_level: ApprovalLevel::Manager,
            }],
            required_levels: vec![ApprovalLevel::Manager],
        };
        let json = serde_json::to_value(&snapshot).unwrap();
        assert_eq!(json["requiredLevels"][0], "MANAGER");
        assert_eq!(json["rules"][0]["risk"], "HIGHER_IS_RISKIER");
        assert_eq!(json["rules"][0]["testedValue"], "15");
        assert_eq!(json["policySha256"], "f".repeat(64));
        assert_eq!(
            serde_json::from_value::<PolicySnapshot>(json).unwrap(),
            snapshot
        );
        assert!(snapshot.is_coherent());
    }

    #[test]
    fn risk_direction_decides_what_is_safe() {
        let (ten, twenty) = (Decimal::from(10), Decimal::from(20));
        assert!(RiskDirection::HigherIsRiskier.no_riskier(twenty, ten));
        assert!(!RiskDirection::HigherIsRiskier.no_riskier(ten, twenty));
        assert!(RiskDirection::LowerIsRiskier.no_riskier(ten, twenty));
        assert!(!RiskDirection::LowerIsRiskier.no_riskier(twenty, ten));
        assert!(RiskDirection::LowerIsRiskier.no_riskier(ten, ten));
    }
}
