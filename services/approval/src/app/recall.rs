//! Recall: the submitter withdraws a PENDING request with a reason → CANCELLED.
//!
//! Permission SubmitQuote (who submits withdraws); the aggregate checks that the caller is the
//! submitter. History RECALL and audit evidence; no integration event yet (no contract).

use common_kernel::context::RequestContext;
use domain_kernel::access::Action;
use sqlx::PgConnection;

use super::error::AppResult;
use super::ports::Ports;
use super::{commit_change, db_now, lock_request};
use crate::domain::{ApprovalRequest, ApprovalRequestId, Reason};

/// Recalls the request.
#[tracing::instrument(skip_all, fields(request = %id), err(level = "info"))]
pub async fn execute(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    id: ApprovalRequestId,
    reason: Reason,
) -> AppResult<ApprovalRequest> {
    ctx.authorize(Action::SubmitQuote)?;
    let mut request = lock_request(conn, ports, ctx, id).await?;
    let event = request.recall(ctx.actor.actor_id.clone(), reason, db_now())?;
    commit_change(conn, ports, ctx, &request, &event).await?;
    Ok(request)
}
