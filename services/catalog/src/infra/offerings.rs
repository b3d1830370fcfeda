//! Product offering storage: the root row (identity, code, aggregate version), immutable
//! versions (with their fulfilment profiles) and their relationship rules.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use super::VersionRecord;
use super::fulfilment::FulfilmentProfileRecord;
use super::specifications::CharacteristicRecord;
use crate::domain::fulfilment::FulfilmentProfile;
use crate::domain::lifecycle::OfferingStatus;
use crate::domain::offering::Relationship;

/// The root row, locked for the duration of a command.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LockedRoot {
    /// Aggregate version before the command.
    pub aggregate_version: i64,
    /// Highest version number.
    pub latest_version: i32,
    /// The offering's code (immutable), for events and evidence.
    pub code: String,
}

/// Inserts a new offering root.
pub async fn insert_root(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
    code: &str,
    actor: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO product_offering (product_offering_id, tenant_id, code, created_by) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(tenant)
        .bind(code)
        .bind(actor)
        .execute(conn)
        .await?;
    Ok(())
}

/// Locks a tenant's offering root so commands on one offering run one at a time.
pub async fn lock_root(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
) -> Result<Option<LockedRoot>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.aggregate_version, o.code, (SELECT max(version) FROM product_offering_version v WHERE v.product_offering_id = o.product_offering_id) AS latest_version \
         FROM product_offering o WHERE o.tenant_id = $1 AND o.product_offering_id = $2 FOR UPDATE",
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Records that a command changed the offering; returns the new aggregate version.
pub async fn bump_root(conn: &mut PgConnection, id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE product_offering SET aggregate_version = aggregate_version + 1, updated_at = now() \
         WHERE product_offering_id = $1 RETURNING aggregate_version",
    )
    .bind(id)
    .fetch_one(conn)
    .await
}

/// Content fields of a version row.
#[derive(Debug, Clone)]
pub struct VersionFields<'a> {
    /// Name.
    pub name: &'a str,
    /// Description.
    pub description: Option<&'a str>,
    /// Specification.
    pub specification_id: Uuid,
    /// Relationship rules.
    pub relationships: &'a [Relationship],
    /// Fulfilment profile, if the version has one.
    pub fulfilment_profile: Option<&'a FulfilmentProfile>,
}

impl VersionFields<'_> {
    /// The profile as stored.
    fn stored_profile(&self) -> Option<Json<FulfilmentProfileRecord>> {
        self.fulfilment_profile
            .map(|p| Json(FulfilmentProfileRecord::from(p)))
    }
}

/// Inserts a DRAFT version with its relationships.
pub async fn insert_version(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
    version: i32,
    fields: &VersionFields<'_>,
    actor: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO product_offering_version (product_offering_id, version, tenant_id, status, name, description, \
         product_specification_id, created_by, fulfilment_profile) VALUES ($1, $2, $3, 'DRAFT', $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(version)
    .bind(tenant)
    .bind(fields.name)
    .bind(fields.description)
    .bind(fields.specification_id)
    .bind(actor)
    .bind(fields.stored_profile())
    .execute(&mut *conn)
    .await?;
    insert_relationships(conn, tenant, id, version, fields.relationships).await
}

async fn insert_relationships(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
    version: i32,
    relationships: &[Relationship],
) -> Result<(), sqlx::Error> {
    for r in relationships {
        sqlx::query(
            "INSERT INTO offering_relationship (product_offering_id, version, tenant_id, relationship_type, target_offering_id, \
             min_cardinality, max_cardinality) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(version)
        .bind(tenant)
        .bind(r.relationship_type.as_str())
        .bind(r.target.as_uuid())
        .bind(i32::try_from(r.min_cardinality).unwrap_or(i32::MAX))
        .bind(r.max_cardinality.map(|m| i32::try_from(m).unwrap_or(i32::MAX)))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Replaces a DRAFT version's content (the database refuses it for any other status).
pub async fn update_draft(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
    version: i32,
    fields: &VersionFields<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE product_offering_version SET name = $3, description = $4, product_specification_id = $5, \
         fulfilment_profile = $6 WHERE product_offering_id = $1 AND version = $2",
    )
    .bind(id)
    .bind(version)
    .bind(fields.name)
    .bind(fields.description)
    .bind(fields.specification_id)
    .bind(fields.stored_profile())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "DELETE FROM offering_relationship WHERE product_offering_id = $1 AND version = $2",
    )
    .bind(id)
    .bind(version)
    .execute(&mut *conn)
    .await?;
    insert_relationships(conn, tenant, id, version, fields.relationships).await
}

/// Moves a version to `to`, stamping the matching lifecycle date.
pub async fn set_status(
    conn: &mut PgConnection,
    id: Uuid,
    version: i32,
    to: OfferingStatus,
) -> Result<(), sqlx::Error> {
    let stamp = match to {
        OfferingStatus::ReadyForReview => "submitted_at = now(),",
        OfferingStatus::Published => "published_at = now(),",
        OfferingStatus::Retired => "retired_at = now(),",
        OfferingStatus::Archived => "archived_at = now(),",
        OfferingStatus::Draft => "",
    };
    let sql = format!(
        "UPDATE product_offering_version SET {stamp} status = $3 WHERE product_offering_id = $1 AND version = $2"
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
) -> Result<Option<OfferingStatus>, sqlx::Error> {
    let status: Option<String> = sqlx::query_scalar(
        "SELECT status FROM product_offering_version WHERE product_offering_id = $1 AND version = $2",
    )
    .bind(id)
    .bind(version)
    .fetch_optional(conn)
    .await?;
    Ok(status.and_then(|s| OfferingStatus::parse(&s)))
}

/// The version currently on sale, if any.
pub async fn published_version(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar("SELECT version FROM product_offering_version WHERE product_offering_id = $1 AND status = 'PUBLISHED'")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Which of `ids` are offerings of `tenant`.
pub async fn existing_ids(
    conn: &mut PgConnection,
    tenant: &str,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT product_offering_id FROM product_offering WHERE tenant_id = $1 AND product_offering_id = ANY($2)")
        .bind(tenant)
        .bind(ids)
        .fetch_all(conn)
        .await
}

/// Lifecycle state and dates of an offering version as stored, with the offering's aggregate
/// version (read together because every version answer carries both).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OfferingLifecycleRecord {
    /// Stored status.
    pub status: String,
    /// When submitted for review.
    pub submitted_at: Option<DateTime<Utc>>,
    /// When published.
    pub published_at: Option<DateTime<Utc>>,
    /// When retired.
    pub retired_at: Option<DateTime<Utc>>,
    /// When archived.
    pub archived_at: Option<DateTime<Utc>>,
    /// The offering's aggregate version.
    pub aggregate_version: i64,
}

/// Lifecycle of a tenant's offering version plus the aggregate version; `None` if absent.
pub async fn lifecycle(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
    version: i32,
) -> Result<Option<OfferingLifecycleRecord>, sqlx::Error> {
    sqlx::query_as(
        "SELECT v.status, v.submitted_at, v.published_at, v.retired_at, v.archived_at, o.aggregate_version \
         FROM product_offering_version v JOIN product_offering o USING (product_offering_id) \
         WHERE o.tenant_id = $1 AND v.product_offering_id = $2 AND v.version = $3",
    )
    .bind(tenant)
    .bind(id)
    .bind(version)
    .fetch_optional(conn)
    .await
}

#[derive(sqlx::FromRow)]
struct ContentRow {
    code: String,
    name: String,
    description: Option<String>,
    product_specification_id: Uuid,
    specification_code: String,
    created_at: DateTime<Utc>,
    created_by: String,
    fulfilment_profile: Option<Json<FulfilmentProfileRecord>>,
}

/// A stored relationship rule of an offering version, with the target's code joined in so
/// readers need no second lookup.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RelationshipRecord {
    /// Stored type (REQUIRES, EXCLUDES or ADD_ON_OF).
    pub relationship_type: String,
    /// The related offering.
    pub target_offering_id: Uuid,
    /// Code of the related offering.
    pub target_code: String,
    /// Fewest instances of the target.
    pub min_cardinality: i32,
    /// Most instances of the target (`None` = unbounded).
    pub max_cardinality: Option<i32>,
}

/// The stored content of an offering version (everything except its lifecycle), with the
/// specification's characteristic definitions and the relationship targets' codes resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferingContentRecord {
    /// Offering id.
    pub offering_id: Uuid,
    /// Owning tenant.
    pub tenant_id: String,
    /// Offering code.
    pub code: String,
    /// Version number.
    pub version: i32,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Specification id.
    pub product_specification_id: Uuid,
    /// Specification code.
    pub specification_code: String,
    /// The specification's characteristic definitions, in declaration order.
    pub characteristics: Vec<CharacteristicRecord>,
    /// Relationship rules, ordered by type then target.
    pub relationships: Vec<RelationshipRecord>,
    /// The stored fulfilment profile, if the version has one.
    pub fulfilment_profile: Option<FulfilmentProfileRecord>,
    /// When the version was created.
    pub created_at: DateTime<Utc>,
    /// Who created it.
    pub created_by: String,
}

/// The content of a tenant's offering version, characteristics resolved.
pub async fn content(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
    version: i32,
) -> Result<Option<OfferingContentRecord>, sqlx::Error> {
    let row: Option<ContentRow> = sqlx::query_as(
        "SELECT o.code, v.name, v.description, v.product_specification_id, s.code AS specification_code, v.created_at, v.created_by, \
         v.fulfilment_profile \
         FROM product_offering_version v \
         JOIN product_offering o USING (product_offering_id) \
         JOIN product_specification s ON s.product_specification_id = v.product_specification_id \
         WHERE o.tenant_id = $1 AND v.product_offering_id = $2 AND v.version = $3",
    )
    .bind(tenant)
    .bind(id)
    .bind(version)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let relationships: Vec<RelationshipRecord> = sqlx::query_as(
        "SELECT r.relationship_type, r.target_offering_id, t.code AS target_code, r.min_cardinality, r.max_cardinality \
         FROM offering_relationship r JOIN product_offering t ON t.product_offering_id = r.target_offering_id AND t.tenant_id = r.tenant_id \
         WHERE r.product_offering_id = $1 AND r.version = $2 ORDER BY r.relationship_type, r.target_offering_id",
    )
    .bind(id)
    .bind(version)
    .fetch_all(&mut *conn)
    .await?;
    let characteristics =
        super::specifications::characteristics(conn, row.product_specification_id).await?;
    Ok(Some(OfferingContentRecord {
        offering_id: id,
        tenant_id: tenant.to_owned(),
        code: row.code,
        version,
        name: row.name,
        description: row.description,
        product_specification_id: row.product_specification_id,
        specification_code: row.specification_code,
        characteristics,
        relationships,
        fulfilment_profile: row.fulfilment_profile.map(|p| p.0),
        created_at: row.created_at,
        created_by: row.created_by,
    }))
}

#[derive(sqlx::FromRow)]
struct OfferingRow {
    product_offering_id: Uuid,
    code: String,
    aggregate_version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    versions: sqlx::types::Json<Vec<(i32, String, String)>>,
}

const OFFERING_SELECT: &str = "SELECT o.product_offering_id, o.code, o.aggregate_version, o.created_at, o.updated_at, \
     (SELECT jsonb_agg(jsonb_build_array(v.version, v.status, v.name) ORDER BY v.version) \
        FROM product_offering_version v WHERE v.product_offering_id = o.product_offering_id) AS versions \
     FROM product_offering o";

/// A stored offering root with every version's number, status and name, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferingRecord {
    /// Id.
    pub id: Uuid,
    /// Code, unique per tenant.
    pub code: String,
    /// Aggregate version.
    pub aggregate_version: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Every version, oldest first.
    pub versions: Vec<VersionRecord>,
}

impl From<OfferingRow> for OfferingRecord {
    fn from(row: OfferingRow) -> Self {
        Self {
            id: row.product_offering_id,
            code: row.code,
            aggregate_version: row.aggregate_version,
            created_at: row.created_at,
            updated_at: row.updated_at,
            versions: VersionRecord::from_triples(row.versions.0),
        }
    }
}

/// A tenant's offering with its versions.
pub async fn find(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
) -> Result<Option<OfferingRecord>, sqlx::Error> {
    let sql = format!("{OFFERING_SELECT} WHERE o.tenant_id = $1 AND o.product_offering_id = $2");
    let row: Option<OfferingRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(Into::into))
}

/// A page of a tenant's offerings that have a version in `status` (when given) and carry
/// `code` (when given), ordered by code, with the total count.
pub async fn list(
    conn: &mut PgConnection,
    tenant: &str,
    status: Option<OfferingStatus>,
    code: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<OfferingRecord>, i64), sqlx::Error> {
    let filter = "WHERE o.tenant_id = $1 AND ($2::text IS NULL OR o.code = $2) AND ($3::text IS NULL OR EXISTS \
        (SELECT 1 FROM product_offering_version f WHERE f.product_offering_id = o.product_offering_id AND f.status = $3))";
    let status = status.map(OfferingStatus::as_str);
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM product_offering o {filter}"
    )))
    .bind(tenant)
    .bind(code)
    .bind(status)
    .fetch_one(&mut *conn)
    .await?;
    let rows: Vec<OfferingRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{OFFERING_SELECT} {filter} ORDER BY o.code LIMIT $4 OFFSET $5"
    )))
    .bind(tenant)
    .bind(code)
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?;
    Ok((rows.into_iter().map(Into::into).collect(), total))
}
