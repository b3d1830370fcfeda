//! One evaluation: the DMN decision's findings turned into the approval chain, the per-level
//! tested inputs (for smart re-approval) and the evidence pin.

use std::collections::BTreeMap;

use domain_kernel::ActorType;
use domain_kernel::access::ApprovalLevel;
use dsntk_feel::Name;
use dsntk_feel::context::FeelContext;
use dsntk_feel::values::Value;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::dmn::{self, DmnPolicy};
use crate::error::PolicyError;
use crate::feel;
use crate::input::PolicyInput;
use crate::variables::{PolicyVariables, Variable};

/// Which table decided: stored with every evaluation (and in audit's `policy{policyId,
/// policyVersion}`), so the decision can be traced to the exact file, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRef {
    /// The DMN `definitions` id (`quote-approval-policy`).
    pub policy_id: String,
    /// The version the file declares (`zeebe:versionTag` of the decision).
    pub version: String,
    /// SHA-256 (lower-case hex) of the DMN file's exact content.
    pub sha256: String,
    /// The file under `workflow/dmn/`.
    pub file: String,
}

/// One rule that fired, with the numbers that made it fire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// The rule id (also the DMN rule's `id`).
    pub rule_id: String,
    /// The input variable the rule tested (a [`Variable::name`]).
    pub input: String,
    /// Its value in this evaluation.
    pub value: Decimal,
    /// The threshold it was compared with.
    pub threshold: Decimal,
    /// The level this finding requires.
    pub level: ApprovalLevel,
}

/// The inputs the findings of one level tested, name → value: what an approver at that level
/// actually approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LevelInputs {
    /// The level.
    pub level: ApprovalLevel,
    /// Tested input name → tested value.
    pub inputs: BTreeMap<String, Decimal>,
}

/// The outcome of evaluating the policy for one submitted quote revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyEvaluation {
    /// The table that decided.
    pub policy: PolicyRef,
    /// Kind of the submitter.
    pub actor_type: ActorType,
    /// Exactly what the table saw.
    pub variables: PolicyVariables,
    /// Every rule that fired, in the table's rule order.
    pub findings: Vec<Finding>,
    /// Every level some finding requires, MANAGER → DIRECTOR → FINANCE; empty when approval
    /// is not required.
    pub required_levels: Vec<ApprovalLevel>,
    /// Per required level (same order), the inputs its findings tested.
    pub level_inputs: Vec<LevelInputs>,
}

impl PolicyEvaluation {
    /// Whether an approver must decide (false: approved by policy).
    pub fn approval_required(&self) -> bool {
        !self.required_levels.is_empty()
    }

    /// The inputs a level's findings tested, if the level is required.
    pub fn inputs_for(&self, level: ApprovalLevel) -> Option<&BTreeMap<String, Decimal>> {
        self.level_inputs
            .iter()
            .find(|l| l.level == level)
            .map(|l| &l.inputs)
    }

    /// Smart re-approval: whether an approval given at `level` for `self` (an earlier
    /// revision) still covers `later`. True when both were evaluated by the same table (same
    /// SHA-256) and every input `later` tests for that level was also tested for it before and
    /// has moved only in its [`Variable::disfavour`] direction (or not at all). A level `later`
    /// does not require is trivially covered. The caller still decides; this only compares.
    pub fn covers(&self, level: ApprovalLevel, later: &PolicyEvaluation) -> bool {
        let Some(now) = later.inputs_for(level) else {
            return true;
        };
        if self.policy.sha256 != later.policy.sha256 {
            return false;
        }
        let Some(approved) = self.inputs_for(level) else {
            return false;
        };
        now.iter().all(
            |(name, value)| match (Variable::parse(name), approved.get(name)) {
                (Some(variable), Some(before)) => variable.covered(*before, *value),
                _ => false,
            },
        )
    }
}

/// dsntk's explanation of the null a decision table gives when no rule matched and no default
/// output is defined (dsntk-model-evaluator 0.3).
const NO_RULE_MATCHED: &str = "no rules matched, no output value defined";

/// Evaluates the current policy version on `input`.
pub fn evaluate(input: &PolicyInput) -> Result<PolicyEvaluation, PolicyError> {
    dmn::current()?.evaluate(input)
}

impl DmnPolicy {
    /// Evaluates this policy version on `input`: aggregates in Rust, the decision table in the
    /// DMN engine, the chain from the findings.
    pub fn evaluate(&self, input: &PolicyInput) -> Result<PolicyEvaluation, PolicyError> {
        let variables = PolicyVariables::from_input(input)?;
        let result = self.evaluate_raw(&feel::input_context(&variables)?);
        let findings = self.findings(&result)?;
        // `ApprovalLevel::ALL` is lowest first: the chain order.
        let required_levels: Vec<ApprovalLevel> = ApprovalLevel::ALL
            .into_iter()
            .filter(|l| findings.iter().any(|f| f.level == *l))
            .collect();
        let level_inputs = required_levels
            .iter()
            .map(|&level| LevelInputs {
                level,
                inputs: findings
                    .iter()
                    .filter(|f| f.level == level)
                    .map(|f| (f.input.clone(), f.value))
                    .collect(),
            })
            .collect();
        Ok(PolicyEvaluation {
            policy: self.reference().clone(),
            actor_type: input.actor_type,
            variables,
            findings,
            required_levels,
            level_inputs,
        })
    }

    /// Reads the COLLECT result: a list of contexts (one per fired rule), or, when nothing
    /// fired, an empty list or dsntk's null with exactly [`NO_RULE_MATCHED`]. Any other null
    /// is an engine error and is never read as "nothing fired" (the examples test would fail
    /// if a dsntk upgrade reworded the message, rather than approving by policy silently).
    fn findings(&self, result: &Value) -> Result<Vec<Finding>, PolicyError> {
        let error = |reason: String| PolicyError::Evaluation {
            decision: self.decision_name().to_owned(),
            version: self.reference().version.clone(),
            reason,
        };
        match result {
            Value::Null(None) => Ok(Vec::new()),
            Value::Null(Some(reason)) if reason == NO_RULE_MATCHED => Ok(Vec::new()),
            Value::List(items) => items
                .iter()
                .map(|item| match item {
                    Value::Context(context) => finding(context).map_err(error),
                    other => Err(error(format!("a finding is not a context: {other}"))),
                })
                .collect(),
            // A single-rule COLLECT result may come back unwrapped.
            Value::Context(context) => Ok(vec![finding(context).map_err(error)?]),
            other => Err(error(format!("expected a list of findings, got {other}"))),
        }
    }
}

/// One fired rule's outputs (`ruleId`, `level`, `input`, `value`, `threshold`); the error is
/// the reason the caller wraps into [`PolicyError::Evaluation`].
fn finding(context: &FeelContext) -> Result<Finding, String> {
    let entry = |name: &str| {
        context
            .get_entry(&Name::from(name))
            .ok_or_else(|| format!("output column {name} is missing from a finding"))
    };
    let text = |name: &str| match entry(name)? {
        Value::String(s) => Ok(s.clone()),
        other => Err(format!("output {name} is not a string: {other}")),
    };
    let level_name = text("level")?;
    let input = text("input")?;
    if Variable::parse(&input).is_none() {
        return Err(format!("output input {input} names no policy variable"));
    }
    let number =
        |name: &str| feel::decimal(entry(name)?).map_err(|e| format!("output {name}: {e}"));
    Ok(Finding {
        rule_id: text("ruleId")?,
        level: ApprovalLevel::parse(&level_name)
            .ok_or_else(|| format!("output level {level_name} is no approval level"))?,
        input,
        value: number("value")?,
        threshold: number("threshold")?,
    })
}
