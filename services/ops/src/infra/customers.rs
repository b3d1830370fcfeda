//! The customer view (quotes, orders, installed products) and search by customer, quote, order
//! or a downstream system's reference. Always the current generation (ADR 0046).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// A quote of a customer.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CustomerQuoteRow {
    /// The quote.
    pub quote_id: String,
    /// Its status.
    pub status: String,
    /// Created at.
    pub created_at: Option<DateTime<Utc>>,
    /// The order it became, if any.
    pub order_id: Option<String>,
}

/// An order of a customer.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CustomerOrderRow {
    /// The order.
    pub order_id: String,
    /// Its status.
    pub status: String,
    /// The quote it came from.
    pub quote_id: Option<String>,
    /// Created at.
    pub created_at: Option<DateTime<Utc>>,
    /// Completed at.
    pub completed_at: Option<DateTime<Utc>>,
}

/// A product instance of a customer.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CustomerAssetRow {
    /// The instance.
    pub product_instance_id: String,
    /// The order that installed it.
    pub order_id: String,
    /// Its offering.
    pub offering_id: String,
    /// Its item's status as the order ended.
    pub status: String,
}

/// Everything projected about one customer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CustomerRows {
    /// Quotes, newest first.
    pub quotes: Vec<CustomerQuoteRow>,
    /// Orders, newest first.
    pub orders: Vec<CustomerOrderRow>,
    /// Installed products.
    pub assets: Vec<CustomerAssetRow>,
}

/// The customer's quotes, orders and installed products (at most `limit` of each).
pub async fn customer(
    conn: &mut PgConnection,
    customer_id: &str,
    limit: i64,
) -> Result<CustomerRows, sqlx::Error> {
    let quotes = sqlx::query_as(
        "SELECT q.quote_id, q.status, q.created_at, o.order_id \
           FROM quote_view q LEFT JOIN LATERAL (SELECT order_id FROM order_view v \
                WHERE v.generation = q.generation AND v.tenant_id = q.tenant_id AND v.quote_id = q.quote_id \
                ORDER BY v.first_seen_at, v.order_id LIMIT 1) o ON true \
          WHERE q.generation = (SELECT generation FROM projection_state) AND q.customer_id = $1 \
          ORDER BY q.first_seen_at DESC, q.quote_id LIMIT $2",
    )
    .bind(customer_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let orders = sqlx::query_as(
        "SELECT order_id, status, quote_id, created_at, completed_at FROM order_view \
          WHERE generation = (SELECT generation FROM projection_state) AND customer_id = $1 \
          ORDER BY first_seen_at DESC, order_id LIMIT $2",
    )
    .bind(customer_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let assets = sqlx::query_as(
        "SELECT product_instance_id, order_id, offering_id, status FROM asset_view \
          WHERE generation = (SELECT generation FROM projection_state) AND customer_id = $1 \
          ORDER BY product_instance_id LIMIT $2",
    )
    .bind(customer_id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(CustomerRows {
        quotes,
        orders,
        assets,
    })
}

/// One search hit.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SearchRow {
    /// ORDER, QUOTE, CUSTOMER or EXTERNAL_REFERENCE.
    pub kind: String,
    /// What matched: the order, quote or customer id, or the reference.
    pub id: String,
    /// The order concerned.
    pub order_id: Option<String>,
    /// The quote concerned.
    pub quote_id: Option<String>,
    /// The customer concerned.
    pub customer_id: Option<String>,
    /// The order's or quote's status.
    pub status: Option<String>,
}

/// Exact matches of `term` as an order id, a quote id, a customer id or an external reference.
pub async fn search(
    conn: &mut PgConnection,
    term: &str,
    limit: i64,
) -> Result<Vec<SearchRow>, sqlx::Error> {
    sqlx::query_as(
        "WITH g AS (SELECT generation FROM projection_state) \
         (SELECT 'ORDER' AS kind, order_id AS id, order_id, quote_id, customer_id, status \
            FROM order_view, g WHERE order_view.generation = g.generation AND order_id = $1) \
         UNION ALL \
         (SELECT 'QUOTE', quote_id, NULL, quote_id, customer_id, status \
            FROM quote_view, g WHERE quote_view.generation = g.generation AND quote_id = $1) \
         UNION ALL \
         (SELECT 'CUSTOMER', $1, NULL, NULL, $1, NULL FROM g WHERE \
            EXISTS (SELECT 1 FROM quote_view q WHERE q.generation = g.generation AND q.customer_id = $1) \
            OR EXISTS (SELECT 1 FROM order_view o WHERE o.generation = g.generation AND o.customer_id = $1)) \
         UNION ALL \
         (SELECT DISTINCT 'EXTERNAL_REFERENCE', p.external_reference, p.order_id, NULL, o.customer_id, o.status \
            FROM projected_event p JOIN g ON p.generation = g.generation \
            LEFT JOIN order_view o ON o.generation = p.generation AND o.tenant_id = p.tenant_id \
                 AND o.order_id = p.order_id \
           WHERE p.external_reference = $1) \
         LIMIT $2",
    )
    .bind(term)
    .bind(limit)
    .fetch_all(conn)
    .await
}
