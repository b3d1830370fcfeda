//! Price book storage: root row (code, currency, aggregate version), immutable versions and
//! their charges.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use super::VersionRecord;
use crate::domain::lifecycle::PriceBookStatus;
use crate::domain::price_book::{Charge, Pricing};

/// The locked root of a price book.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LockedRoot {
    /// Aggregate version before the command.
    pub aggregate_version: i64,
    /// Highest version number.
    pub latest_version: i32,
    /// Currency of the book.
    pub currency: String,
}

/// Inserts a price book root.
pub async fn insert_root(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
    code: &str,
    currency: &str,
    actor: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO price_book (price_book_id, tenant_id, code, currency, created_by) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(tenant)
        .bind(code)
        .bind(currency)
        .bind(actor)
        .execute(conn)
        .await?;
    Ok(())
}

/// Locks a tenant's price book root.
pub async fn lock_root(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
) -> Result<Option<LockedRoot>, sqlx::Error> {
    sqlx::query_as(
        "SELECT b.aggregate_version, b.currency, (SELECT max(version) FROM price_book_version v WHERE v.price_book_id = b.price_book_id) AS latest_version \
         FROM price_book b WHERE b.tenant_id = $1 AND b.price_book_id = $2 FOR UPDATE",
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Records that a command changed the book; returns the new aggregate version.
pub async fn bump_root(conn: &mut PgConnection, id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE price_book SET aggregate_version = aggregate_version + 1, updated_at = now() WHERE price_book_id = $1 RETURNING aggregate_version",
    )
    .bind(id)
    .fetch_one(conn)
    .await
}

/// One volume tier as stored in a charge's `tiers` JSON column. The storage layer owns this
/// shape (camelCase keys, the unit price as a decimal string) so the rows already written stay
/// readable whatever the API publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TierRecord {
    /// First quantity.
    pub from_quantity: u64,
    /// Last quantity (`None` = open-ended).
    pub to_quantity: Option<u64>,
    /// Price per unit, as written.
    #[serde(with = "rust_decimal::serde::str")]
    pub unit_price: Decimal,
}

/// Inserts a DRAFT version with its charges.
pub async fn insert_version(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
    version: i32,
    name: &str,
    charges: &[Charge],
    actor: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO price_book_version (price_book_id, version, tenant_id, status, name, created_by) VALUES ($1, $2, $3, 'DRAFT', $4, $5)",
    )
    .bind(id)
    .bind(version)
    .bind(tenant)
    .bind(name)
    .bind(actor)
    .execute(&mut *conn)
    .await?;
    for (position, charge) in charges.iter().enumerate() {
        let (unit_price, tier_mode, tiers) = match &charge.pricing {
            Pricing::Flat(money) => (Some(money.amount), None, None),
            Pricing::Tiered(mode, tiers) => {
                let tiers: Vec<TierRecord> = tiers
                    .iter()
                    .map(|t| TierRecord {
                        from_quantity: t.from_quantity,
                        to_quantity: t.to_quantity,
                        unit_price: t.unit_price.amount,
                    })
                    .collect();
                (None, Some(mode.as_str()), Some(Json(tiers)))
            }
        };
        sqlx::query(
            "INSERT INTO price_book_charge (price_book_id, version, position, tenant_id, product_offering_id, offering_version, \
             charge_type, period, unit_price, tier_mode, tiers) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id)
        .bind(version)
        .bind(i32::try_from(position).unwrap_or(i32::MAX))
        .bind(tenant)
        .bind(charge.offering_id.as_uuid())
        .bind(charge.offering_version)
        .bind(charge.charge_type.as_str())
        .bind(charge.period.map(|p| p.as_str()))
        .bind(unit_price)
        .bind(tier_mode)
        .bind(tiers)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Moves a version to `to`, stamping the matching date.
pub async fn set_status(
    conn: &mut PgConnection,
    id: Uuid,
    version: i32,
    to: PriceBookStatus,
) -> Result<(), sqlx::Error> {
    let stamp = match to {
        PriceBookStatus::Published => "published_at = now(),",
        PriceBookStatus::Retired => "retired_at = now(),",
        PriceBookStatus::Draft => "",
    };
    let sql = format!(
        "UPDATE price_book_version SET {stamp} status = $3 WHERE price_book_id = $1 AND version = $2"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(version)
        .bind(to.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Status of one version.
pub async fn version_status(
    conn: &mut PgConnection,
    id: Uuid,
    version: i32,
) -> Result<Option<PriceBookStatus>, sqlx::Error> {
    let status: Option<String> = sqlx::query_scalar(
        "SELECT status FROM price_book_version WHERE price_book_id = $1 AND version = $2",
    )
    .bind(id)
    .bind(version)
    .fetch_optional(conn)
    .await?;
    Ok(status.and_then(|s| PriceBookStatus::parse(&s)))
}

/// The version in force, if any.
pub async fn published_version(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT version FROM price_book_version WHERE price_book_id = $1 AND status = 'PUBLISHED'",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Status of each `(offering, version)` pair that exists for the tenant.
pub async fn offering_version_statuses(
    conn: &mut PgConnection,
    tenant: &str,
    pairs: &[(Uuid, i32)],
) -> Result<Vec<(Uuid, i32, String)>, sqlx::Error> {
    let ids: Vec<Uuid> = pairs.iter().map(|p| p.0).collect();
    let versions: Vec<i32> = pairs.iter().map(|p| p.1).collect();
    sqlx::query_as(
        "SELECT v.product_offering_id, v.version, v.status FROM product_offering_version v \
         JOIN unnest($2::uuid[], $3::int[]) AS wanted(id, version) ON wanted.id = v.product_offering_id AND wanted.version = v.version \
         WHERE v.tenant_id = $1",
    )
    .bind(tenant)
    .bind(ids)
    .bind(versions)
    .fetch_all(conn)
    .await
}

/// Offering versions a price book version charges for.
pub async fn charged_offering_versions(
    conn: &mut PgConnection,
    id: Uuid,
    version: i32,
) -> Result<Vec<(Uuid, i32)>, sqlx::Error> {
    sqlx::query_as("SELECT DISTINCT product_offering_id, offering_version FROM price_book_charge WHERE price_book_id = $1 AND version = $2")
        .bind(id)
        .bind(version)
        .fetch_all(conn)
        .await
}

#[derive(sqlx::FromRow)]
struct HeaderRow {
    code: String,
    currency: String,
    name: String,
    created_at: DateTime<Utc>,
    created_by: String,
}

#[derive(sqlx::FromRow)]
struct ChargeRow {
    product_offering_id: Uuid,
    offering_version: i32,
    charge_type: String,
    period: Option<String>,
    unit_price: Option<Decimal>,
    tier_mode: Option<String>,
    tiers: Option<Json<Vec<TierRecord>>>,
}

/// A stored charge of a price book version. Amounts are as the database returns them (its
/// column scale); rounding them to the currency is the reader's concern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeRecord {
    /// Offering priced.
    pub offering_id: Uuid,
    /// Offering version priced.
    pub offering_version: i32,
    /// Stored charge type (ONE_TIME or RECURRING).
    pub charge_type: String,
    /// Stored period of a recurring charge.
    pub period: Option<String>,
    /// Flat price per unit.
    pub unit_price: Option<Decimal>,
    /// Stored tier mode (RANGE or SLAB) of a tiered charge.
    pub tier_mode: Option<String>,
    /// Tiers of a tiered charge.
    pub tiers: Option<Vec<TierRecord>>,
}

impl From<ChargeRow> for ChargeRecord {
    fn from(row: ChargeRow) -> Self {
        Self {
            offering_id: row.product_offering_id,
            offering_version: row.offering_version,
            charge_type: row.charge_type,
            period: row.period,
            unit_price: row.unit_price,
            tier_mode: row.tier_mode,
            tiers: row.tiers.map(|t| t.0),
        }
    }
}

/// The stored content of a price book version (everything except its lifecycle).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceBookContentRecord {
    /// Price book id.
    pub price_book_id: Uuid,
    /// Owning tenant.
    pub tenant_id: String,
    /// Code.
    pub code: String,
    /// Stored ISO-4217 currency code.
    pub currency: String,
    /// Version number.
    pub version: i32,
    /// Name.
    pub name: String,
    /// Charges in declaration order.
    pub charges: Vec<ChargeRecord>,
    /// When the version was created.
    pub created_at: DateTime<Utc>,
    /// Who created it.
    pub created_by: String,
}

/// The content of a tenant's price book version.
pub async fn content(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
    version: i32,
) -> Result<Option<PriceBookContentRecord>, sqlx::Error> {
    let header: Option<HeaderRow> = sqlx::query_as(
        "SELECT b.code, b.currency, v.name, v.created_at, v.created_by FROM price_book_version v JOIN price_book b USING (price_book_id) \
         WHERE b.tenant_id = $1 AND v.price_book_id = $2 AND v.version = $3",
    )
    .bind(tenant)
    .bind(id)
    .bind(version)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(header) = header else {
        return Ok(None);
    };
    let charges: Vec<ChargeRow> = sqlx::query_as(
        "SELECT product_offering_id, offering_version, charge_type, period, unit_price, tier_mode, tiers \
         FROM price_book_charge WHERE price_book_id = $1 AND version = $2 ORDER BY position",
    )
    .bind(id)
    .bind(version)
    .fetch_all(conn)
    .await?;
    Ok(Some(PriceBookContentRecord {
        price_book_id: id,
        tenant_id: tenant.to_owned(),
        code: header.code,
        currency: header.currency,
        version,
        name: header.name,
        charges: charges.into_iter().map(Into::into).collect(),
        created_at: header.created_at,
        created_by: header.created_by,
    }))
}

/// Lifecycle state and dates of a price book version as stored, with the book's aggregate
/// version (read together because every version answer carries both).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PriceBookLifecycleRecord {
    /// Stored status.
    pub status: String,
    /// When published.
    pub published_at: Option<DateTime<Utc>>,
    /// When retired.
    pub retired_at: Option<DateTime<Utc>>,
    /// The price book's aggregate version.
    pub aggregate_version: i64,
}

/// Status, dates and aggregate version of a tenant's price book version.
pub async fn lifecycle(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
    version: i32,
) -> Result<Option<PriceBookLifecycleRecord>, sqlx::Error> {
    sqlx::query_as(
        "SELECT v.status, v.published_at, v.retired_at, b.aggregate_version FROM price_book_version v JOIN price_book b USING (price_book_id) \
         WHERE b.tenant_id = $1 AND v.price_book_id = $2 AND v.version = $3",
    )
    .bind(tenant)
    .bind(id)
    .bind(version)
    .fetch_optional(conn)
    .await
}

#[derive(sqlx::FromRow)]
struct BookRow {
    price_book_id: Uuid,
    code: String,
    currency: String,
    aggregate_version: i64,
    created_at: DateTime<Utc>,
    versions: Json<Vec<(i32, String, String)>>,
}

const BOOK_SELECT: &str = "SELECT b.price_book_id, b.code, b.currency, b.aggregate_version, b.created_at, \
     (SELECT jsonb_agg(jsonb_build_array(v.version, v.status, v.name) ORDER BY v.version) \
        FROM price_book_version v WHERE v.price_book_id = b.price_book_id) AS versions \
     FROM price_book b";

/// A stored price book root with every version's number, status and name, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceBookRecord {
    /// Id.
    pub id: Uuid,
    /// Code.
    pub code: String,
    /// Stored ISO-4217 currency code.
    pub currency: String,
    /// Aggregate version.
    pub aggregate_version: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Every version, oldest first.
    pub versions: Vec<VersionRecord>,
}

impl From<BookRow> for PriceBookRecord {
    fn from(row: BookRow) -> Self {
        Self {
            id: row.price_book_id,
            code: row.code,
            currency: row.currency,
            aggregate_version: row.aggregate_version,
            created_at: row.created_at,
            versions: VersionRecord::from_triples(row.versions.0),
        }
    }
}

/// A tenant's price book.
pub async fn find(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
) -> Result<Option<PriceBookRecord>, sqlx::Error> {
    let row: Option<BookRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{BOOK_SELECT} WHERE b.tenant_id = $1 AND b.price_book_id = $2"
    )))
    .bind(tenant)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Into::into))
}

/// A page of a tenant's price books (optionally one code) with the total count.
pub async fn list(
    conn: &mut PgConnection,
    tenant: &str,
    code: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<PriceBookRecord>, i64), sqlx::Error> {
    let filter = "WHERE b.tenant_id = $1 AND ($2::text IS NULL OR b.code = $2)";
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM price_book b {filter}"
    )))
    .bind(tenant)
    .bind(code)
    .fetch_one(&mut *conn)
    .await?;
    let rows: Vec<BookRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{BOOK_SELECT} {filter} ORDER BY b.code LIMIT $3 OFFSET $4"
    )))
    .bind(tenant)
    .bind(code)
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?;
    Ok((rows.into_iter().map(Into::into).collect(), total))
}
