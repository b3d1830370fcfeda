//! The operators' views: an order's or a quote's timeline, and the stuck orders.

use chrono::{DateTime, Utc};
use common_kernel::context::RequestContext;
use domain_kernel::access::Action;
use sqlx::PgConnection;
use uuid::Uuid;

use super::AppError;
use crate::domain::{StuckThresholds, TERMINAL_ORDER_STATUSES};
use crate::infra::reads::{self as store, StuckPredicate, StuckRow, Subject, TimelineRow};

/// A page of a timeline.
pub async fn timeline(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    subject: Subject<'_>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<TimelineRow>, AppError> {
    ctx.authorize(Action::ViewOperations)?;
    Ok(store::timeline(conn, subject, after, limit).await?)
}

/// The stuck orders under `thresholds`, oldest progress first.
pub async fn stuck_orders(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    thresholds: &StuckThresholds,
    limit: i64,
) -> Result<Vec<StuckRow>, AppError> {
    ctx.authorize(Action::ViewOperations)?;
    let named = named_thresholds(thresholds);
    Ok(store::stuck(conn, predicate(thresholds, &named), limit).await?)
}

/// How many orders are stuck under `thresholds` (what [`stuck_orders`] would list unbounded).
pub async fn stuck_order_count(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    thresholds: &StuckThresholds,
) -> Result<i64, AppError> {
    ctx.authorize(Action::ViewOperations)?;
    let named = named_thresholds(thresholds);
    Ok(store::stuck_count(conn, predicate(thresholds, &named)).await?)
}

fn named_thresholds(thresholds: &StuckThresholds) -> Vec<(String, f64)> {
    thresholds
        .named()
        .map(|(status, after)| (status.to_owned(), after.as_secs_f64()))
        .collect()
}

fn predicate<'a>(thresholds: &StuckThresholds, named: &'a [(String, f64)]) -> StuckPredicate<'a> {
    StuckPredicate {
        terminal: TERMINAL_ORDER_STATUSES,
        thresholds: named,
        default_seconds: thresholds.default_threshold().as_secs_f64(),
    }
}
