//! Reads that join a request to what lies around it: the engine's process instance running it,
//! the open levels of several instances (the inbox), its history rows, and the tenant's whole
//! delegation book for a new grant's cycle check.

use chrono::{DateTime, Utc};
use common_kernel::context::ActorType;
use domain_kernel::{ActorId, TenantId};
use serde_json::Value;
use sqlx::PgConnection;
use sqlx::types::Uuid;

use super::guards::map;
use super::rows;
use crate::app::ports::{HistoryEntry, InstanceTask, OpenTask, StoreError};
use crate::domain::{
    ApprovalCommand, ApprovalRequestId, ApprovalStatus, Delegation, DelegationBook, DelegationId,
    GroupId, QuoteId, QuoteRef, QuoteRevision,
};

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

/// The process instance linked to request `id`, if any.
pub(super) async fn process_instance_key(
    conn: &mut PgConnection,
    tenant: &TenantId,
    id: ApprovalRequestId,
) -> Result<Option<i64>, StoreError> {
    let key: Option<i64> = sqlx::query_scalar(
        "SELECT process_instance_key FROM approval_process WHERE tenant_id = $1 AND approval_request_id = $2",
    )
    .bind(tenant.as_str())
    .bind(id.as_uuid())
    .fetch_optional(&mut *conn)
    .await
    .map_err(map)?;
    Ok(key)
}

#[derive(sqlx::FromRow)]
struct InstanceTaskRow {
    process_instance_key: i64,
    approval_request_id: Uuid,
    quote_id: Uuid,
    quote_revision: i32,
    price_hash: String,
    level: String,
    groups: Vec<String>,
    due_at: DateTime<Utc>,
}

/// PENDING requests of the tenant run by one of `instances`, with their open level (the first
/// level not done, when it is OPEN).
pub(super) async fn open_tasks_of_instances(
    conn: &mut PgConnection,
    tenant: &TenantId,
    instances: &[i64],
) -> Result<Vec<InstanceTask>, StoreError> {
    let rows: Vec<InstanceTaskRow> = sqlx::query_as(
        "SELECT p.process_instance_key, r.approval_request_id, r.quote_id, r.quote_revision, r.price_hash, \
         l.level, l.groups, l.due_at \
         FROM approval_request r \
         JOIN approval_process p \
           ON p.tenant_id = r.tenant_id AND p.approval_request_id = r.approval_request_id \
         CROSS JOIN LATERAL (SELECT level, groups, due_at, state FROM approval_level l \
             WHERE l.tenant_id = r.tenant_id AND l.approval_request_id = r.approval_request_id \
               AND l.state NOT IN ('SATISFIED', 'SKIPPED') ORDER BY l.position LIMIT 1) l \
         WHERE r.tenant_id = $1 AND p.process_instance_key = ANY($2) AND r.status = 'PENDING' \
           AND l.state = 'OPEN'",
    )
    .bind(tenant.as_str())
    .bind(instances)
    .fetch_all(&mut *conn)
    .await
    .map_err(map)?;
    rows.into_iter()
        .map(|row| {
            Ok(InstanceTask {
                process_instance_key: row.process_instance_key,
                open: OpenTask {
                    request_id: ApprovalRequestId::from_uuid(row.approval_request_id),
                    quote: QuoteRef {
                        quote_id: QuoteId::from_uuid(row.quote_id),
                        revision: QuoteRevision::new(row.quote_revision).map_err(corrupt)?,
                        price_hash: rows::hash(&row.price_hash)?,
                    },
                    level: rows::level(&row.level)?,
                    groups: row
                        .groups
                        .iter()
                        .map(|g| GroupId::parse(g).map_err(corrupt))
                        .collect::<Result<_, _>>()?,
                    due: row.due_at,
                },
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct HistoryRow {
    command: String,
    from_status: Option<String>,
    to_status: String,
    aggregate_version: i64,
    actor_id: String,
    actor_type: String,
    via: Option<String>,
    reason: Option<String>,
    details: Option<Value>,
    correlation_id: String,
    occurred_at: DateTime<Utc>,
}

fn status(value: &str) -> Result<ApprovalStatus, StoreError> {
    ApprovalStatus::parse(value).ok_or_else(|| corrupt(format!("status {value}")))
}

impl TryFrom<HistoryRow> for HistoryEntry {
    type Error = StoreError;

    fn try_from(row: HistoryRow) -> Result<Self, StoreError> {
        let command = match row.command.as_str() {
            "OPEN" => None,
            other => Some(
                ApprovalCommand::parse(other)
                    .ok_or_else(|| corrupt(format!("history command {other}")))?,
            ),
        };
        Ok(Self {
            command,
            from: row.from_status.as_deref().map(status).transpose()?,
            to: status(&row.to_status)?,
            version: row.aggregate_version,
            actor: ActorId::parse(&row.actor_id).map_err(corrupt)?,
            actor_type: ActorType::parse(&row.actor_type)
                .ok_or_else(|| corrupt(format!("actor type {}", row.actor_type)))?,
            via: row.via,
            reason: row.reason,
            details: row.details.unwrap_or(Value::Null),
            correlation_id: row.correlation_id,
            occurred_at: row.occurred_at,
        })
    }
}

/// The history of request `id`, oldest first.
pub(super) async fn history(
    conn: &mut PgConnection,
    tenant: &TenantId,
    id: ApprovalRequestId,
) -> Result<Vec<HistoryEntry>, StoreError> {
    let rows: Vec<HistoryRow> = sqlx::query_as(
        "SELECT command, from_status, to_status, aggregate_version, actor_id, actor_type, via, reason, details, \
         correlation_id, occurred_at FROM approval_history \
         WHERE tenant_id = $1 AND approval_request_id = $2 ORDER BY history_id",
    )
    .bind(tenant.as_str())
    .bind(id.as_uuid())
    .fetch_all(&mut *conn)
    .await
    .map_err(map)?;
    rows.into_iter().map(HistoryEntry::try_from).collect()
}

#[derive(sqlx::FromRow)]
struct DelegationRow {
    delegation_id: Uuid,
    delegator_id: String,
    delegate_id: String,
    valid_from: DateTime<Utc>,
    valid_until: DateTime<Utc>,
}

/// Every unrevoked delegation of the tenant ending after `from`, under the tenant's delegation
/// lock: the advisory lock `approval_delegation_guard` takes, so grants of one tenant serialise
/// from this read to their commit.
pub(super) async fn delegations_for_grant(
    conn: &mut PgConnection,
    tenant: &TenantId,
    from: DateTime<Utc>,
) -> Result<DelegationBook, StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('approval_delegation:' || $1))")
        .bind(tenant.as_str())
        .execute(&mut *conn)
        .await
        .map_err(map)?;
    let rows: Vec<DelegationRow> = sqlx::query_as(
        "SELECT delegation_id, delegator_id, delegate_id, valid_from, valid_until FROM approval_delegation \
         WHERE tenant_id = $1 AND revoked_at IS NULL AND valid_until > $2 ORDER BY valid_from, delegation_id",
    )
    .bind(tenant.as_str())
    .bind(from)
    .fetch_all(&mut *conn)
    .await
    .map_err(map)?;
    let actor = |v: &str| ActorId::parse(v).map_err(corrupt);
    let delegations = rows
        .into_iter()
        .map(|row| {
            Ok(Delegation {
                id: DelegationId::from_uuid(row.delegation_id),
                delegator: actor(&row.delegator_id)?,
                delegate: actor(&row.delegate_id)?,
                valid_from: row.valid_from,
                valid_until: row.valid_until,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(DelegationBook::new(delegations))
}
