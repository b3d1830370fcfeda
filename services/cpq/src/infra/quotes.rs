//! Quote storage: explicit SQL over `cpq_schema`, every function taking the caller's
//! connection so the command handler owns the transaction. Rows are storage shapes; the
//! application maps them to views and domain inputs.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// A stored quote root.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QuoteRow {
    /// Id.
    pub quote_id: Uuid,
    /// Tenant.
    pub tenant_id: String,
    /// Customer (immutable).
    pub customer_id: String,
    /// Currency.
    pub currency: String,
    /// Quote status.
    pub status: String,
    /// Current revision.
    pub revision: i32,
    /// End of validity (exclusive).
    pub valid_until: DateTime<Utc>,
    /// Optimistic-concurrency version.
    pub aggregate_version: i64,
    /// Pinned price book.
    pub price_book_id: Uuid,
    /// Pinned price book version.
    pub price_book_version: i32,
    /// Pricing state of the current revision.
    pub pricing_state: String,
    /// Hash of the current price snapshot.
    pub price_hash: Option<String>,
    /// Hash the approval covers.
    pub approved_price_hash: Option<String>,
    /// When approved.
    pub approved_at: Option<DateTime<Utc>>,
    /// Who approved (policy or approver).
    pub approved_by: Option<String>,
    /// The policy evaluation of the last submit.
    pub policy_snapshot: Option<Value>,
    /// When accepted.
    pub accepted_at: Option<DateTime<Utc>>,
    /// Who accepted.
    pub accepted_by: Option<String>,
    /// Through which channel.
    pub acceptance_channel: Option<String>,
    /// Customer's reference (PO number, signature id).
    pub acceptance_reference: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Creator.
    pub created_by: String,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

const QUOTE_COLUMNS: &str = "quote_id, tenant_id, customer_id, currency, status, revision, valid_until, aggregate_version, \
    price_book_id, price_book_version, pricing_state, price_hash, approved_price_hash, approved_at, approved_by, \
    policy_snapshot, accepted_at, accepted_by, acceptance_channel, acceptance_reference, created_at, created_by, updated_at";

/// Inserts a new quote root.
pub async fn insert(conn: &mut PgConnection, row: &QuoteRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO quote (quote_id, tenant_id, customer_id, currency, status, revision, valid_until, aggregate_version, \
         price_book_id, price_book_version, pricing_state, created_at, created_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $12)",
    )
    .bind(row.quote_id)
    .bind(&row.tenant_id)
    .bind(&row.customer_id)
    .bind(&row.currency)
    .bind(&row.status)
    .bind(row.revision)
    .bind(row.valid_until)
    .bind(row.aggregate_version)
    .bind(row.price_book_id)
    .bind(row.price_book_version)
    .bind(&row.pricing_state)
    .bind(row.created_at)
    .bind(&row.created_by)
    .execute(conn)
    .await?;
    Ok(())
}

/// Reads a quote of the tenant.
pub async fn get(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
) -> Result<Option<QuoteRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {QUOTE_COLUMNS} FROM quote WHERE tenant_id = $1 AND quote_id = $2"
    )))
    .bind(tenant)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Reads and locks a quote of the tenant for the rest of the transaction: every command on one
/// quote runs one after the other.
pub async fn lock(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
) -> Result<Option<QuoteRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {QUOTE_COLUMNS} FROM quote WHERE tenant_id = $1 AND quote_id = $2 FOR UPDATE"
    )))
    .bind(tenant)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Lists the tenant's quotes, newest first, with the total count.
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

/// Writes every mutable column of a (locked) quote; the caller has already applied the
/// transition and bumped `aggregate_version`.
pub async fn update(conn: &mut PgConnection, row: &QuoteRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE quote SET status = $2, revision = $3, aggregate_version = $4, pricing_state = $5, price_hash = $6, \
         approved_price_hash = $7, approved_at = $8, approved_by = $9, policy_snapshot = $10, accepted_at = $11, \
         accepted_by = $12, acceptance_channel = $13, acceptance_reference = $14 WHERE quote_id = $1",
    )
    .bind(row.quote_id)
    .bind(&row.status)
    .bind(row.revision)
    .bind(row.aggregate_version)
    .bind(&row.pricing_state)
    .bind(&row.price_hash)
    .bind(&row.approved_price_hash)
    .bind(row.approved_at)
    .bind(&row.approved_by)
    .bind(&row.policy_snapshot)
    .bind(row.accepted_at)
    .bind(&row.accepted_by)
    .bind(&row.acceptance_channel)
    .bind(&row.acceptance_reference)
    .execute(conn)
    .await?;
    Ok(())
}

/// A stored quote item of one revision.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemRow {
    /// Item id, unique within the revision.
    pub item_id: String,
    /// Position in the request.
    pub position: i32,
    /// Offering.
    pub offering_id: Uuid,
    /// Pinned offering version.
    pub offering_version: i32,
    /// Units.
    pub quantity: i64,
    /// Commitment term.
    pub term_months: Option<i32>,
    /// Seller's line discount, percent.
    pub discount_percent: Option<Decimal>,
    /// Characteristic values as sent (object by name).
    pub characteristics: Value,
    /// Parent item (add-ons).
    pub parent_item_id: Option<String>,
    /// Configuration state.
    pub configuration_status: String,
    /// Configuration hash of a valid item.
    pub configuration_hash: Option<String>,
    /// Resolved configuration of a valid item.
    pub configuration: Option<Value>,
    /// Violations of an invalid item.
    pub violations: Value,
}

/// Items of a revision in request order.
pub async fn items(
    conn: &mut PgConnection,
    quote_id: Uuid,
    revision: i32,
) -> Result<Vec<ItemRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT item_id, position, offering_id, offering_version, quantity, term_months, discount_percent, characteristics, \
         parent_item_id, configuration_status, configuration_hash, configuration, violations \
         FROM quote_item WHERE quote_id = $1 AND revision = $2 ORDER BY position",
    )
    .bind(quote_id)
    .bind(revision)
    .fetch_all(conn)
    .await
}

/// Replaces the items of a revision: one DELETE and one INSERT over UNNESTed arrays, however
/// many items there are.
pub async fn replace_items(
    conn: &mut PgConnection,
    quote_id: Uuid,
    revision: i32,
    items: &[ItemRow],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM quote_item WHERE quote_id = $1 AND revision = $2")
        .bind(quote_id)
        .bind(revision)
        .execute(&mut *conn)
        .await?;
    if items.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = items.iter().map(|i| i.item_id.as_str()).collect();
    let positions: Vec<i32> = items.iter().map(|i| i.position).collect();
    let offerings: Vec<Uuid> = items.iter().map(|i| i.offering_id).collect();
    let versions: Vec<i32> = items.iter().map(|i| i.offering_version).collect();
    let quantities: Vec<i64> = items.iter().map(|i| i.quantity).collect();
    let terms: Vec<Option<i32>> = items.iter().map(|i| i.term_months).collect();
    let discounts: Vec<Option<Decimal>> = items.iter().map(|i| i.discount_percent).collect();
    let characteristics: Vec<&Value> = items.iter().map(|i| &i.characteristics).collect();
    let parents: Vec<Option<&str>> = items.iter().map(|i| i.parent_item_id.as_deref()).collect();
    let statuses: Vec<&str> = items
        .iter()
        .map(|i| i.configuration_status.as_str())
        .collect();
    let hashes: Vec<Option<&str>> = items
        .iter()
        .map(|i| i.configuration_hash.as_deref())
        .collect();
    let configurations: Vec<Option<&Value>> =
        items.iter().map(|i| i.configuration.as_ref()).collect();
    let violations: Vec<&Value> = items.iter().map(|i| &i.violations).collect();
    sqlx::query(
        "INSERT INTO quote_item (quote_id, revision, item_id, position, offering_id, offering_version, quantity, term_months, \
         discount_percent, characteristics, parent_item_id, configuration_status, configuration_hash, configuration, violations) \
         SELECT $1, $2, * FROM UNNEST($3::text[], $4::int4[], $5::uuid[], $6::int4[], $7::int8[], $8::int4[], $9::numeric[], \
         $10::jsonb[], $11::text[], $12::text[], $13::text[], $14::jsonb[], $15::jsonb[])",
    )
    .bind(quote_id)
    .bind(revision)
    .bind(ids)
    .bind(positions)
    .bind(offerings)
    .bind(versions)
    .bind(quantities)
    .bind(terms)
    .bind(discounts)
    .bind(characteristics)
    .bind(parents)
    .bind(statuses)
    .bind(hashes)
    .bind(configurations)
    .bind(violations)
    .execute(conn)
    .await?;
    Ok(())
}

/// Copies the items of one revision into the next (a revise starts from what was quoted).
pub async fn copy_items(
    conn: &mut PgConnection,
    quote_id: Uuid,
    from: i32,
    to: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO quote_item (quote_id, revision, item_id, position, offering_id, offering_version, quantity, term_months, \
         discount_percent, characteristics, parent_item_id, configuration_status, configuration_hash, configuration, violations) \
         SELECT quote_id, $3, item_id, position, offering_id, offering_version, quantity, term_months, discount_percent, \
         characteristics, parent_item_id, configuration_status, configuration_hash, configuration, violations \
         FROM quote_item WHERE quote_id = $1 AND revision = $2",
    )
    .bind(quote_id)
    .bind(from)
    .bind(to)
    .execute(conn)
    .await?;
    Ok(())
}

/// Freezes the configurations of a revision (acceptance).
pub async fn freeze_items(
    conn: &mut PgConnection,
    quote_id: Uuid,
    revision: i32,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE quote_item SET configuration_status = 'FROZEN' \
         WHERE quote_id = $1 AND revision = $2 AND configuration_status = 'VALID'",
    )
    .bind(quote_id)
    .bind(revision)
    .execute(conn)
    .await?;
    Ok(result.rows_affected())
}

/// A stored price snapshot.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SnapshotRow {
    /// Price hash.
    pub price_hash: String,
    /// Trace hash.
    pub trace_hash: String,
    /// The engine's result (lines, totals) without the trace.
    pub result: Value,
    /// The trace steps.
    pub trace: Value,
    /// Whether frozen.
    pub frozen: bool,
    /// When priced.
    pub priced_at: DateTime<Utc>,
    /// Who priced.
    pub priced_by: String,
}

/// What a pricing run stores.
#[derive(Debug, Clone)]
pub struct NewSnapshot<'a> {
    /// Price hash.
    pub price_hash: &'a str,
    /// Trace hash.
    pub trace_hash: &'a str,
    /// Currency.
    pub currency: &'a str,
    /// Price book.
    pub price_book_id: Uuid,
    /// Price book version.
    pub price_book_version: i32,
    /// One-time total.
    pub one_time_total: Decimal,
    /// Result without trace.
    pub result: &'a Value,
    /// Trace steps.
    pub trace: &'a Value,
    /// Who priced.
    pub priced_by: &'a str,
}

/// Stores (or replaces, while not frozen) the price snapshot of a revision.
pub async fn upsert_snapshot(
    conn: &mut PgConnection,
    quote_id: Uuid,
    revision: i32,
    snapshot: &NewSnapshot<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO quote_price_snapshot (quote_id, revision, price_hash, trace_hash, currency, price_book_id, \
         price_book_version, one_time_total, result, trace, priced_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (quote_id, revision) DO UPDATE SET price_hash = EXCLUDED.price_hash, trace_hash = EXCLUDED.trace_hash, \
         one_time_total = EXCLUDED.one_time_total, result = EXCLUDED.result, trace = EXCLUDED.trace, \
         priced_at = now(), priced_by = EXCLUDED.priced_by",
    )
    .bind(quote_id)
    .bind(revision)
    .bind(snapshot.price_hash)
    .bind(snapshot.trace_hash)
    .bind(snapshot.currency)
    .bind(snapshot.price_book_id)
    .bind(snapshot.price_book_version)
    .bind(snapshot.one_time_total)
    .bind(snapshot.result)
    .bind(snapshot.trace)
    .bind(snapshot.priced_by)
    .execute(conn)
    .await?;
    Ok(())
}

/// The price snapshot of a revision.
pub async fn snapshot(
    conn: &mut PgConnection,
    quote_id: Uuid,
    revision: i32,
) -> Result<Option<SnapshotRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT price_hash, trace_hash, result, trace, frozen, priced_at, priced_by FROM quote_price_snapshot \
         WHERE quote_id = $1 AND revision = $2",
    )
    .bind(quote_id)
    .bind(revision)
    .fetch_optional(conn)
    .await
}

/// Freezes the snapshot of a revision, only if it still has `price_hash`; returns whether it
/// did.
pub async fn freeze_snapshot(
    conn: &mut PgConnection,
    quote_id: Uuid,
    revision: i32,
    price_hash: &str,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE quote_price_snapshot SET frozen = true WHERE quote_id = $1 AND revision = $2 AND price_hash = $3 AND NOT frozen",
    )
    .bind(quote_id)
    .bind(revision)
    .bind(price_hash)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// A stored manual override.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OverrideRow {
    /// Item.
    pub item_id: String,
    /// Charge kind name.
    pub charge: String,
    /// The computed price it replaces.
    pub original_price: Decimal,
    /// The price that replaces it.
    pub new_price: Decimal,
    /// Who.
    pub actor_id: String,
    /// Why.
    pub reason: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Overrides of a revision, by item and charge.
pub async fn overrides(
    conn: &mut PgConnection,
    quote_id: Uuid,
    revision: i32,
) -> Result<Vec<OverrideRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT item_id, charge, original_price, new_price, actor_id, reason, created_at FROM quote_price_override \
         WHERE quote_id = $1 AND revision = $2 ORDER BY item_id, charge",
    )
    .bind(quote_id)
    .bind(revision)
    .fetch_all(conn)
    .await
}

/// Records (or replaces) the override of one charge of one item.
pub async fn upsert_override(
    conn: &mut PgConnection,
    quote_id: Uuid,
    revision: i32,
    currency: &str,
    row: &OverrideRow,
    actor_type: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO quote_price_override (quote_id, revision, item_id, charge, currency, original_price, new_price, \
         actor_id, actor_type, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (quote_id, revision, item_id, charge) DO UPDATE SET original_price = EXCLUDED.original_price, \
         new_price = EXCLUDED.new_price, actor_id = EXCLUDED.actor_id, actor_type = EXCLUDED.actor_type, \
         reason = EXCLUDED.reason, created_at = now()",
    )
    .bind(quote_id)
    .bind(revision)
    .bind(&row.item_id)
    .bind(&row.charge)
    .bind(currency)
    .bind(row.original_price)
    .bind(row.new_price)
    .bind(&row.actor_id)
    .bind(actor_type)
    .bind(&row.reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// A stored conversion.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConversionRow {
    /// Quote.
    pub quote_id: Uuid,
    /// The order it became.
    pub order_id: Uuid,
    /// Revision converted.
    pub revision: i32,
    /// Frozen price hash.
    pub price_hash: String,
    /// The full frozen snapshot.
    pub snapshot: Value,
    /// When.
    pub converted_at: DateTime<Utc>,
    /// Who.
    pub converted_by: String,
}

/// Inserts the conversion unless one exists; returns whether this call inserted it. The
/// primary key on `quote_id` makes a second conversion impossible whatever the caller does.
pub async fn insert_conversion(
    conn: &mut PgConnection,
    tenant: &str,
    row: &ConversionRow,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO quote_conversion (quote_id, tenant_id, order_id, revision, price_hash, snapshot, converted_at, converted_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (quote_id) DO NOTHING",
    )
    .bind(row.quote_id)
    .bind(tenant)
    .bind(row.order_id)
    .bind(row.revision)
    .bind(&row.price_hash)
    .bind(&row.snapshot)
    .bind(row.converted_at)
    .bind(&row.converted_by)
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// The conversion of a quote, if any.
pub async fn conversion(
    conn: &mut PgConnection,
    quote_id: Uuid,
) -> Result<Option<ConversionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT quote_id, order_id, revision, price_hash, snapshot, converted_at, converted_by FROM quote_conversion \
         WHERE quote_id = $1",
    )
    .bind(quote_id)
    .fetch_optional(conn)
    .await
}

/// Locks up to `limit` quotes whose validity has ended and that can still expire; quotes
/// another expiry run holds are skipped.
pub async fn lock_expired(
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
