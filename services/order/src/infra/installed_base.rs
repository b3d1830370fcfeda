//! Storage of the installed base: product instances with their append-only history and the
//! operation guard (one MODIFY or DELETE in flight per instance, enforced by the primary key),
//! and subscriptions. Every change of an instance writes its history row in the same
//! transaction (a deferred trigger checks it at commit).

use chrono::{DateTime, Utc};
use domain_kernel::TenantId;
use serde_json::{Map, Value};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::app::error::{AppError, corrupt};
use crate::domain::{
    AssetHistoryEntry, AssetStatus, CustomerId, ItemAction, OrderId, OrderItemId, ProductInstance,
    ProductInstanceId, ProductOfferingId, Subscription, SubscriptionId, SubscriptionStatus,
};

/// The downstream references of the effects behind an instance (`reservation`, `service`,
/// `charge`), in the core's words; a later MODIFY or DELETE names them.
pub type References = Map<String, Value>;

fn instance_of(row: &PgRow) -> Result<(ProductInstance, References), AppError> {
    let status: String = row.try_get("status")?;
    let tenant: String = row.try_get("tenant_id")?;
    let customer: String = row.try_get("customer_id")?;
    let object = |name: &str| -> Result<Map<String, Value>, AppError> {
        match row.try_get::<Value, _>(name)? {
            Value::Object(map) => Ok(map),
            _ => Err(corrupt(format!("{name} is not an object"))),
        }
    };
    let instance = ProductInstance {
        id: ProductInstanceId::from_uuid(row.try_get("product_instance_id")?),
        tenant: TenantId::parse(&tenant).map_err(corrupt)?,
        customer: CustomerId::parse(&customer).map_err(corrupt)?,
        offering_id: ProductOfferingId::from_uuid(row.try_get("offering_id")?),
        offering_version: u32::try_from(row.try_get::<i32, _>("offering_version")?)
            .map_err(corrupt)?,
        characteristics: object("characteristics")?,
        status: AssetStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("asset status {status}")))?,
        version: row.try_get("aggregate_version")?,
        parent: row
            .try_get::<Option<Uuid>, _>("parent_instance_id")?
            .map(ProductInstanceId::from_uuid),
        subscription: row
            .try_get::<Option<Uuid>, _>("subscription_id")?
            .map(SubscriptionId::from_uuid),
        activation_date: row.try_get("activation_date")?,
        termination_date: row.try_get("termination_date")?,
        origin_order: OrderId::from_uuid(row.try_get("origin_order_id")?),
        origin_item: OrderItemId::from_uuid(row.try_get("origin_item_id")?),
        last_order: OrderId::from_uuid(row.try_get("last_order_id")?),
        last_item: OrderItemId::from_uuid(row.try_get("last_item_id")?),
    };
    Ok((instance, object("external_references")?))
}

async fn append_history(
    conn: &mut PgConnection,
    instance: &ProductInstance,
    entry: &AssetHistoryEntry,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO product_instance_history (product_instance_id, tenant_id, version, status, change, \
         characteristics, order_id, order_item_id, changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(instance.id.as_uuid())
    .bind(instance.tenant.as_str())
    .bind(entry.version)
    .bind(entry.status.as_str())
    .bind(entry.change.as_str())
    .bind(Value::Object(entry.characteristics.clone()))
    .bind(entry.order.as_uuid())
    .bind(entry.item.as_uuid())
    .bind(entry.at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts a new instance with its first history row.
pub async fn insert(
    conn: &mut PgConnection,
    instance: &ProductInstance,
    references: &References,
    entry: &AssetHistoryEntry,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO product_instance (product_instance_id, tenant_id, customer_id, offering_id, \
         offering_version, characteristics, status, aggregate_version, parent_instance_id, subscription_id, \
         external_references, activation_date, termination_date, origin_order_id, origin_item_id, \
         last_order_id, last_item_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(instance.id.as_uuid())
    .bind(instance.tenant.as_str())
    .bind(instance.customer.as_str())
    .bind(instance.offering_id.as_uuid())
    .bind(i32::try_from(instance.offering_version).unwrap_or(i32::MAX))
    .bind(Value::Object(instance.characteristics.clone()))
    .bind(instance.status.as_str())
    .bind(instance.version)
    .bind(instance.parent.map(|p| p.as_uuid()))
    .bind(instance.subscription.map(|s| s.as_uuid()))
    .bind(Value::Object(references.clone()))
    .bind(instance.activation_date)
    .bind(instance.termination_date)
    .bind(instance.origin_order.as_uuid())
    .bind(instance.origin_item.as_uuid())
    .bind(instance.last_order.as_uuid())
    .bind(instance.last_item.as_uuid())
    .execute(&mut *conn)
    .await?;
    append_history(conn, instance, entry).await
}

/// Writes a changed instance (its version already bumped by the domain) and its history row.
pub async fn update(
    conn: &mut PgConnection,
    instance: &ProductInstance,
    references: &References,
    entry: &AssetHistoryEntry,
) -> Result<(), AppError> {
    let updated = sqlx::query(
        "UPDATE product_instance SET offering_version = $2, characteristics = $3, status = $4, \
         aggregate_version = $5, subscription_id = $6, external_references = $7, activation_date = $8, \
         termination_date = $9, last_order_id = $10, last_item_id = $11 \
         WHERE product_instance_id = $1 AND aggregate_version = $5 - 1",
    )
    .bind(instance.id.as_uuid())
    .bind(i32::try_from(instance.offering_version).unwrap_or(i32::MAX))
    .bind(Value::Object(instance.characteristics.clone()))
    .bind(instance.status.as_str())
    .bind(instance.version)
    .bind(instance.subscription.map(|s| s.as_uuid()))
    .bind(Value::Object(references.clone()))
    .bind(instance.activation_date)
    .bind(instance.termination_date)
    .bind(instance.last_order.as_uuid())
    .bind(instance.last_item.as_uuid())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if updated != 1 {
        return Err(corrupt(format!(
            "product instance {} changed concurrently",
            instance.id
        )));
    }
    append_history(conn, instance, entry).await?;
    Ok(())
}

/// One instance; `lock` takes its row `FOR UPDATE`.
pub async fn load(
    conn: &mut PgConnection,
    id: ProductInstanceId,
    lock: bool,
) -> Result<Option<(ProductInstance, References)>, AppError> {
    let sql = if lock {
        "SELECT * FROM product_instance WHERE product_instance_id = $1 FOR UPDATE"
    } else {
        "SELECT * FROM product_instance WHERE product_instance_id = $1"
    };
    sqlx::query(sql)
        .bind(id.as_uuid())
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(instance_of)
        .transpose()
}

/// The instance an ADD item created, locked.
pub async fn load_created_by(
    conn: &mut PgConnection,
    item: OrderItemId,
) -> Result<Option<(ProductInstance, References)>, AppError> {
    sqlx::query("SELECT * FROM product_instance WHERE origin_item_id = $1 FOR UPDATE")
        .bind(item.as_uuid())
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(instance_of)
        .transpose()
}

/// A customer's instances, oldest first (the customer's installed base).
pub async fn list_for_customer(
    conn: &mut PgConnection,
    customer: &CustomerId,
    limit: i64,
) -> Result<Vec<(ProductInstance, References)>, AppError> {
    sqlx::query(
        "SELECT * FROM product_instance WHERE customer_id = $1 ORDER BY created_at, product_instance_id LIMIT $2",
    )
    .bind(customer.as_str())
    .bind(limit)
    .fetch_all(conn)
    .await?
    .iter()
    .map(instance_of)
    .collect()
}

/// Active add-on instances of `parent` (a DELETE of the parent disconnects them first).
pub async fn active_children(
    conn: &mut PgConnection,
    parent: ProductInstanceId,
) -> Result<Vec<ProductInstance>, AppError> {
    sqlx::query(
        "SELECT * FROM product_instance WHERE parent_instance_id = $1 \
         AND status IN ('ACTIVE', 'SUSPENDED') ORDER BY created_at",
    )
    .bind(parent.as_uuid())
    .fetch_all(conn)
    .await?
    .iter()
    .map(|row| instance_of(row).map(|(i, _)| i))
    .collect()
}

/// One history row as the API shows it.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    /// Version it created.
    pub version: i64,
    /// Status at that version.
    pub status: String,
    /// ADD, MODIFY, DELETE or STATUS.
    pub change: String,
    /// Characteristics at that version.
    pub characteristics: Value,
    /// The order that caused it.
    pub order_id: Uuid,
    /// The item that caused it.
    pub order_item_id: Uuid,
    /// When.
    pub changed_at: DateTime<Utc>,
}

/// An instance's history, oldest first.
pub async fn history(
    conn: &mut PgConnection,
    id: ProductInstanceId,
) -> Result<Vec<HistoryRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT version, status, change, characteristics, order_id, order_item_id, changed_at \
         FROM product_instance_history WHERE product_instance_id = $1 ORDER BY version",
    )
    .bind(id.as_uuid())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(HistoryRow {
                version: r.try_get("version")?,
                status: r.try_get("status")?,
                change: r.try_get("change")?,
                characteristics: r.try_get("characteristics")?,
                order_id: r.try_get("order_id")?,
                order_item_id: r.try_get("order_item_id")?,
                changed_at: r.try_get("changed_at")?,
            })
        })
        .collect()
}

/// Takes the operation guard of `instance` for an item; `false` when another order holds it.
pub async fn acquire_guard(
    conn: &mut PgConnection,
    tenant: &TenantId,
    instance: ProductInstanceId,
    order: OrderId,
    item: OrderItemId,
    action: ItemAction,
) -> Result<bool, sqlx::Error> {
    let taken = sqlx::query(
        "INSERT INTO product_instance_guard (product_instance_id, tenant_id, order_id, order_item_id, action) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(instance.as_uuid())
    .bind(tenant.as_str())
    .bind(order.as_uuid())
    .bind(item.as_uuid())
    .bind(action.as_str())
    .execute(conn)
    .await?
    .rows_affected();
    Ok(taken == 1)
}

/// Releases the guard an item holds (once its change is done).
pub async fn release_guard(
    conn: &mut PgConnection,
    instance: ProductInstanceId,
    item: OrderItemId,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM product_instance_guard WHERE product_instance_id = $1 AND order_item_id = $2",
    )
    .bind(instance.as_uuid())
    .bind(item.as_uuid())
    .execute(conn)
    .await?;
    Ok(())
}

fn subscription_of(row: &PgRow) -> Result<Subscription, AppError> {
    let status: String = row.try_get("status")?;
    let tenant: String = row.try_get("tenant_id")?;
    let customer: String = row.try_get("customer_id")?;
    Ok(Subscription {
        id: SubscriptionId::from_uuid(row.try_get("subscription_id")?),
        tenant: TenantId::parse(&tenant).map_err(corrupt)?,
        customer: CustomerId::parse(&customer).map_err(corrupt)?,
        status: SubscriptionStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("subscription status {status}")))?,
        version: row.try_get("aggregate_version")?,
        start_date: row.try_get("start_date")?,
        end_date: row.try_get("end_date")?,
        order: OrderId::from_uuid(row.try_get("order_id")?),
        root_item: OrderItemId::from_uuid(row.try_get("root_item_id")?),
    })
}

/// Inserts a new subscription.
pub async fn insert_subscription(
    conn: &mut PgConnection,
    subscription: &Subscription,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO subscription (subscription_id, tenant_id, customer_id, status, aggregate_version, \
         order_id, root_item_id, start_date, end_date) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(subscription.id.as_uuid())
    .bind(subscription.tenant.as_str())
    .bind(subscription.customer.as_str())
    .bind(subscription.status.as_str())
    .bind(subscription.version)
    .bind(subscription.order.as_uuid())
    .bind(subscription.root_item.as_uuid())
    .bind(subscription.start_date)
    .bind(subscription.end_date)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes a changed subscription (version already bumped by the domain).
pub async fn update_subscription(
    conn: &mut PgConnection,
    subscription: &Subscription,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE subscription SET status = $2, aggregate_version = $3, start_date = $4, end_date = $5 \
         WHERE subscription_id = $1",
    )
    .bind(subscription.id.as_uuid())
    .bind(subscription.status.as_str())
    .bind(subscription.version)
    .bind(subscription.start_date)
    .bind(subscription.end_date)
    .execute(conn)
    .await?;
    Ok(())
}

/// The subscriptions an order started, locked.
pub async fn subscriptions_of_order(
    conn: &mut PgConnection,
    order: OrderId,
) -> Result<Vec<Subscription>, AppError> {
    sqlx::query("SELECT * FROM subscription WHERE order_id = $1 ORDER BY created_at FOR UPDATE")
        .bind(order.as_uuid())
        .fetch_all(conn)
        .await?
        .iter()
        .map(subscription_of)
        .collect()
}

/// One subscription.
pub async fn load_subscription(
    conn: &mut PgConnection,
    id: SubscriptionId,
) -> Result<Option<Subscription>, AppError> {
    sqlx::query("SELECT * FROM subscription WHERE subscription_id = $1")
        .bind(id.as_uuid())
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(subscription_of)
        .transpose()
}

/// A customer's subscriptions, oldest first.
pub async fn subscriptions_for_customer(
    conn: &mut PgConnection,
    customer: &CustomerId,
    limit: i64,
) -> Result<Vec<Subscription>, AppError> {
    sqlx::query(
        "SELECT * FROM subscription WHERE customer_id = $1 ORDER BY created_at, subscription_id LIMIT $2",
    )
    .bind(customer.as_str())
    .bind(limit)
    .fetch_all(conn)
    .await?
    .iter()
    .map(subscription_of)
    .collect()
}
