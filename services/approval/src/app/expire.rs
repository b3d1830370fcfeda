//! Expire: PENDING requests of the caller's tenant whose time is over → EXPIRED (they then
//! never approve), in one transaction per batch. A request another transaction decided
//! meanwhile is re-checked under its lock and skipped when no longer due.
//!
//! Permission RunWorkflowStep (see `escalate`). Audit evidence and `approval.expired.v1` per
//! request.

use common_kernel::context::RequestContext;
use domain_kernel::access::Action;
use sqlx::PgConnection;

use super::error::AppResult;
use super::ports::Ports;
use super::{commit_change, db_now, lock_request};
use crate::domain::{ApprovalRequestId, ApprovalStatus};

/// Expires up to `limit` due requests; returns those expired.
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn execute(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    limit: i64,
) -> AppResult<Vec<ApprovalRequestId>> {
    ctx.authorize(Action::RunWorkflowStep)?;
    let now = db_now();
    let due = ports
        .requests
        .due_for_expiry(conn, &ctx.tenant_id, now, limit)
        .await?;
    let mut expired = Vec::with_capacity(due.len());
    for id in due {
        let mut request = lock_request(conn, ports, ctx, id).await?;
        if request.status() != ApprovalStatus::Pending || request.expires_at() > now {
            continue;
        }
        let event = request.expire(now)?;
        commit_change(conn, ports, ctx, &request, &event).await?;
        expired.push(id);
    }
    Ok(expired)
}
