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
use common_kernel::error::ApiError;
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
