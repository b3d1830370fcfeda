//! The approver chain of a request: an ordered list of levels, each assigned to one group or to
//! parallel groups with an ANY or ALL quorum, each with a due date. Levels are decided strictly
//! in order: only the first level not yet satisfied is open.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::reapproval::SkipEvidence;
use super::{ApprovalLevel, GroupId};

/// How many parallel groups must approve a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Quorum {
    /// One group's approval satisfies the level.
    Any,
    /// Every group must approve.
    All,
}

/// Who decides a level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Assignment {
    /// One group; one approval by a member satisfies the level.
    Single {
        /// The group.
        group: GroupId,
    },
    /// Several groups deciding in parallel.
    Parallel {
        /// The groups (at least two, distinct).
        groups: Vec<GroupId>,
        /// How many must approve.
        quorum: Quorum,
    },
}

impl Assignment {
    /// The groups assigned.
    pub fn groups(&self) -> &[GroupId] {
        match self {
            Self::Single { group } => std::slice::from_ref(group),
            Self::Parallel { groups, .. } => groups,
        }
    }

    /// Whether the approvals of `approved` groups satisfy this assignment.
    pub fn satisfied_by(&self, approved: &BTreeSet<GroupId>) -> bool {
        match self {
            Self::Single { group } => approved.contains(group),
            Self::Parallel {
                groups,
                quorum: Quorum::Any,
            } => groups.iter().any(|g| approved.contains(g)),
            Self::Parallel {
                groups,
                quorum: Quorum::All,
            } => groups.iter().all(|g| approved.contains(g)),
        }
    }

    pub(crate) fn is_valid(&self) -> bool {
        match self {
            Self::Single { .. } => true,
            Self::Parallel { groups, .. } => {
                groups.len() >= 2 && groups.iter().collect::<BTreeSet<_>>().len() == groups.len()
            }
        }
    }
}

/// What the application plans for one level when a request opens (from the policy's required
/// levels and the tenant's approver directory).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LevelPlan {
    /// The level.
    pub level: ApprovalLevel,
    /// Who decides it.
    pub assignment: Assignment,
    /// When it is overdue.
    pub due: DateTime<Utc>,
    /// Groups an overdue level is reassigned to, in order, after a reminder.
    pub escalation_groups: Vec<GroupId>,
}

/// Where one level stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum LevelState {
    /// Waiting (open when every earlier level is done).
    Open,
    /// Its quorum approved.
    Satisfied {
        /// When the satisfying approval was recorded.
        at: DateTime<Utc>,
    },
    /// Not asked again: a previous request's approval still covers it (smart re-approval).
    Skipped(SkipEvidence),
    /// A reject ended the request here.
    Rejected {
        /// When.
        at: DateTime<Utc>,
    },
}

impl LevelState {
    /// Whether the level needs no further decision to approve.
    pub fn is_done(&self) -> bool {
        matches!(self, Self::Satisfied { .. } | Self::Skipped(_))
    }
}

/// One level of a chain with its progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainLevel {
    /// The level.
    pub level: ApprovalLevel,
    /// Who decides it now (escalation and reassignment change it).
    pub assignment: Assignment,
    /// When it is overdue now.
    pub due: DateTime<Utc>,
    /// Escalation targets not used yet, in order.
    pub escalation_groups: Vec<GroupId>,
    /// Whether the overdue reminder went out for the current assignment.
    pub reminded: bool,
    /// Groups whose member approved this level.
    pub approved_groups: BTreeSet<GroupId>,
    /// Progress.
    pub state: LevelState,
}

/// Why a chain could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// The chain's levels differ from the levels the policy requires.
    #[error("the chain's levels {chain:?} differ from the required levels {required:?}")]
    LevelsMismatch {
        /// Levels planned.
        chain: Vec<ApprovalLevel>,
        /// Levels required.
        required: Vec<ApprovalLevel>,
    },
    /// A parallel assignment needs at least two distinct groups.
    #[error("level {0:?}: a parallel assignment needs at least two distinct groups")]
    BadAssignment(ApprovalLevel),
    /// Skip evidence names a level the chain does not have.
    #[error("skip evidence for {0:?}, which the chain does not have")]
    SkipOutsideChain(ApprovalLevel),
}

/// The ordered levels of one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApprovalChain {
    levels: Vec<ChainLevel>,
}

impl ApprovalChain {
    /// Builds the chain for `required` levels (strictly ascending) from `plans` in the same
    /// order, marking the levels `skips` cover as skipped.
    pub fn build(
        required: &[ApprovalLevel],
        plans: Vec<LevelPlan>,
        skips: Vec<SkipEvidence>,
    ) -> Result<Self, ChainError> {
        let chain: Vec<ApprovalLevel> = plans.iter().map(|p| p.level).collect();
        if chain != required {
            return Err(ChainError::LevelsMismatch {
                chain,
                required: required.to_vec(),
            });
        }
        if let Some(bad) = plans.iter().find(|p| !p.assignment.is_valid()) {
            return Err(ChainError::BadAssignment(bad.level));
        }
        if let Some(stray) = skips.iter().find(|s| !chain.contains(&s.level)) {
            return Err(ChainError::SkipOutsideChain(stray.level));
        }
        let mut skips = skips;
        let levels = plans
            .into_iter()
            .map(|plan| {
                let state = match skips.iter().position(|s| s.level == plan.level) {
                    Some(index) => LevelState::Skipped(skips.swap_remove(index)),
                    None => LevelState::Open,
                };
                ChainLevel {
                    level: plan.level,
                    assignment: plan.assignment,
                    due: plan.due,
                    escalation_groups: plan.escalation_groups,
                    reminded: false,
                    approved_groups: BTreeSet::new(),
                    state,
                }
            })
            .collect();
        Ok(Self { levels })
    }

    /// Rebuilds a stored chain: the levels must be exactly `required`, in order, each with a
    /// valid assignment. Storage uses it; commands never do (they build with [`Self::build`]).
    pub fn restore(
        required: &[ApprovalLevel],
        levels: Vec<ChainLevel>,
    ) -> Result<Self, ChainError> {
        let chain: Vec<ApprovalLevel> = levels.iter().map(|l| l.level).collect();
        if chain != required {
            return Err(ChainError::LevelsMismatch {
                chain,
                required: required.to_vec(),
            });
        }
        if let Some(bad) = levels.iter().find(|l| !l.assignment.is_valid()) {
            return Err(ChainError::BadAssignment(bad.level));
        }
        Ok(Self { levels })
    }

    /// The levels in order.
    pub fn levels(&self) -> &[ChainLevel] {
        &self.levels
    }

    /// The open level: the first one not done. `None` when every level is done (or the chain
    /// is empty) or a reject ended it.
    pub fn current(&self) -> Option<&ChainLevel> {
        self.levels
            .iter()
            .find(|l| !l.state.is_done())
            .filter(|l| l.state == LevelState::Open)
    }

    /// Whether every level is satisfied or skipped.
    pub fn is_complete(&self) -> bool {
        self.levels.iter().all(|l| l.state.is_done())
    }

    /// The level, if the chain has it.
    pub fn level(&self, level: ApprovalLevel) -> Option<&ChainLevel> {
        self.levels.iter().find(|l| l.level == level)
    }

    /// The levels, mutably; only the aggregate changes a chain.
    pub(crate) fn levels_mut(&mut self) -> impl Iterator<Item = &mut ChainLevel> {
        self.levels.iter_mut()
    }

    /// The open level, mutably; only the aggregate changes a chain.
    pub(crate) fn current_mut(&mut self) -> Option<&mut ChainLevel> {
        self.levels
            .iter_mut()
            .find(|l| !l.state.is_done())
            .filter(|l| l.state == LevelState::Open)
    }
}

impl ChainLevel {
    /// Records `group`'s approval; true when this satisfies the level.
    pub(crate) fn record_approval(&mut self, group: GroupId, at: DateTime<Utc>) -> bool {
        self.approved_groups.insert(group);
        let satisfied = self.assignment.satisfied_by(&self.approved_groups);
        if satisfied {
            self.state = LevelState::Satisfied { at };
        }
        satisfied
    }

    /// The first of `candidates` assigned to this level and not yet approved (else the first
    /// assigned one), for the decision record.
    pub(crate) fn group_for<'a>(&self, candidates: &'a [GroupId]) -> Option<&'a GroupId> {
        let assigned = |g: &&GroupId| self.assignment.groups().contains(*g);
        candidates
            .iter()
            .filter(assigned)
            .find(|g| !self.approved_groups.contains(*g))
            .or_else(|| candidates.iter().find(assigned))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(name: &str) -> GroupId {
        GroupId::parse(name).unwrap()
    }

    fn approved(names: &[&str]) -> BTreeSet<GroupId> {
        names.iter().map(|n| g(n)).collect()
    }

    #[test]
    fn quorum_any_needs_one_group_and_all_needs_every_group() {
        let any = Assignment::Parallel {
            groups: vec![g("emea"), g("apac")],
            quorum: Quorum::Any,
        };
        let all = Assignment::Parallel {
            groups: vec![g("emea"), g("apac")],
            quorum: Quorum::All,
        };
        assert!(!any.satisfied_by(&approved(&[])));
        assert!(any.satisfied_by(&approved(&["apac"])));
        assert!(!all.satisfied_by(&approved(&["apac"])));
        assert!(!all.satisfied_by(&approved(&["apac", "other"])));
        assert!(all.satisfied_by(&approved(&["apac", "emea"])));
        assert!(Assignment::Single { group: g("m") }.satisfied_by(&approved(&["m"])));
    }

    #[test]
    fn chains_follow_the_required_levels_and_refuse_bad_parallels() {
        let plan = |level, assignment| LevelPlan {
            level,
            assignment,
            due: DateTime::<Utc>::default(),
            escalation_groups: Vec::new(),
        };
        let single = || Assignment::Single { group: g("m") };
        let required = [ApprovalLevel::Manager, ApprovalLevel::Director];
        assert!(matches!(
            ApprovalChain::build(
                &required,
                vec![
                    plan(ApprovalLevel::Director, single()),
                    plan(ApprovalLevel::Manager, single())
                ],
                Vec::new()
            ),
            Err(ChainError::LevelsMismatch { .. })
        ));
        let lonely = Assignment::Parallel {
            groups: vec![g("a"), g("a")],
            quorum: Quorum::All,
        };
        assert_eq!(
            ApprovalChain::build(
                &required[..1],
                vec![plan(ApprovalLevel::Manager, lonely)],
                Vec::new()
            ),
            Err(ChainError::BadAssignment(ApprovalLevel::Manager))
        );
        let chain = ApprovalChain::build(
            &required,
            vec![
                plan(ApprovalLevel::Manager, single()),
                plan(ApprovalLevel::Director, single()),
            ],
            Vec::new(),
        )
        .unwrap();
        assert_eq!(
            chain.current().map(|l| l.level),
            Some(ApprovalLevel::Manager)
        );
        assert!(!chain.is_complete());
    }
}
