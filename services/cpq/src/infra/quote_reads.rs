//! Reading quotes: the root, then the current revision's items, snapshot, overrides and (once
//! converted) the conversion; the snapshot and overrides are only read when the revision is
//! priced.

use sqlx::PgConnection;
use uuid::Uuid;

use super::quote_rows::{
    ConversionRow, ITEM_COLUMNS, ItemRow, OverrideRow, QUOTE_COLUMNS, QuoteRow, SnapshotRow,
    StoredQuote,
};

/// How a root is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locking {
    /// A plain read.
    None,
    /// `FOR UPDATE`: commands on one quote run one after the other.
    ForUpdate,
}

/// The root of a tenant's quote.
pub async fn root(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
    locking: Locking,
) -> Result<Option<QuoteRow>, sqlx::Error> {
    let lock = match locking {
        Locking::None => "",
        Locking::ForUpdate => " FOR UPDATE",
    };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {QUOTE_COLUMNS} FROM quote WHERE tenant_id = $1 AND quote_id = $2{lock}"
    )))
    .bind(tenant)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The rows of the root's current revision.
pub async fn revision(conn: &mut PgConnection, root: QuoteRow) -> Result<StoredQuote, sqlx::Error> {
    let (id, revision) = (root.quote_id, root.revision);
    let items = items(conn, id, revision).await?;
    let priced = root.pricing_state != "NOT_PRICED";
    let snapshot = if priced {
        sqlx::query_as::<_, SnapshotRow>(
            "SELECT price_hash, trace_hash, one_time_total, result, trace, frozen, priced_at, priced_by \
             FROM quote_price_snapshot WHERE quote_id = $1 AND revision = $2",
        )
        .bind(id)
        .bind(revision)
        .fetch_optional(&mut *conn)
        .await?
    } else {
        None
    };
    let overrides = if priced {
        sqlx::query_as::<_, OverrideRow>(
            "SELECT item_id, charge, original_price, new_price, actor_id, actor_type, reason, created_at \
             FROM quote_price_override WHERE quote_id = $1 AND revision = $2 ORDER BY item_id, charge",
        )
        .bind(id)
        .bind(revision)
        .fetch_all(&mut *conn)
        .await?
    } else {
        Vec::new()
    };
    let conversion = if root.status == "CONVERTED" {
        sqlx::query_as::<_, ConversionRow>(
            "SELECT order_id, revision, price_hash, snapshot, converted_at, converted_by \
             FROM quote_conversion WHERE quote_id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    } else {
        None
    };
    Ok(StoredQuote {
        root,
        items,
        snapshot,
        overrides,
        conversion,
    })
}

/// Items of a revision in request order.
pub async fn items(
    conn: &mut PgConnection,
    quote_id: Uuid,
    revision: i32,
) -> Result<Vec<ItemRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ITEM_COLUMNS} FROM quote_item WHERE quote_id = $1 AND revision = $2 ORDER BY position"
    )))
    .bind(quote_id)
    .bind(revision)
    .fetch_all(conn)
    .await
}

/// Roots of up to `limit` quotes whose validity ended and that can still expire, locked;
/// quotes another expiry run holds are skipped.
pub async fn expired_roots(
    conn: &mut PgConnection,
    limit: i64,
) -> Result<Vec<QuoteRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {QUOTE_COLUMNS} FROM quote WHERE valid_until <= now() \
         AND status IN ('DRAFT', 'CONFIGURED', 'PRICED', 'SUBMITTED', 'APPROVAL_PENDING', 'APPROVED', 'REJECTED') \
         ORDER BY valid_until LIMIT $1 FOR UPDATE SKIP LOCKED"
    )))
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// A page of the tenant's roots, newest first, with the total count.
pub async fn list(
    conn: &mut PgConnection,
    tenant: &str,
    status: Option<&str>,
    customer_id: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<QuoteRow>, i64), sqlx::Error> {
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM quote WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2) \
         AND ($3::text IS NULL OR customer_id = $3)",
    )
    .bind(tenant)
    .bind(status)
    .bind(customer_id)
    .fetch_one(&mut *conn)
    .await?;
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {QUOTE_COLUMNS} FROM quote WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2) \
         AND ($3::text IS NULL OR customer_id = $3) ORDER BY created_at DESC, quote_id DESC LIMIT $4 OFFSET $5"
    )))
    .bind(tenant)
    .bind(status)
    .bind(customer_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?;
    Ok((rows, total))
}
