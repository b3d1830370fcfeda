//! Reassign: someone working approval tasks moves a level not yet decided to other groups,
//! with a reason → `approval.escalated.v1` (kind REASSIGNED_BY_HAND).
//!
//! Permission WorkUserTasks (approvers and operators, as in Tasklist).

use chrono::{DateTime, Utc};
use common_kernel::context::RequestContext;
use domain_kernel::access::Action;
use sqlx::PgConnection;

use super::error::{AppError, AppResult};
use super::ports::Ports;
use super::{commit_change, db_now, lock_request};
use crate::domain::{
    ApprovalError, ApprovalLevel, ApprovalRequest, ApprovalRequestId, Assignment, Reason,
};

/// A reassignment.
#[derive(Debug, Clone)]
pub struct ReassignInput {
    /// The request.
    pub request_id: ApprovalRequestId,
    /// The level moved.
    pub level: ApprovalLevel,
    /// The new assignment.
    pub to: Assignment,
    /// The level's new due date.
    pub due: DateTime<Utc>,
    /// Why.
    pub reason: Reason,
}

/// Reassigns the level.
#[tracing::instrument(skip_all, fields(request = %input.request_id), err(level = "info"))]
pub async fn execute(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    input: ReassignInput,
) -> AppResult<ApprovalRequest> {
    ctx.authorize(Action::WorkUserTasks)?;
    let mut request = lock_request(conn, ports, ctx, input.request_id).await?;
    let event = request.reassign(
        ctx.actor.actor_id.clone(),
        input.level,
        input.to,
        input.due,
        input.reason,
        db_now(),
    )?;
    commit_change(conn, ports, ctx, &request, &event).await?;
    Ok(request)
}

/// A reassignment whose due date may be left as it is.
#[derive(Debug, Clone)]
pub struct ReassignLevel {
    /// The request.
    pub request_id: ApprovalRequestId,
    /// The level moved.
    pub level: ApprovalLevel,
    /// The new assignment.
    pub to: Assignment,
    /// The level's new due date; `None` keeps the current one.
    pub due: Option<DateTime<Utc>>,
    /// Why.
    pub reason: Reason,
}

/// Reassigns the level like [`execute`]; without a due date the level keeps the one it has,
/// read under the request's lock.
pub async fn execute_keeping_due(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    asked: ReassignLevel,
) -> AppResult<ApprovalRequest> {
    ctx.authorize(Action::WorkUserTasks)?;
    let due = match asked.due {
        Some(due) => due,
        None => lock_request(conn, ports, ctx, asked.request_id)
            .await?
            .chain()
            .level(asked.level)
            .map(|l| l.due)
            .ok_or(AppError::Refused(ApprovalError::LevelNotInChain(
                asked.level,
            )))?,
    };
    let input = ReassignInput {
        request_id: asked.request_id,
        level: asked.level,
        to: asked.to,
        due,
        reason: asked.reason,
    };
    execute(conn, ports, ctx, input).await
}
