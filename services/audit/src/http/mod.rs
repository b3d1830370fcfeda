//! HTTP edge of the audit service: dispute queries, timelines, proofs, checkpoints,
//! verification and evidence bundles, for auditors and operators (ViewAudit). Nothing here
//! writes evidence; the only write is publishing a checkpoint on demand. Handlers extract the
//! caller's context (bearer token, ADR 0030), run in the caller's tenant and map every refusal
//! once ([`error`]).

pub mod bundles;
pub mod checkpoints;
pub mod error;
pub mod events;
pub mod openapi;
pub mod proofs;
pub mod verify;
pub mod views;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use common_kernel::context::RequestContext;
use common_kernel::db::{TenantTx, begin_for_tenant, begin_read_for_tenant};
use common_kernel::error::{ApiError, FieldError};
use sqlx::PgPool;
use utoipa::IntoParams;

use crate::app::Keyring;

/// What every handler needs.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Request handling's pool (the app role, under row-level security).
    pub db: PgPool,
    /// The checkpoint signing keys.
    pub keys: Arc<Keyring>,
}

impl AppState {
    /// A read-only transaction scoped to the caller's tenant.
    pub async fn read(&self, ctx: &RequestContext) -> Result<TenantTx, ApiError> {
        Ok(begin_read_for_tenant(&self.db, &ctx.tenant_id).await?)
    }

    /// A transaction scoped to the caller's tenant that may publish a checkpoint.
    pub async fn write(&self, ctx: &RequestContext) -> Result<TenantTx, ApiError> {
        Ok(begin_for_tenant(&self.db, &ctx.tenant_id).await?)
    }
}

/// Headers every request may carry.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
#[expect(
    dead_code,
    reason = "documents headers read by the RequestContext extractor"
)]
pub struct ContextHeaders {
    /// Calling channel (default API).
    #[param(rename = "X-Channel")]
    x_channel: Option<String>,
    /// Correlation id; generated when absent and echoed on the response.
    #[param(rename = "X-Correlation-Id")]
    x_correlation_id: Option<String>,
}

/// The page size asked for: 1 to 500, 100 when absent.
pub fn page_limit(limit: Option<i64>, errors: &mut Vec<FieldError>) -> i64 {
    let limit = limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        errors.push(FieldError::new("/limit", "OUT_OF_RANGE", "1 to 500"));
    }
    limit
}

/// An optional RFC 3339 timestamp query value; one that does not parse is a field error.
pub fn timestamp(
    raw: Option<&str>,
    field: &'static str,
    errors: &mut Vec<FieldError>,
) -> Option<DateTime<Utc>> {
    let raw = raw?;
    match DateTime::parse_from_rfc3339(raw) {
        Ok(at) => Some(at.with_timezone(&Utc)),
        Err(_) => {
            errors.push(FieldError::new(
                field,
                "INVALID",
                "an RFC 3339 timestamp, e.g. 2026-12-07T10:00:00Z",
            ));
            None
        }
    }
}

/// The audit service's business routes.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/audit-events", get(events::list))
        .route("/audit-events/{auditEventId}", get(events::get))
        .route("/audit-events/{auditEventId}/proof", get(proofs::inclusion))
        .route(
            "/audit/resources/{resourceType}/{resourceId}/timeline",
            get(events::timeline),
        )
        .route("/audit/consistency", get(proofs::consistency))
        .route("/audit/checkpoints", post(checkpoints::publish))
        .route("/audit/checkpoints/latest", get(checkpoints::latest))
        .route("/audit/signing-keys", get(checkpoints::signing_keys))
        .route("/audit/verify", post(verify::verify))
        .route("/audit/quarantine", get(events::quarantine))
        .route("/evidence-bundles", get(bundles::export))
        .with_state(state)
}
