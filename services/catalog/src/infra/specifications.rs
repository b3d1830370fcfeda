//! Product specification storage.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::characteristic::CharacteristicDefinition;

/// A specification to insert.
#[derive(Debug, Clone, Copy)]
pub struct NewSpecificationRow<'a> {
    /// Owning tenant.
    pub tenant: &'a str,
    /// Id.
    pub id: Uuid,
    /// Code.
    pub code: &'a str,
    /// Name.
    pub name: &'a str,
    /// Description.
    pub description: Option<&'a str>,
    /// Validated definitions.
    pub characteristics: &'a [CharacteristicDefinition],
    /// Creator.
    pub actor: &'a str,
}

/// Inserts a specification and its characteristic definitions.
pub async fn insert(
    conn: &mut PgConnection,
    spec: NewSpecificationRow<'_>,
) -> Result<(), sqlx::Error> {
    let NewSpecificationRow {
        tenant,
        id,
        code,
        name,
        description,
        characteristics,
        actor,
    } = spec;
    sqlx::query(
        "INSERT INTO product_specification (product_specification_id, tenant_id, code, name, description, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(tenant)
    .bind(code)
    .bind(name)
    .bind(description)
    .bind(actor)
    .execute(&mut *conn)
    .await?;
    for (position, c) in characteristics.iter().enumerate() {
        let allowed: Vec<Value> = c.allowed_values.iter().map(|v| v.to_json()).collect();
        sqlx::query(
            "INSERT INTO characteristic_definition (product_specification_id, position, name, value_type, required, \
             allowed_values, min_value, max_value, default_value, unit, description, tenant_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(id)
        .bind(i32::try_from(position).unwrap_or(i32::MAX))
        .bind(&c.name)
        .bind(c.value_type.as_str())
        .bind(c.required)
        .bind((!allowed.is_empty()).then_some(Value::Array(allowed)))
        .bind(c.range.and_then(|r| r.min))
        .bind(c.range.and_then(|r| r.max))
        .bind(c.default_value.as_ref().map(|v| v.to_json()))
        .bind(c.unit.as_deref())
        .bind(c.description.as_deref())
        .bind(tenant)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct SpecRow {
    product_specification_id: Uuid,
    code: String,
    name: String,
    description: Option<String>,
    created_at: DateTime<Utc>,
}

/// A characteristic definition as stored, so callers can build whatever representation they
/// publish without this layer knowing it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CharacteristicRecord {
    /// Name, unique within its specification.
    pub name: String,
    /// Stored value type (STRING, INTEGER, DECIMAL or BOOLEAN).
    pub value_type: String,
    /// Whether a configuration must provide it.
    pub required: bool,
    /// Allowed values as a JSON array; `NULL` when any value of the type is allowed.
    pub allowed_values: Option<Value>,
    /// Inclusive lower bound, at the column's scale.
    pub min_value: Option<Decimal>,
    /// Inclusive upper bound, at the column's scale.
    pub max_value: Option<Decimal>,
    /// Default value.
    pub default_value: Option<Value>,
    /// Unit.
    pub unit: Option<String>,
    /// Description.
    pub description: Option<String>,
}

/// A stored product specification with its characteristic definitions, returned by the
/// queries of this module.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecificationRecord {
    /// Id.
    pub id: Uuid,
    /// Code, unique per tenant.
    pub code: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Characteristic definitions in declaration order.
    pub characteristics: Vec<CharacteristicRecord>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// Characteristic definitions of a specification, in declaration order.
pub async fn characteristics(
    conn: &mut PgConnection,
    spec_id: Uuid,
) -> Result<Vec<CharacteristicRecord>, sqlx::Error> {
    sqlx::query_as(
        "SELECT name, value_type, required, allowed_values, min_value, max_value, default_value, unit, description \
         FROM characteristic_definition WHERE product_specification_id = $1 ORDER BY position",
    )
    .bind(spec_id)
    .fetch_all(conn)
    .await
}

/// Whether the tenant has this specification (without loading it).
pub async fn exists(conn: &mut PgConnection, tenant: &str, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM product_specification WHERE tenant_id = $1 AND product_specification_id = $2)",
    )
    .bind(tenant)
    .bind(id)
    .fetch_one(conn)
    .await
}

/// A tenant's specification by id.
pub async fn find(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
) -> Result<Option<SpecificationRecord>, sqlx::Error> {
    let row: Option<SpecRow> = sqlx::query_as(
        "SELECT product_specification_id, code, name, description, created_at FROM product_specification \
         WHERE tenant_id = $1 AND product_specification_id = $2",
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let characteristics = characteristics(conn, row.product_specification_id).await?;
    Ok(Some(SpecificationRecord {
        id: row.product_specification_id,
        code: row.code,
        name: row.name,
        description: row.description,
        characteristics,
        created_at: row.created_at,
    }))
}

/// A page of a tenant's specifications (optionally one code) and the total count.
pub async fn list(
    conn: &mut PgConnection,
    tenant: &str,
    code: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<SpecificationRecord>, i64), sqlx::Error> {
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM product_specification WHERE tenant_id = $1 AND ($2::text IS NULL OR code = $2)",
    )
    .bind(tenant)
    .bind(code)
    .fetch_one(&mut *conn)
    .await?;
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT product_specification_id FROM product_specification WHERE tenant_id = $1 AND ($2::text IS NULL OR code = $2) \
         ORDER BY code LIMIT $3 OFFSET $4",
    )
    .bind(tenant)
    .bind(code)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(spec) = find(conn, tenant, id).await? {
            items.push(spec);
        }
    }
    Ok((items, total))
}
