//! Application layer: one module per use case. Each command checks the caller's permission
//! first (ADR 0030), reads what it needs from the directory before any lock (ADR 0027), locks
//! the request, lets the aggregate decide, and writes rows, history, outbox event and audit
//! evidence in the caller's tenant-scoped transaction (`db::begin_for_tenant`), which the
//! caller commits (the HTTP layer through `CommandRunner::run_prepared`, jobs per batch).

pub mod decide;
pub mod delegate;
pub mod directory;
pub mod error;
pub mod escalate;
pub mod expire;
pub mod intake;
pub mod open_request;
pub mod payloads;
pub mod ports;
pub mod queries;
pub mod reassign;
pub mod recall;
pub mod recording;
pub mod supersede;
pub mod user_tasks;

use chrono::{DateTime, SubsecRound, Utc};
use common_kernel::context::RequestContext;
use sqlx::PgConnection;

use crate::domain::{ApprovalEvent, ApprovalRequest, ApprovalRequestId};
use error::{AppError, AppResult};
use ports::Ports;

/// The current time at the database's precision (microseconds), so a request built in memory
/// equals the same request read back.
pub fn db_now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Locks the tenant's request for the rest of the transaction.
pub async fn lock_request(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    id: ApprovalRequestId,
) -> AppResult<ApprovalRequest> {
    ports
        .requests
        .lock(conn, &ctx.tenant_id, id)
        .await?
        .ok_or(AppError::NotFound(id))
}

/// Saves what `event` changed and publishes its outbox event and audit evidence.
pub async fn commit_change(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    request: &ApprovalRequest,
    event: &ApprovalEvent,
) -> AppResult<()> {
    ports.requests.save(conn, ctx, request, event).await?;
    recording::publish(conn, ctx, request, event).await
}
