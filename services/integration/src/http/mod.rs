//! HTTP edge of the integration service: the external call log and the external operations,
//! for operators (ViewOperations). The workers are the only writers; nothing here changes
//! state. Handlers extract the caller's context (bearer token, ADR 0030), read in the caller's
//! tenant and map every refusal once ([`error`]).

pub mod calls;
pub mod error;
pub mod openapi;
pub mod operations;
pub mod views;

use axum::Router;
use axum::routing::get;
use common_kernel::context::RequestContext;
use common_kernel::db::{TenantTx, begin_read_for_tenant};
use common_kernel::error::{ApiError, FieldError};
use sqlx::PgPool;
use utoipa::IntoParams;

/// What every handler needs.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Request handling's pool (the app role, under row-level security).
    pub db: PgPool,
}

impl AppState {
    /// A read-only transaction scoped to the caller's tenant.
    pub async fn conn(&self, ctx: &RequestContext) -> Result<TenantTx, ApiError> {
        Ok(begin_read_for_tenant(&self.db, &ctx.tenant_id).await?)
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

/// Reads an optional query value with `parse`; a value that does not parse is a field error.
pub fn optional<T>(
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> Option<T>,
    field: &'static str,
    message: &'static str,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    let value = raw?;
    let parsed = parse(value);
    if parsed.is_none() {
        errors.push(FieldError::new(field, "INVALID", message));
    }
    parsed
}

/// The page size asked for: 1 to 500, 100 when absent.
pub fn page_limit(limit: Option<i64>, errors: &mut Vec<FieldError>) -> i64 {
    let limit = limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        errors.push(FieldError::new("/limit", "OUT_OF_RANGE", "1 to 500"));
    }
    limit
}

/// The integration service's business routes.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/external-calls", get(calls::list))
        .route("/external-operations", get(operations::list))
        .route(
            "/external-operations/{idempotencyKey}",
            get(operations::get),
        )
        .with_state(state)
}
