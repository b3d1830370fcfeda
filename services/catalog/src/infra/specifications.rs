//! Product specification storage.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::app::views::{CharacteristicView, RangeView, SpecificationView};
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
             allowed_values, min_value, max_value, default_value, unit, description) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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

#[derive(sqlx::FromRow)]
struct CharacteristicRow {
    name: String,
    value_type: String,
    required: bool,
    allowed_values: Option<Value>,
    min_value: Option<Decimal>,
    max_value: Option<Decimal>,
    default_value: Option<Value>,
    unit: Option<String>,
    description: Option<String>,
}

impl From<CharacteristicRow> for CharacteristicView {
    fn from(row: CharacteristicRow) -> Self {
        let allowed_values = match row.allowed_values {
            Some(Value::Array(values)) => values,
            _ => Vec::new(),
        };
        let range = (row.min_value.is_some() || row.max_value.is_some()).then_some(RangeView {
            min: row.min_value.map(|d| d.normalize()),
            max: row.max_value.map(|d| d.normalize()),
        });
        Self {
            name: row.name,
            value_type: row.value_type,
            required: row.required,
            allowed_values,
            range,
            default_value: row.default_value,
            unit: row.unit,
            description: row.description,
        }
    }
}

/// Characteristic definitions of a specification, in declaration order.
pub async fn characteristics(
    conn: &mut PgConnection,
    spec_id: Uuid,
) -> Result<Vec<CharacteristicView>, sqlx::Error> {
    let rows: Vec<CharacteristicRow> = sqlx::query_as(
        "SELECT name, value_type, required, allowed_values, min_value, max_value, default_value, unit, description \
         FROM characteristic_definition WHERE product_specification_id = $1 ORDER BY position",
    )
    .bind(spec_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
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
) -> Result<Option<SpecificationView>, sqlx::Error> {
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
    Ok(Some(SpecificationView {
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
) -> Result<(Vec<SpecificationView>, i64), sqlx::Error> {
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
