//! The operators' remaining views: the fallout queue, approval aging, the customer view, search,
//! the business metrics and the projections' own state. Authorized (`ViewOperations`) and run in
//! the caller's tenant.

use common_kernel::context::RequestContext;
use domain_kernel::access::Action;
use sqlx::PgConnection;

use super::AppError;
use super::queries::stuck_order_count;
use crate::domain::StuckThresholds;
use crate::infra::business_metrics::{self, HourRow, MetricRows};
use crate::infra::customers::{self, CustomerRows, SearchRow};
use crate::infra::queues::{self, FalloutFilter, FalloutGroupRow, FalloutRow, PendingApprovalRow};

/// The fallout queue and its groups.
pub async fn fallout_queue(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    filter: &FalloutFilter,
    limit: i64,
) -> Result<(Vec<FalloutRow>, Vec<FalloutGroupRow>), AppError> {
    ctx.authorize(Action::ViewOperations)?;
    Ok(queues::fallout_queue(conn, filter, limit).await?)
}

/// Approval requests waiting for a decision, longest first.
pub async fn approval_aging(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    limit: i64,
) -> Result<Vec<PendingApprovalRow>, AppError> {
    ctx.authorize(Action::ViewOperations)?;
    Ok(queues::pending_approvals(conn, limit).await?)
}

/// A customer's quotes, orders and installed products.
pub async fn customer(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    customer_id: &str,
    limit: i64,
) -> Result<CustomerRows, AppError> {
    ctx.authorize(Action::ViewOperations)?;
    Ok(customers::customer(conn, customer_id, limit).await?)
}

/// Exact matches of a customer, quote, order or external reference.
pub async fn search(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    term: &str,
    limit: i64,
) -> Result<Vec<SearchRow>, AppError> {
    ctx.authorize(Action::ViewOperations)?;
    Ok(customers::search(conn, term.trim(), limit).await?)
}

/// The business metrics of the caller's tenant, with its stuck orders counted under
/// `thresholds`, and the last 24 hours.
pub async fn business_metrics(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    thresholds: &StuckThresholds,
) -> Result<(MetricRows, i64, Vec<HourRow>), AppError> {
    ctx.authorize(Action::ViewOperations)?;
    let tenant = ctx.tenant_id.as_str();
    let rows = business_metrics::compute(&mut *conn, tenant).await?;
    let stuck = stuck_order_count(&mut *conn, ctx, thresholds).await?;
    let hours = business_metrics::hourly(conn, tenant).await?;
    Ok((rows, stuck, hours))
}
