//! `approval.check-decision`: the user task's completing listener (ADR 0034), the Tasklist
//! door. Completing the task in Tasklist (or `/v2/user-tasks/{key}/completion`) runs the same
//! `decide` command the portal's REST door runs, as the task's assignee with their authority
//! from the approver directory; a refusal denies the completion, so the task stays open and
//! nothing is recorded anywhere. A decision the REST door already recorded repeats and is
//! allowed, which is how the portal completes the task after deciding.

use common_kernel::context::RequestContext;
use common_kernel::db::begin_for_tenant;
use domain_kernel::access::Authority;
use domain_kernel::{ActorId, ActorType, TenantId};
use serde::Deserialize;
use workflow_runtime::{JobContext, JobError};

use super::{RequestVariables, WorkerDeps, technical};
use crate::app::decide::{self, DecideInput};
use crate::app::error::AppError;
use crate::domain::{
    ApprovalError, ApprovalLevel, ApprovalStatus, DecisionOutcome, PriceHash, Reason,
};

/// What the listener reads: the instance's variables and the completion's.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompletionVariables {
    /// Request and tenant.
    #[serde(flatten)]
    pub request: RequestVariables,
    /// The level the task was offered for.
    pub approval_level: Option<String>,
    /// The price hash the instance runs for.
    pub price_hash: String,
    /// `APPROVE` or `REJECT`, from the completion.
    pub decision: Option<String>,
    /// Why, from the completion (required to reject).
    pub reason: Option<String>,
    /// Whose authority, when the assignee acts for someone.
    pub on_behalf_of: Option<String>,
}

/// The listener's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecisionCheck {
    /// The completion goes ahead: the decision was recorded now, or before (`recorded` false:
    /// the same decision repeated, or the task was stale — its level no longer waits).
    Allow {
        /// Whether this completion recorded the decision.
        recorded: bool,
    },
    /// The completion is refused; the task stays open.
    Deny {
        /// Stable code and message, shown to the person who tried.
        reason: String,
    },
}

fn deny(reason: impl Into<String>) -> DecisionCheck {
    DecisionCheck::Deny {
        reason: reason.into(),
    }
}

/// The assignee's context: their tenant, identity and directory authority, via Tasklist.
async fn assignee_context(
    deps: &WorkerDeps,
    tenant: &TenantId,
    assignee: &ActorId,
    job: &JobContext,
) -> Result<RequestContext, JobError> {
    let roles = deps
        .ports
        .directory
        .roles_of(tenant, assignee)
        .await
        .map_err(|e| technical(e.into()))?;
    let mut ctx = RequestContext::system(
        tenant.clone(),
        assignee.clone(),
        ActorType::HumanAgent,
        "tasklist",
        Authority {
            roles,
            client: "tasklist".into(),
            via: Some("workflow".into()),
            ..Authority::default()
        },
    );
    if let Some(id) = &job.correlation.correlation_id {
        ctx.correlation_id = id.clone();
    }
    ctx.causation_id = job
        .listened_task()
        .map(|task| format!("user-task:{}", task.user_task_key));
    Ok(ctx)
}

/// Reads the completion into a decision, or says why it is not one.
fn decision_of(vars: &CompletionVariables) -> Result<(ApprovalLevel, DecisionOutcome), String> {
    let level = match vars.approval_level.as_deref() {
        Some("MANAGER") => ApprovalLevel::Manager,
        Some("DIRECTOR") => ApprovalLevel::Director,
        Some("FINANCE") => ApprovalLevel::Finance,
        other => {
            return Err(format!(
                "APPROVAL_TASK_UNREADABLE: the task names no level ({other:?})"
            ));
        }
    };
    let reason = vars
        .reason
        .as_deref()
        .filter(|r| !r.trim().is_empty())
        .map(Reason::parse)
        .transpose()
        .map_err(|e| format!("VALIDATION_FAILED: reason: {e}"))?;
    let outcome = match (vars.decision.as_deref(), reason) {
        (Some("APPROVE"), reason) => DecisionOutcome::Approve { reason },
        (Some("REJECT"), Some(reason)) => DecisionOutcome::Reject { reason },
        (Some("REJECT"), None) => {
            return Err("VALIDATION_FAILED: a reject needs a reason (variable `reason`)".into());
        }
        (other, _) => {
            return Err(format!(
                "VALIDATION_FAILED: complete with variable `decision` = APPROVE or REJECT (was {other:?})"
            ));
        }
    };
    Ok((level, outcome))
}

/// Whether the refusal only says the task is stale: the request no longer waits for this
/// level (decided through the portal, escalated, superseded). Completing a stale task records
/// nothing and lets the loop offer what waits now.
fn stale(error: &AppError) -> bool {
    matches!(
        error,
        AppError::Refused(
            ApprovalError::LevelAlreadyDone(_)
                | ApprovalError::LevelNotOpen { .. }
                | ApprovalError::Transition(_)
        )
    )
}

/// Runs the decision of a task completion through the `decide` command.
pub async fn check_decision(
    deps: &WorkerDeps,
    job: &JobContext,
    vars: CompletionVariables,
) -> Result<DecisionCheck, JobError> {
    let assignee = job.listened_task().and_then(|task| task.assignee);
    let Some(assignee) = assignee.as_deref().filter(|a| !a.is_empty()) else {
        return Ok(deny(
            "APPROVAL_TASK_UNASSIGNED: claim the task before completing it",
        ));
    };
    let Ok(assignee) = ActorId::parse(assignee) else {
        return Ok(deny(
            "APPROVAL_TASK_UNASSIGNED: the assignee is not a valid user id",
        ));
    };
    let (level, outcome) = match decision_of(&vars) {
        Ok(decision) => decision,
        Err(reason) => return Ok(deny(reason)),
    };
    let on_behalf_of = match vars.on_behalf_of.as_deref().filter(|p| !p.is_empty()) {
        Some(principal) => match ActorId::parse(principal) {
            Ok(principal) => Some(principal),
            Err(e) => return Ok(deny(format!("VALIDATION_FAILED: onBehalfOf: {e}"))),
        },
        None => None,
    };
    let price_hash = PriceHash::parse(&vars.price_hash)
        .map_err(|e| JobError::technical(format!("the instance's priceHash is invalid: {e}")))?;
    let tenant = vars.request.tenant()?;
    let ctx = assignee_context(deps, &tenant, &assignee, job).await?;
    let mut tx = begin_for_tenant(&deps.db, &tenant)
        .await
        .map_err(|e| technical(AppError::Database(e)))?;
    let decided = decide::execute(
        &mut tx,
        &deps.ports,
        &ctx,
        DecideInput {
            request_id: vars.request.approval_request_id,
            level,
            outcome,
            price_hash,
            on_behalf_of,
        },
    )
    .await;
    match decided {
        Ok(decided) => {
            tx.commit()
                .await
                .map_err(|e| technical(AppError::Database(e)))?;
            Ok(DecisionCheck::Allow {
                recorded: !decided.repeated,
            })
        }
        Err(AppError::Database(e)) => Err(technical(AppError::Database(e))),
        Err(AppError::Conflict(id)) => Err(technical(AppError::Conflict(id))),
        Err(error) if stale(&error) => {
            drop(tx);
            let still_waits = still_waiting(deps, &tenant, &vars, level).await?;
            if still_waits {
                Ok(deny(format!("{}: {error}", error.code())))
            } else {
                tracing::info!(request = %vars.request.approval_request_id, level = level.as_str(), "a stale approval task completed without a decision");
                Ok(DecisionCheck::Allow { recorded: false })
            }
        }
        Err(error) => Ok(deny(format!("{}: {error}", error.code()))),
    }
}

/// Whether `level` of the request still waits for a decision.
async fn still_waiting(
    deps: &WorkerDeps,
    tenant: &TenantId,
    vars: &CompletionVariables,
    level: ApprovalLevel,
) -> Result<bool, JobError> {
    let mut tx = common_kernel::db::begin_read_for_tenant(&deps.db, tenant)
        .await
        .map_err(|e| technical(AppError::Database(e)))?;
    let request = deps
        .ports
        .requests
        .load(&mut tx, tenant, vars.request.approval_request_id)
        .await
        .map_err(|e| technical(e.into()))?;
    Ok(request.is_some_and(|r| {
        r.status() == ApprovalStatus::Pending && r.chain().current().map(|l| l.level) == Some(level)
    }))
}

/// The listener's handler: [`check_decision`] answered as the engine expects (allow, or deny
/// with the refusal's code and message for the person who tried).
pub fn handler(deps: std::sync::Arc<WorkerDeps>) -> impl workflow_runtime::JobHandler {
    workflow_runtime::listener(move |job: JobContext, vars: CompletionVariables| {
        let deps = std::sync::Arc::clone(&deps);
        async move {
            Ok(match check_decision(&deps, &job, vars).await? {
                DecisionCheck::Allow { .. } => workflow_runtime::ListenerVerdict::Allow,
                DecisionCheck::Deny { reason } => workflow_runtime::ListenerVerdict::deny(reason),
            })
        }
    })
}
