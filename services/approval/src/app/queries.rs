//! Read use cases: a request by id (alone, or with its evidence: history and process instance),
//! a quote's requests, and open tasks (for groups, or for the caller through the approver
//! directory). Each checks its permission like a command.

use common_kernel::context::RequestContext;
use domain_kernel::access::Action;
use sqlx::PgConnection;

use super::error::{AppError, AppResult};
use super::ports::{HistoryEntry, OpenTask, Ports};
use crate::domain::{ApprovalRequest, ApprovalRequestId, GroupId, QuoteId};

/// The request `id`.
pub async fn find(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    id: ApprovalRequestId,
) -> AppResult<ApprovalRequest> {
    ctx.authorize(Action::ViewQuote)?;
    ports
        .requests
        .load(conn, &ctx.tenant_id, id)
        .await?
        .ok_or(AppError::NotFound(id))
}

/// A request with everything its evidence shows besides the aggregate.
#[derive(Debug, Clone)]
pub struct RequestEvidence {
    /// The request: snapshot, chain, decisions, escalations.
    pub request: ApprovalRequest,
    /// The engine's process instance running it, once linked.
    pub process_instance_key: Option<i64>,
    /// Every transition, oldest first.
    pub history: Vec<HistoryEntry>,
}

/// The evidence of an aggregate already read (by a query, or by a command in its transaction).
pub async fn evidence_of(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    request: ApprovalRequest,
) -> AppResult<RequestEvidence> {
    let process_instance_key = ports
        .requests
        .process_instance_key(conn, &ctx.tenant_id, request.id())
        .await?;
    let history = ports
        .requests
        .history(conn, &ctx.tenant_id, request.id())
        .await?;
    Ok(RequestEvidence {
        request,
        process_instance_key,
        history,
    })
}

/// The request `id` with its evidence.
pub async fn find_with_evidence(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    id: ApprovalRequestId,
) -> AppResult<RequestEvidence> {
    let request = find(conn, ports, ctx, id).await?;
    evidence_of(conn, ports, ctx, request).await
}

/// Every request of a quote, newest first.
pub async fn by_quote(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    quote: QuoteId,
) -> AppResult<Vec<ApprovalRequest>> {
    ctx.authorize(Action::ViewQuote)?;
    Ok(ports
        .requests
        .by_quote(conn, &ctx.tenant_id, quote, false)
        .await?)
}

/// Open tasks of candidate `groups`, soonest due first.
pub async fn tasks_of_groups(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    groups: &[GroupId],
    limit: i64,
) -> AppResult<Vec<OpenTask>> {
    ctx.authorize(Action::WorkUserTasks)?;
    Ok(ports
        .requests
        .open_tasks(conn, &ctx.tenant_id, groups, limit)
        .await?)
}

/// Open tasks the caller may take: those of the groups the directory puts them in.
pub async fn my_tasks(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    limit: i64,
) -> AppResult<Vec<OpenTask>> {
    ctx.authorize(Action::WorkUserTasks)?;
    let groups = ports
        .directory
        .groups_of(&ctx.tenant_id, &ctx.actor.actor_id)
        .await?;
    Ok(ports
        .requests
        .open_tasks(conn, &ctx.tenant_id, &groups, limit)
        .await?)
}
