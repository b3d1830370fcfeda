//! Reading requests back whole (root, levels, decisions, escalation facts), and the list
//! queries. Every query names the tenant as well as relying on row-level security, so the
//! indexes that lead with `tenant_id` serve it.

use chrono::{DateTime, Utc};
use domain_kernel::{ActorId, TenantId};
use serde_json::Value;
use sqlx::PgConnection;
use sqlx::types::Uuid;

use super::guards::map;
use super::rows::{self, DecisionRow, LevelRow, RequestRow};
use crate::app::ports::{OpenTask, StoreError};
use crate::domain::{
    ApprovalRequest, ApprovalRequestId, Delegation, DelegationBook, DelegationId, GroupId, QuoteId,
    QuoteRef, QuoteRevision,
};

const REQUEST_COLUMNS: &str = "approval_request_id, tenant_id, quote_id, quote_revision, price_hash, status, \
     submitted_by, policy_snapshot, expires_at, aggregate_version, created_at";

/// The request `id`, locked `FOR UPDATE` when `lock`.
pub(super) async fn request(
    conn: &mut PgConnection,
    tenant: &TenantId,
    id: ApprovalRequestId,
    lock: bool,
) -> Result<Option<ApprovalRequest>, StoreError> {
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM approval_request WHERE tenant_id = $1 AND approval_request_id = $2{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let row: Option<RequestRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .bind(id.as_uuid())
        .fetch_optional(&mut *conn)
        .await
        .map_err(map)?;
    match row {
        Some(row) => whole(conn, tenant, row).await.map(Some),
        None => Ok(None),
    }
}

/// Every request of `quote`, newest first, locked when `lock`.
pub(super) async fn by_quote(
    conn: &mut PgConnection,
    tenant: &TenantId,
    quote: QuoteId,
    lock: bool,
) -> Result<Vec<ApprovalRequest>, StoreError> {
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM approval_request WHERE tenant_id = $1 AND quote_id = $2 \
         ORDER BY quote_revision DESC, created_at DESC, approval_request_id{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let rows: Vec<RequestRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .bind(quote.as_uuid())
        .fetch_all(&mut *conn)
        .await
        .map_err(map)?;
    let mut requests = Vec::with_capacity(rows.len());
    for row in rows {
        requests.push(whole(conn, tenant, row).await?);
    }
    Ok(requests)
}

/// Levels, decisions and escalation facts of the request in `row`.
async fn whole(
    conn: &mut PgConnection,
    tenant: &TenantId,
    row: RequestRow,
) -> Result<ApprovalRequest, StoreError> {
    let id = row.approval_request_id;
    let levels: Vec<LevelRow> = sqlx::query_as(
        "SELECT level, quorum, groups, escalation_groups, reminded, due_at, state, decided_at, skip_evidence \
         FROM approval_level WHERE tenant_id = $1 AND approval_request_id = $2 ORDER BY position",
    )
    .bind(tenant.as_str())
    .bind(id)
    .fetch_all(&mut *conn)
    .await
    .map_err(map)?;
    // No sequence column: decisions are ordered by time, then id, which is the order recorded
    // whenever two decisions are not taken in the same microsecond.
    let decisions: Vec<DecisionRow> = sqlx::query_as(
        "SELECT approval_decision_id, level, group_id, actor_id, on_behalf_of, delegation_id, decision, reason, \
         price_hash, decided_at FROM approval_decision WHERE tenant_id = $1 AND approval_request_id = $2 \
         ORDER BY decided_at, approval_decision_id",
    )
    .bind(tenant.as_str())
    .bind(id)
    .fetch_all(&mut *conn)
    .await
    .map_err(map)?;
    let escalations: Vec<Value> = sqlx::query_scalar(
        "SELECT details FROM approval_history WHERE tenant_id = $1 AND approval_request_id = $2 \
         AND command IN ('ESCALATE', 'REASSIGN') ORDER BY history_id",
    )
    .bind(tenant.as_str())
    .bind(id)
    .fetch_all(&mut *conn)
    .await
    .map_err(map)?;
    rows::restore(row, levels, decisions, escalations)
}

#[derive(sqlx::FromRow)]
struct TaskRow {
    approval_request_id: Uuid,
    quote_id: Uuid,
    quote_revision: i32,
    price_hash: String,
    level: String,
    groups: Vec<String>,
    due_at: DateTime<Utc>,
}

/// PENDING requests whose open level (the first not done) is assigned to one of `groups`.
pub(super) async fn open_tasks(
    conn: &mut PgConnection,
    tenant: &TenantId,
    groups: &[GroupId],
    limit: i64,
) -> Result<Vec<OpenTask>, StoreError> {
    let names: Vec<&str> = groups.iter().map(GroupId::as_str).collect();
    let rows: Vec<TaskRow> = sqlx::query_as(
        "SELECT r.approval_request_id, r.quote_id, r.quote_revision, r.price_hash, l.level, l.groups, l.due_at \
         FROM approval_request r \
         CROSS JOIN LATERAL (SELECT level, groups, due_at, state FROM approval_level l \
             WHERE l.tenant_id = r.tenant_id AND l.approval_request_id = r.approval_request_id \
               AND l.state NOT IN ('SATISFIED', 'SKIPPED') ORDER BY l.position LIMIT 1) l \
         WHERE r.tenant_id = $1 AND r.status = 'PENDING' AND l.state = 'OPEN' AND l.groups && $2::text[] \
         ORDER BY l.due_at, r.approval_request_id LIMIT $3",
    )
    .bind(tenant.as_str())
    .bind(&names)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await
    .map_err(map)?;
    rows.into_iter()
        .map(|row| {
            Ok(OpenTask {
                request_id: ApprovalRequestId::from_uuid(row.approval_request_id),
                quote: QuoteRef {
                    quote_id: QuoteId::from_uuid(row.quote_id),
                    revision: QuoteRevision::new(row.quote_revision)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    price_hash: rows::hash(&row.price_hash)?,
                },
                level: rows::level(&row.level)?,
                groups: row
                    .groups
                    .iter()
                    .map(|g| GroupId::parse(g).map_err(|e| StoreError::Corrupt(e.to_string())))
                    .collect::<Result<_, _>>()?,
                due: row.due_at,
            })
        })
        .collect()
}

/// Ids of PENDING requests whose time is over.
pub(super) async fn due_for_expiry(
    conn: &mut PgConnection,
    tenant: &TenantId,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<ApprovalRequestId>, StoreError> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT approval_request_id FROM approval_request \
         WHERE tenant_id = $1 AND status = 'PENDING' AND expires_at <= $2 ORDER BY expires_at LIMIT $3",
    )
    .bind(tenant.as_str())
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await
    .map_err(map)?;
    Ok(ids.into_iter().map(ApprovalRequestId::from_uuid).collect())
}

#[derive(sqlx::FromRow)]
struct DelegationRow {
    delegation_id: Uuid,
    delegator_id: String,
    delegate_id: String,
    valid_from: DateTime<Utc>,
    valid_until: DateTime<Utc>,
}

/// Unrevoked delegations naming `actor` on either side.
pub(super) async fn delegations(
    conn: &mut PgConnection,
    tenant: &TenantId,
    actor: &ActorId,
) -> Result<DelegationBook, StoreError> {
    let rows: Vec<DelegationRow> = sqlx::query_as(
        "SELECT delegation_id, delegator_id, delegate_id, valid_from, valid_until FROM approval_delegation \
         WHERE tenant_id = $1 AND revoked_at IS NULL AND (delegate_id = $2 OR delegator_id = $2) \
         ORDER BY valid_from, delegation_id",
    )
    .bind(tenant.as_str())
    .bind(actor.as_str())
    .fetch_all(&mut *conn)
    .await
    .map_err(map)?;
    let parse = |v: &str| ActorId::parse(v).map_err(|e| StoreError::Corrupt(e.to_string()));
    let delegations = rows
        .into_iter()
        .map(|row| {
            Ok(Delegation {
                id: DelegationId::from_uuid(row.delegation_id),
                delegator: parse(&row.delegator_id)?,
                delegate: parse(&row.delegate_id)?,
                valid_from: row.valid_from,
                valid_until: row.valid_until,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(DelegationBook::new(delegations))
}
