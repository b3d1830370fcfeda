//! Escalate: the escalation timer of an overdue level fired (a reminder first, then the next
//! group of its escalation path) → `approval.escalated.v1`.
//!
//! Permission RunWorkflowStep: the job worker's own context (role workflow-worker), or an
//! operator by hand.

use chrono::{DateTime, Utc};
use common_kernel::context::RequestContext;
use domain_kernel::access::Action;
use sqlx::PgConnection;

use super::error::AppResult;
use super::ports::Ports;
use super::{commit_change, db_now, lock_request};
use crate::domain::{ApprovalRequest, ApprovalRequestId};

/// Escalates the request's open level; `next_due` is its new due date.
#[tracing::instrument(skip_all, fields(request = %id), err(level = "info"))]
pub async fn execute(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    id: ApprovalRequestId,
    next_due: DateTime<Utc>,
) -> AppResult<ApprovalRequest> {
    ctx.authorize(Action::RunWorkflowStep)?;
    let mut request = lock_request(conn, ports, ctx, id).await?;
    let event = request.escalate(db_now(), next_due)?;
    commit_change(conn, ports, ctx, &request, &event).await?;
    Ok(request)
}
