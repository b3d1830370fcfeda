//! The tenant's approver directory in PostgreSQL (`approver`): the [`ApproverDirectory`] port
//! decisions consult before they lock anything, each answer on its own short read-only
//! transaction scoped to the tenant, and the entry reads and writes the directory's own command
//! runs in its transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use common_kernel::context::RequestContext;
use common_kernel::db::begin_read_for_tenant;
use domain_kernel::access::Role;
use domain_kernel::{ActorId, TenantId};
use sqlx::{PgConnection, PgPool};

use super::guards::map;
use crate::app::ports::{ApproverDirectory, ApproverEntry, StoreError};
use crate::domain::{Approver, GroupId};

/// The directory over a pool of the request role (`approval_app`, row-level security): every
/// read opens `BEGIN READ ONLY` for the tenant asked about and returns the connection at once.
#[derive(Debug, Clone)]
pub struct PgApproverDirectory {
    db: PgPool,
}

impl PgApproverDirectory {
    /// A directory reading through `db` (the service's request pool).
    pub fn new(db: PgPool) -> Self {
        Self { db }
    }

    async fn read(
        &self,
        tenant: &TenantId,
        actor: &ActorId,
    ) -> Result<Option<ApproverEntry>, StoreError> {
        let mut tx = begin_read_for_tenant(&self.db, tenant).await?;
        // Dropped without a commit: nothing was written (see `begin_read_for_tenant`).
        entry(&mut tx, tenant, actor, false).await
    }
}

#[async_trait]
impl ApproverDirectory for PgApproverDirectory {
    async fn groups_of(
        &self,
        tenant: &TenantId,
        actor: &ActorId,
    ) -> Result<Vec<GroupId>, StoreError> {
        Ok(self
            .read(tenant, actor)
            .await?
            .map(|e| e.groups)
            .unwrap_or_default())
    }

    async fn approver(
        &self,
        tenant: &TenantId,
        principal: &ActorId,
    ) -> Result<Option<Approver>, StoreError> {
        Ok(self.read(tenant, principal).await?.map(|e| e.approver()))
    }

    async fn roles_of(&self, tenant: &TenantId, actor: &ActorId) -> Result<Vec<Role>, StoreError> {
        Ok(self
            .read(tenant, actor)
            .await?
            .map(|e| e.roles)
            .unwrap_or_default())
    }
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    actor_id: String,
    roles: Vec<String>,
    groups: Vec<String>,
    version: i64,
    updated_at: DateTime<Utc>,
    updated_by: String,
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("approver entry: {what}"))
}

impl TryFrom<EntryRow> for ApproverEntry {
    type Error = StoreError;

    fn try_from(row: EntryRow) -> Result<Self, StoreError> {
        Ok(Self {
            actor: ActorId::parse(&row.actor_id).map_err(corrupt)?,
            roles: row
                .roles
                .iter()
                .map(|r| Role::parse(r).ok_or_else(|| corrupt(format!("role {r}"))))
                .collect::<Result<_, _>>()?,
            groups: row
                .groups
                .iter()
                .map(|g| GroupId::parse(g).map_err(corrupt))
                .collect::<Result<_, _>>()?,
            version: row.version,
            updated_at: row.updated_at,
            updated_by: ActorId::parse(&row.updated_by).map_err(corrupt)?,
        })
    }
}

/// The entry of `actor`, after locking its key for the transaction when `lock`: an advisory
/// lock on tenant and actor, since an entry not yet created has no row to lock.
pub(super) async fn entry(
    conn: &mut PgConnection,
    tenant: &TenantId,
    actor: &ActorId,
    lock: bool,
) -> Result<Option<ApproverEntry>, StoreError> {
    if lock {
        sqlx::query(
            "SELECT pg_advisory_xact_lock(hashtextextended('approver:' || $1 || ':' || $2, 0))",
        )
        .bind(tenant.as_str())
        .bind(actor.as_str())
        .execute(&mut *conn)
        .await
        .map_err(map)?;
    }
    let row: Option<EntryRow> = sqlx::query_as(
        "SELECT actor_id, roles, groups, version, updated_at, updated_by FROM approver \
         WHERE tenant_id = $1 AND actor_id = $2",
    )
    .bind(tenant.as_str())
    .bind(actor.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map_err(map)?;
    row.map(ApproverEntry::try_from).transpose()
}

/// Inserts `entry` at version 1, or replaces version − 1 with it; returns it as stored (the
/// schema stamps `updated_at`).
pub(super) async fn save(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    entry: &ApproverEntry,
) -> Result<ApproverEntry, StoreError> {
    let roles: Vec<&str> = entry.roles.iter().map(|r| r.as_str()).collect();
    let groups: Vec<&str> = entry.groups.iter().map(GroupId::as_str).collect();
    let sql = if entry.version == 1 {
        "INSERT INTO approver (tenant_id, actor_id, roles, groups, version, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         RETURNING actor_id, roles, groups, version, updated_at, updated_by"
    } else {
        "UPDATE approver SET roles = $3, groups = $4, version = $5, updated_by = $6 \
         WHERE tenant_id = $1 AND actor_id = $2 AND version = $5 - 1 \
         RETURNING actor_id, roles, groups, version, updated_at, updated_by"
    };
    let row: Option<EntryRow> = sqlx::query_as(sql)
        .bind(ctx.tenant_id.as_str())
        .bind(entry.actor.as_str())
        .bind(&roles)
        .bind(&groups)
        .bind(entry.version)
        .bind(ctx.actor.actor_id.as_str())
        .fetch_optional(&mut *conn)
        .await
        .map_err(map)?;
    row.ok_or_else(|| {
        corrupt(format!(
            "{} changed although its key was locked",
            entry.actor
        ))
    })?
    .try_into()
}
