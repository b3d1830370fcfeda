//! The read side: one order whole (items, tasks, fallout), lists of orders by quote, customer
//! and status, a product instance with its history, a customer's installed base and
//! subscriptions. Reads run in the caller's tenant (row-level security) and change nothing.

use common_kernel::context::RequestContext;
use domain_kernel::access::Action;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::app::error::AppError;
use crate::domain::Fallout;
use crate::domain::{
    CustomerId, Order, OrderId, OrderStatus, ProductInstance, ProductInstanceId, QuoteId,
    Subscription,
};
use crate::infra::fallout;
use crate::infra::installed_base::{self, HistoryRow, References};
use crate::infra::orders;

/// An order with what the API shows beside it.
#[derive(Debug, Clone)]
pub struct OrderDetail {
    /// The aggregate.
    pub order: Order,
    /// Its fallout records.
    pub fallouts: Vec<Fallout>,
    /// When it was captured.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it completed.
    pub completed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The process instance fulfilling it, once started.
    pub process_instance_key: Option<i64>,
}

/// One order, whole.
pub async fn order(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: OrderId,
) -> Result<OrderDetail, AppError> {
    ctx.authorize(Action::ViewOrder)?;
    let order = orders::load(&mut *conn, id, false)
        .await?
        .ok_or(AppError::OrderNotFound(id))?;
    let row = sqlx::query(
        "SELECT o.created_at, o.completed_at, p.process_instance_key FROM customer_order o \
         LEFT JOIN LATERAL (SELECT process_instance_key FROM order_process p \
             WHERE p.tenant_id = o.tenant_id AND p.order_id = o.order_id ORDER BY run DESC LIMIT 1) p ON true \
         WHERE o.order_id = $1",
    )
    .bind(id.as_uuid())
    .fetch_one(&mut *conn)
    .await?;
    Ok(OrderDetail {
        fallouts: fallout::of_order(&mut *conn, id).await?,
        created_at: row.try_get("created_at")?,
        completed_at: row.try_get("completed_at")?,
        process_instance_key: row.try_get("process_instance_key")?,
        order,
    })
}

/// The filters of the order list.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    /// Orders of this quote.
    pub quote: Option<QuoteId>,
    /// Orders of this customer.
    pub customer: Option<CustomerId>,
    /// Orders in this status.
    pub status: Option<OrderStatus>,
    /// Keyset cursor: orders created before this order (newest first).
    pub before: Option<OrderId>,
    /// Page size.
    pub limit: i64,
}

/// Orders matching `filter`, newest first.
pub async fn list(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    filter: &OrderFilter,
) -> Result<Vec<Order>, AppError> {
    ctx.authorize(Action::ViewOrder)?;
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT o.order_id FROM customer_order o \
         WHERE ($1::uuid IS NULL OR o.quote_id = $1) AND ($2::text IS NULL OR o.customer_id = $2) \
           AND ($3::text IS NULL OR o.status = $3) \
           AND ($4::uuid IS NULL OR (o.created_at, o.order_id) < \
                (SELECT c.created_at, c.order_id FROM customer_order c WHERE c.order_id = $4)) \
         ORDER BY o.created_at DESC, o.order_id DESC LIMIT $5",
    )
    .bind(filter.quote.map(|q| q.as_uuid()))
    .bind(filter.customer.as_ref().map(CustomerId::as_str))
    .bind(filter.status.map(|s| s.as_str()))
    .bind(filter.before.map(|b| b.as_uuid()))
    .bind(filter.limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(order) = orders::load(&mut *conn, OrderId::from_uuid(id), false).await? {
            out.push(order);
        }
    }
    Ok(out)
}

/// A product instance with its references and history.
pub async fn asset(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: ProductInstanceId,
) -> Result<(ProductInstance, References, Vec<HistoryRow>), AppError> {
    ctx.authorize(Action::ViewOrder)?;
    let (instance, references) = installed_base::load(&mut *conn, id, false)
        .await?
        .ok_or(AppError::AssetNotFound(id))?;
    let history = installed_base::history(&mut *conn, id).await?;
    Ok((instance, references, history))
}

/// A customer's installed base.
pub async fn assets(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    customer: &CustomerId,
    limit: i64,
) -> Result<Vec<(ProductInstance, References)>, AppError> {
    ctx.authorize(Action::ViewOrder)?;
    installed_base::list_for_customer(conn, customer, limit).await
}

/// A customer's subscriptions.
pub async fn subscriptions(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    customer: &CustomerId,
    limit: i64,
) -> Result<Vec<Subscription>, AppError> {
    ctx.authorize(Action::ViewOrder)?;
    installed_base::subscriptions_for_customer(conn, customer, limit).await
}
