//! Writing quotes: explicit SQL for each part a command changes. Every function takes the
//! caller's connection, so the command's transaction covers the rows, the outbox event and the
//! audit evidence together.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::quote::{
    ApprovalBasis, ItemConfiguration, PriceOverride, PriceSnapshot, Quote, QuoteItem,
};

/// Inserts a new quote root.
pub async fn insert_root(conn: &mut PgConnection, quote: &Quote) -> Result<(), sqlx::Error> {
    let identity = quote.identity();
    sqlx::query(
        "INSERT INTO quote (quote_id, tenant_id, customer_id, currency, status, revision, valid_until, aggregate_version, \
         price_book_id, price_book_version, pricing_state, created_at, created_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(identity.id.as_uuid())
    .bind(identity.tenant.as_str())
    .bind(identity.customer.as_str())
    .bind(identity.currency.code())
    .bind(quote.status().as_str())
    .bind(quote.revision())
    .bind(quote.valid_until())
    .bind(quote.version())
    .bind(identity.price_book.id.as_uuid())
    .bind(identity.price_book.version)
    .bind(quote.pricing().state().as_str())
    .bind(identity.created_at)
    .bind(identity.created_by.as_str())
    .bind(quote.updated_at())
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes every mutable column of a locked quote root; returns the change time the database
/// stamped.
pub async fn update_root(
    conn: &mut PgConnection,
    quote: &Quote,
) -> Result<DateTime<Utc>, sqlx::Error> {
    let commitment = quote.commitment();
    let approval = commitment.approval();
    let acceptance = commitment.acceptance();
    let basis = commitment.basis();
    let request = basis.and_then(ApprovalBasis::request);
    sqlx::query_scalar(
        "UPDATE quote SET status = $2, revision = $3, aggregate_version = $4, pricing_state = $5, price_hash = $6, \
         approved_price_hash = $7, approved_at = $8, approved_by = $9, policy_snapshot = $10, accepted_at = $11, \
         accepted_by = $12, acceptance_channel = $13, acceptance_reference = $14, approval_request_id = $15, \
         approval_policy_id = $16, approval_policy_version = $17 WHERE quote_id = $1 \
         RETURNING updated_at",
    )
    .bind(quote.id().as_uuid())
    .bind(quote.status().as_str())
    .bind(quote.revision())
    .bind(quote.version())
    .bind(quote.pricing().state().as_str())
    .bind(quote.pricing().hash())
    .bind(approval.map(|a| a.price_hash.as_str()))
    .bind(approval.map(|a| a.approved_at))
    .bind(approval.map(|a| a.approved_by.as_str()))
    .bind(basis.and_then(ApprovalBasis::legacy_evaluation))
    .bind(acceptance.map(|a| a.accepted_at))
    .bind(acceptance.map(|a| a.accepted_by.as_str()))
    .bind(acceptance.map(|a| a.channel.as_str()))
    .bind(acceptance.and_then(|a| a.reference.as_deref()))
    .bind(request.map(|r| r.request_id.as_uuid()))
    .bind(request.map(|r| r.policy_id.as_str()))
    .bind(request.map(|r| r.policy_version.as_str()))
    .fetch_one(conn)
    .await
}

/// Replaces the items of a revision: one DELETE (overrides of the revision go with their
/// items) and one INSERT over UNNESTed arrays, however many items there are.
pub async fn replace_items(
    conn: &mut PgConnection,
    quote_id: Uuid,
    revision: i32,
    items: &[QuoteItem],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM quote_item WHERE quote_id = $1 AND revision = $2")
        .bind(quote_id)
        .bind(revision)
        .execute(&mut *conn)
        .await?;
    insert_items(conn, quote_id, revision, items).await
}

/// Inserts the items of a revision in one statement. Each item takes its quote's tenant, read in
/// the same statement (the composite key demands exactly that one), so the caller passes none;
/// a quote the caller cannot see inserts nothing and fails with `RowNotFound`.
pub async fn insert_items(
    conn: &mut PgConnection,
    quote_id: Uuid,
    revision: i32,
    items: &[QuoteItem],
) -> Result<(), sqlx::Error> {
    if items.is_empty() {
        return Ok(());
    }
    let encode = |e: serde_json::Error| sqlx::Error::Encode(Box::new(e));
    let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
    let positions: Vec<i32> = (0..items.len())
        .map(|p| i32::try_from(p).unwrap_or(i32::MAX))
        .collect();
    let offerings: Vec<Uuid> = items.iter().map(|i| i.offering_id.as_uuid()).collect();
    let versions: Vec<i32> = items.iter().map(|i| i.offering_version).collect();
    let quantities: Vec<i64> = items.iter().map(|i| i.quantity).collect();
    let terms: Vec<Option<i32>> = items.iter().map(|i| i.term_months).collect();
    let discounts: Vec<Option<rust_decimal::Decimal>> =
        items.iter().map(|i| i.discount_percent).collect();
    let characteristics: Vec<Value> = items
        .iter()
        .map(|i| Value::Object(i.characteristics.clone()))
        .collect();
    let parents: Vec<Option<&str>> = items
        .iter()
        .map(|i| i.parent_id.as_ref().map(|p| p.as_str()))
        .collect();
    let statuses: Vec<&str> = items
        .iter()
        .map(|i| i.configuration.status().as_str())
        .collect();
    let hashes: Vec<Option<&str>> = items
        .iter()
        .map(|i| i.configuration.resolved().map(|r| r.hash.as_str()))
        .collect();
    let configurations: Vec<Option<&Value>> = items
        .iter()
        .map(|i| i.configuration.resolved().map(|r| &r.document))
        .collect();
    let violations: Vec<Value> = items
        .iter()
        .map(|i| match &i.configuration {
            ItemConfiguration::Invalid(found) => serde_json::to_value(found),
            ItemConfiguration::Valid(_) | ItemConfiguration::Frozen(_) => {
                Ok(Value::Array(Vec::new()))
            }
        })
        .collect::<Result<_, _>>()
        .map_err(encode)?;
    let inserted = sqlx::query(
        "INSERT INTO quote_item (tenant_id, quote_id, revision, item_id, position, offering_id, offering_version, quantity, \
         term_months, discount_percent, characteristics, parent_item_id, configuration_status, configuration_hash, \
         configuration, violations) \
         SELECT q.tenant_id, q.quote_id, $2, i.* FROM quote q, UNNEST($3::text[], $4::int4[], $5::uuid[], $6::int4[], \
         $7::int8[], $8::int4[], $9::numeric[], $10::jsonb[], $11::text[], $12::text[], $13::text[], $14::jsonb[], \
         $15::jsonb[]) AS i WHERE q.quote_id = $1",
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
    if inserted.rows_affected() != items.len() as u64 {
        return Err(sqlx::Error::RowNotFound);
    }
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
        "INSERT INTO quote_item (tenant_id, quote_id, revision, item_id, position, offering_id, offering_version, quantity, \
         term_months, discount_percent, characteristics, parent_item_id, configuration_status, configuration_hash, \
         configuration, violations) \
         SELECT tenant_id, quote_id, $3, item_id, position, offering_id, offering_version, quantity, term_months, \
         discount_percent, characteristics, parent_item_id, configuration_status, configuration_hash, configuration, violations \
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

/// Stores (or replaces, while not frozen) the price snapshot of a revision.
pub async fn upsert_snapshot(
    conn: &mut PgConnection,
    quote: &Quote,
    snapshot: &PriceSnapshot,
) -> Result<(), sqlx::Error> {
    let pin = quote.identity().price_book;
    sqlx::query(
        "INSERT INTO quote_price_snapshot (quote_id, revision, price_hash, trace_hash, currency, price_book_id, \
         price_book_version, one_time_total, result, trace, priced_at, priced_by, tenant_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (quote_id, revision) DO UPDATE SET price_hash = EXCLUDED.price_hash, trace_hash = EXCLUDED.trace_hash, \
         one_time_total = EXCLUDED.one_time_total, result = EXCLUDED.result, trace = EXCLUDED.trace, \
         priced_at = EXCLUDED.priced_at, priced_by = EXCLUDED.priced_by",
    )
    .bind(quote.id().as_uuid())
    .bind(quote.revision())
    .bind(&snapshot.price_hash)
    .bind(&snapshot.trace_hash)
    .bind(quote.identity().currency.code())
    .bind(pin.id.as_uuid())
    .bind(pin.version)
    .bind(snapshot.one_time_total)
    .bind(&snapshot.result)
    .bind(&snapshot.trace)
    .bind(snapshot.priced_at)
    .bind(snapshot.priced_by.as_str())
    .bind(quote.identity().tenant.as_str())
    .execute(conn)
    .await?;
    Ok(())
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

/// Records (or replaces) the override of one charge of one item.
pub async fn upsert_override(
    conn: &mut PgConnection,
    quote: &Quote,
    row: &PriceOverride,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO quote_price_override (quote_id, revision, item_id, charge, currency, original_price, new_price, \
         actor_id, actor_type, reason, created_at, tenant_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (quote_id, revision, item_id, charge) DO UPDATE SET original_price = EXCLUDED.original_price, \
         new_price = EXCLUDED.new_price, actor_id = EXCLUDED.actor_id, actor_type = EXCLUDED.actor_type, \
         reason = EXCLUDED.reason, created_at = EXCLUDED.created_at",
    )
    .bind(quote.id().as_uuid())
    .bind(quote.revision())
    .bind(&row.item_id)
    .bind(row.charge.as_str())
    .bind(quote.identity().currency.code())
    .bind(row.original_price)
    .bind(row.new_price)
    .bind(row.actor.actor_id.as_str())
    .bind(row.actor.actor_type.as_str())
    .bind(&row.reason)
    .bind(row.created_at)
    .bind(quote.identity().tenant.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts the conversion unless one exists; returns whether this call inserted it. The
/// primary key on `quote_id` makes a second conversion impossible whatever the caller does.
pub async fn insert_conversion(
    conn: &mut PgConnection,
    quote: &Quote,
    conversion: &crate::domain::quote::Conversion,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO quote_conversion (quote_id, tenant_id, order_id, revision, price_hash, snapshot, converted_at, converted_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (quote_id) DO NOTHING",
    )
    .bind(quote.id().as_uuid())
    .bind(quote.identity().tenant.as_str())
    .bind(conversion.order_id.as_uuid())
    .bind(conversion.revision)
    .bind(&conversion.price_hash)
    .bind(&conversion.snapshot)
    .bind(conversion.converted_at)
    .bind(conversion.converted_by.as_str())
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}
