//! Reassign: someone working approval tasks moves a level not yet decided to other groups,
//! with a reason → `approval.escalated.v1` (kind REASSIGNED_BY_HAND).
//!
//! Permission WorkUserTasks (approvers and operators, as in Tasklist).

use chrono::{DateTime, Utc};
use common_kernel::context::RequestContext;
use domain_kernel::access::Action;
use sqlx::PgConnection;

use super::error::AppResult;
use super::ports::Ports;
use super::{commit_change, db_now, lock_request};
use crate::domain::{ApprovalLevel, ApprovalRequest, ApprovalRequestId, Assignment, Reason};

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
