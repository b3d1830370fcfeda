//! Reads for operators and the order service: the external call log and the operations with
//! the state they wait in. Every read runs in the caller's tenant (row-level security) after
//! the permission check.

use common_kernel::context::RequestContext;
use domain_kernel::access::Action;
use sqlx::PgConnection;

use super::AppError;
use crate::domain::key::OrderId;
use crate::domain::{IdempotencyKey, OperationStatus};
use crate::infra::call_log::{self, CallFilter, LoggedCall};
use crate::infra::operations::{self, StoredOperation};

/// A page of the call log.
pub async fn calls(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    filter: &CallFilter,
) -> Result<Vec<LoggedCall>, AppError> {
    ctx.authorize(Action::ViewOperations)?;
    call_log::list(conn, filter).await
}

/// One operation by its key.
pub async fn operation(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    key: &str,
) -> Result<StoredOperation, AppError> {
    ctx.authorize(Action::ViewOperations)?;
    let key = IdempotencyKey::parse(key)?;
    operations::find_by_key(conn, &key)
        .await?
        .ok_or_else(|| AppError::NotFound(key.to_string()))
}

/// Operations of an order, or in a status.
pub async fn operations(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    order_id: Option<OrderId>,
    status: Option<OperationStatus>,
    limit: i64,
) -> Result<Vec<StoredOperation>, AppError> {
    ctx.authorize(Action::ViewOperations)?;
    operations::list(conn, order_id, status, limit).await
}
