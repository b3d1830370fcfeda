//! `quote_approval_request`: what the approval service said about each request, one row per
//! request, replaced only by a newer version of the same request of the same tenant's quote
//! (the table's guard refuses an older one, and the upsert never tries).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain_kernel::TenantId;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::app::ports::{ApprovalEvidenceStore, EventRef, StoreError, StoredEvidence};
use crate::domain::QuoteId;
use crate::domain::approval::{
    ApprovalRequestId, ApprovalRequestRef, ApprovalStatus, DecisionEvidence, LevelEvidence,
    RequestEvidence,
};

/// Approval evidence in `cpq_schema`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PgApprovalEvidence;

/// A stored row.
#[derive(Debug, sqlx::FromRow)]
struct EvidenceRow {
    approval_request_id: Uuid,
    quote_id: Uuid,
    revision: i32,
    price_hash: String,
    status: String,
    policy_id: String,
    policy_version: String,
    levels: Value,
    decisions: Value,
    request_version: i64,
    occurred_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn encode(value: &impl serde::Serialize) -> Result<Value, StoreError> {
    serde_json::to_value(value).map_err(corrupt)
}

impl TryFrom<EvidenceRow> for StoredEvidence {
    type Error = StoreError;

    fn try_from(row: EvidenceRow) -> Result<Self, StoreError> {
        let status = ApprovalStatus::parse(&row.status)
            .ok_or_else(|| corrupt(format!("approval status {}", row.status)))?;
        Ok(Self {
            evidence: RequestEvidence {
                request: ApprovalRequestRef {
                    request_id: ApprovalRequestId::from_uuid(row.approval_request_id),
                    policy_id: row.policy_id,
                    policy_version: row.policy_version,
                },
                quote_id: QuoteId::from_uuid(row.quote_id),
                revision: row.revision,
                price_hash: row.price_hash,
                status,
                levels: serde_json::from_value::<Vec<LevelEvidence>>(row.levels)
                    .map_err(corrupt)?,
                decisions: serde_json::from_value::<Vec<DecisionEvidence>>(row.decisions)
                    .map_err(corrupt)?,
                request_version: row.request_version,
                occurred_at: row.occurred_at,
            },
            updated_at: row.updated_at,
        })
    }
}

#[async_trait]
impl ApprovalEvidenceStore for PgApprovalEvidence {
    async fn record(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        evidence: &RequestEvidence,
        event: EventRef<'_>,
    ) -> Result<bool, StoreError> {
        let written = sqlx::query(
            "INSERT INTO quote_approval_request AS r (approval_request_id, tenant_id, quote_id, revision, price_hash, \
             status, policy_id, policy_version, levels, decisions, request_version, last_event_id, last_event_type, \
             occurred_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (approval_request_id) DO UPDATE SET status = EXCLUDED.status, levels = EXCLUDED.levels, \
             decisions = EXCLUDED.decisions, request_version = EXCLUDED.request_version, \
             last_event_id = EXCLUDED.last_event_id, last_event_type = EXCLUDED.last_event_type, \
             occurred_at = EXCLUDED.occurred_at \
             WHERE r.request_version < EXCLUDED.request_version AND r.tenant_id = EXCLUDED.tenant_id \
             AND r.quote_id = EXCLUDED.quote_id",
        )
        .bind(evidence.request.request_id.as_uuid())
        .bind(tenant.as_str())
        .bind(evidence.quote_id.as_uuid())
        .bind(evidence.revision)
        .bind(&evidence.price_hash)
        .bind(evidence.status.as_str())
        .bind(&evidence.request.policy_id)
        .bind(&evidence.request.policy_version)
        .bind(encode(&evidence.levels)?)
        .bind(encode(&evidence.decisions)?)
        .bind(evidence.request_version)
        .bind(event.event_id)
        .bind(event.event_type)
        .bind(evidence.occurred_at)
        .execute(conn)
        .await?;
        Ok(written.rows_affected() == 1)
    }

    async fn latest(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        quote: QuoteId,
        revision: i32,
    ) -> Result<Option<StoredEvidence>, StoreError> {
        let row: Option<EvidenceRow> = sqlx::query_as(
            "SELECT approval_request_id, quote_id, revision, price_hash, status, policy_id, policy_version, levels, \
             decisions, request_version, occurred_at, updated_at FROM quote_approval_request \
             WHERE tenant_id = $1 AND quote_id = $2 AND revision = $3 \
             ORDER BY created_at DESC, approval_request_id DESC LIMIT 1",
        )
        .bind(tenant.as_str())
        .bind(quote.as_uuid())
        .bind(revision)
        .fetch_optional(conn)
        .await?;
        row.map(StoredEvidence::try_from).transpose()
    }
}
