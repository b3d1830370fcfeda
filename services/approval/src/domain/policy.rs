//! From the policy's verdict to what a request opens with (ADR 0031). The `approval-policy`
//! crate evaluates the DMN table and says which rules fired and which levels they require; this
//! module turns that into the request's evidence ([`PolicySnapshot`]) and its plan of levels
//! ([`LevelPlan`]s), so the application layer only evaluates, maps and opens. Pure: the policy
//! crate does no I/O, and the time and routing come in as values.

use approval_policy::{Direction, Finding, PolicyEvaluation, Variable};
use chrono::{DateTime, Duration, Utc};
use domain_kernel::access::{Action, Role, roles_for};

use super::chain::{Assignment, LevelPlan};
use super::snapshot::{PolicySnapshot, RiskDirection, RuleEvaluation};
use super::{ApprovalLevel, GroupId, ValueError};

/// Why an evaluation could not be mapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyMappingError {
    /// A finding names an input the policy crate does not know, so its risk direction is
    /// unknown and smart re-approval could not compare it safely.
    #[error("rule {rule_id} tested {input}, which is no policy variable")]
    UnknownInput {
        /// The rule.
        rule_id: String,
        /// The input it named.
        input: String,
    },
    /// `now` + the level's duration is beyond what a timestamp can hold.
    #[error("the due date of level {0:?} is out of range")]
    DueOutOfRange(ApprovalLevel),
    /// A group name was refused.
    #[error("an approver group name was refused")]
    Group(#[source] ValueError),
}

/// The risk direction of a policy variable: the seller's disfavour (the direction an approval
/// already given still covers) is the safe direction, so "lower is in the seller's disfavour"
/// means "higher is riskier", and the other way round.
pub fn risk(variable: Variable) -> RiskDirection {
    match variable.disfavour() {
        Direction::Lower => RiskDirection::HigherIsRiskier,
        Direction::Higher => RiskDirection::LowerIsRiskier,
    }
}

/// The evidence a request keeps: the table's pin (id, declared version, file hash) and every
/// finding with the input it tested, its value, threshold, level and risk direction.
pub fn snapshot(evaluation: &PolicyEvaluation) -> Result<PolicySnapshot, PolicyMappingError> {
    Ok(PolicySnapshot {
        policy_id: evaluation.policy.policy_id.clone(),
        policy_version: evaluation.policy.version.clone(),
        policy_sha256: evaluation.policy.sha256.clone(),
        rules: evaluation
            .findings
            .iter()
            .map(rule)
            .collect::<Result<_, _>>()?,
        required_levels: evaluation.required_levels.clone(),
    })
}

fn rule(finding: &Finding) -> Result<RuleEvaluation, PolicyMappingError> {
    let variable =
        Variable::parse(&finding.input).ok_or_else(|| PolicyMappingError::UnknownInput {
            rule_id: finding.rule_id.clone(),
            input: finding.input.clone(),
        })?;
    Ok(RuleEvaluation {
        rule_id: finding.rule_id.clone(),
        input: finding.input.clone(),
        tested_value: finding.value,
        threshold: finding.threshold,
        risk: risk(variable),
        required_level: finding.level,
    })
}

/// How long each level may stay open before it is overdue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelDurations {
    /// MANAGER.
    pub manager: Duration,
    /// DIRECTOR.
    pub director: Duration,
    /// FINANCE.
    pub finance: Duration,
}

impl LevelDurations {
    /// The same duration for every level.
    pub fn uniform(duration: Duration) -> Self {
        Self {
            manager: duration,
            director: duration,
            finance: duration,
        }
    }

    /// The duration of `level`.
    pub fn of(&self, level: ApprovalLevel) -> Duration {
        match level {
            ApprovalLevel::Manager => self.manager,
            ApprovalLevel::Director => self.director,
            ApprovalLevel::Finance => self.finance,
        }
    }
}

/// Where one level goes: its group and, in order, the groups an overdue level moves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelRoute {
    /// The group that decides the level.
    pub group: GroupId,
    /// Escalation targets, in order.
    pub escalation_groups: Vec<GroupId>,
}

/// Which group decides each level, and how long it has: total over the levels by
/// construction, so a required level never lacks a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApproverRouting {
    manager: LevelRoute,
    director: LevelRoute,
    finance: LevelRoute,
    durations: LevelDurations,
}

impl ApproverRouting {
    /// The default routing: one group per level named after the approver role of that level
    /// (`approver-manager`, `approver-director`, `approver-finance`), and as escalation path
    /// the groups of the other roles the permission table (ADR 0030) lets approve that level,
    /// lowest first. So an overdue MANAGER level moves to `approver-director`; DIRECTOR and
    /// FINANCE have nobody above them who may decide them, so they are only reminded. (An
    /// escalation to a group that may not approve the level would leave it stuck: the
    /// decision guard would refuse every member of that group.)
    pub fn by_role(durations: LevelDurations) -> Result<Self, PolicyMappingError> {
        let route = |level: ApprovalLevel| -> Result<LevelRoute, PolicyMappingError> {
            let own = own_role(level);
            let group =
                |role: Role| GroupId::parse(role.as_str()).map_err(PolicyMappingError::Group);
            Ok(LevelRoute {
                group: group(own)?,
                escalation_groups: Role::ALL
                    .into_iter()
                    .filter(|r| *r != own && roles_for(Action::ApproveDiscount(level)).contains(r))
                    .map(group)
                    .collect::<Result<_, _>>()?,
            })
        };
        Ok(Self {
            manager: route(ApprovalLevel::Manager)?,
            director: route(ApprovalLevel::Director)?,
            finance: route(ApprovalLevel::Finance)?,
            durations,
        })
    }

    /// How long `level` may stay open (also after it was escalated to a new group).
    pub fn duration(&self, level: ApprovalLevel) -> Duration {
        self.durations.of(level)
    }

    /// The route of `level`.
    pub fn route(&self, level: ApprovalLevel) -> &LevelRoute {
        match level {
            ApprovalLevel::Manager => &self.manager,
            ApprovalLevel::Director => &self.director,
            ApprovalLevel::Finance => &self.finance,
        }
    }

    /// One plan per required level, in the snapshot's order (MANAGER → DIRECTOR → FINANCE),
    /// each with a single group and due `now` + its level's duration. Empty when no level is
    /// required: the request then opens NOT_REQUIRED.
    pub fn plan(
        &self,
        snapshot: &PolicySnapshot,
        now: DateTime<Utc>,
    ) -> Result<Vec<LevelPlan>, PolicyMappingError> {
        snapshot
            .required_levels
            .iter()
            .map(|&level| {
                let route = self.route(level);
                Ok(LevelPlan {
                    level,
                    assignment: Assignment::Single {
                        group: route.group.clone(),
                    },
                    due: now
                        .checked_add_signed(self.durations.of(level))
                        .ok_or(PolicyMappingError::DueOutOfRange(level))?,
                    escalation_groups: route.escalation_groups.clone(),
                })
            })
            .collect()
    }
}

/// The approver role whose group decides `level` by default.
fn own_role(level: ApprovalLevel) -> Role {
    match level {
        ApprovalLevel::Manager => Role::ApproverManager,
        ApprovalLevel::Director => Role::ApproverDirector,
        ApprovalLevel::Finance => Role::ApproverFinance,
    }
}

#[cfg(test)]
mod tests {
    use approval_policy::{LineInput, PolicyInput};
    use domain_kernel::ActorType;
    use domain_kernel::money::Currency;
    use rust_decimal::Decimal;

    use super::super::fixtures::{minutes, new_request};
    use super::super::{ApprovalRequest, ApprovalStatus};
    use super::*;

    /// One line at `discount` % by a human agent with 10 % authority; small totals.
    fn input(discount: i64) -> PolicyInput {
        PolicyInput {
            lines: vec![LineInput {
                line_id: "a".into(),
                discount_percent: Decimal::from(discount),
                override_count: 0,
                override_amount: Decimal::ZERO,
                min_net_percent_of_list: Some(Decimal::from(100 - discount)),
            }],
            quote_discount_percent: Decimal::ZERO,
            currency: Currency::parse("EUR").unwrap(),
            one_time_total: Decimal::from(1000),
            recurring_monthly_total: Decimal::from(100),
            term_months: 12,
            discount_authority_percent: Decimal::from(10),
            actor_type: ActorType::HumanAgent,
        }
    }

    fn routing() -> ApproverRouting {
        ApproverRouting::by_role(LevelDurations {
            manager: Duration::hours(24),
            director: Duration::hours(48),
            finance: Duration::hours(72),
        })
        .unwrap()
    }

    fn map(discount: i64) -> (PolicySnapshot, Vec<LevelPlan>) {
        let evaluation = approval_policy::evaluate(&input(discount)).unwrap();
        let snapshot = snapshot(&evaluation).unwrap();
        let plans = routing().plan(&snapshot, minutes(0)).unwrap();
        (snapshot, plans)
    }

    fn group(name: &str) -> GroupId {
        GroupId::parse(name).unwrap()
    }

    #[test]
    fn thirty_percent_needs_one_manager_level() {
        let (snapshot, plans) = map(30);
        assert_eq!(snapshot.required_levels, [ApprovalLevel::Manager]);
        assert_eq!(plans.len(), 1);
        assert_eq!(
            plans[0].assignment,
            Assignment::Single {
                group: group("approver-manager")
            }
        );
        assert_eq!(plans[0].due, minutes(24 * 60));
        assert_eq!(plans[0].escalation_groups, [group("approver-director")]);
        let rule = &snapshot.rules[0];
        assert_eq!(rule.rule_id, "LINE_DISCOUNT_ABOVE_AUTHORITY");
        assert_eq!(rule.input, "maxLineDiscountPercent");
        assert_eq!(
            (rule.tested_value, rule.threshold),
            (Decimal::from(30), Decimal::from(10))
        );
        assert_eq!(rule.risk, RiskDirection::HigherIsRiskier);
        let (request, _) = ApprovalRequest::open(new_request(snapshot, plans)).unwrap();
        assert_eq!(request.status(), ApprovalStatus::Pending);
    }

    #[test]
    fn forty_five_percent_needs_a_manager_then_a_director() {
        let (snapshot, plans) = map(45);
        let levels: Vec<_> = plans.iter().map(|p| p.level).collect();
        assert_eq!(levels, [ApprovalLevel::Manager, ApprovalLevel::Director]);
        assert_eq!(
            plans[1].assignment,
            Assignment::Single {
                group: group("approver-director")
            }
        );
        assert_eq!(plans[1].due, minutes(48 * 60));
        assert!(plans[1].escalation_groups.is_empty());
        assert!(
            snapshot
                .rules_for(ApprovalLevel::Director)
                .any(|r| r.rule_id == "LINE_DISCOUNT_ABOVE_40")
        );
        let (request, _) = ApprovalRequest::open(new_request(snapshot, plans)).unwrap();
        assert_eq!(
            request.chain().current().map(|l| l.level),
            Some(ApprovalLevel::Manager)
        );
    }

    #[test]
    fn nothing_fired_opens_not_required() {
        let (snapshot, plans) = map(5);
        assert!(snapshot.rules.is_empty() && plans.is_empty());
        let (request, _) = ApprovalRequest::open(new_request(snapshot, plans)).unwrap();
        assert_eq!(request.status(), ApprovalStatus::NotRequired);
    }

    #[test]
    fn the_snapshot_pins_the_table_by_its_file_hash() {
        let evaluation = approval_policy::evaluate(&input(30)).unwrap();
        let snapshot = snapshot(&evaluation).unwrap();
        assert_eq!(snapshot.policy_sha256, evaluation.policy.sha256);
        assert_eq!(snapshot.policy_sha256.len(), 64);
        assert_eq!(snapshot.policy_id, "quote-approval-policy");
        assert_eq!(snapshot.policy_version, evaluation.policy.version);
        assert!(snapshot.is_coherent());
    }

    #[test]
    fn risk_follows_the_seller_s_disfavour() {
        for variable in Variable::ALL {
            let (before, after) = (Decimal::from(10), Decimal::from(20));
            assert_eq!(
                risk(variable).no_riskier(before, after),
                variable.covered(before, after),
                "{variable}"
            );
        }
        assert_eq!(
            risk(Variable::MinNetPercentOfList),
            RiskDirection::LowerIsRiskier
        );
    }

    #[test]
    fn an_unknown_input_is_refused() {
        let mut evaluation = approval_policy::evaluate(&input(30)).unwrap();
        evaluation.findings[0].input = "marginPercent".into();
        assert!(matches!(
            snapshot(&evaluation),
            Err(PolicyMappingError::UnknownInput { .. })
        ));
    }
}
