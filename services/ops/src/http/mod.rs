//! HTTP edge of the ops service: the operators' read views (ViewOperations). Nothing here
//! changes anything; repairs are the owning services' commands.

pub mod error;
pub mod openapi;
pub mod stuck;
pub mod timelines;
pub mod views;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use common_kernel::context::RequestContext;
use common_kernel::db::{TenantTx, begin_read_for_tenant};
use common_kernel::error::{ApiError, FieldError};
use sqlx::PgPool;
use utoipa::IntoParams;

use crate::settings::OpsSettings;

/// What every handler needs.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Request handling's pool (the app role, under row-level security).
    pub db: PgPool,
    /// The service's settings (stuck thresholds).
    pub settings: Arc<OpsSettings>,
}

impl AppState {
    /// A read-only transaction scoped to the caller's tenant.
    pub async fn read(&self, ctx: &RequestContext) -> Result<TenantTx, ApiError> {
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

/// The page size asked for: 1 to 500, 100 when absent.
pub fn page_limit(limit: Option<i64>, errors: &mut Vec<FieldError>) -> i64 {
    let limit = limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        errors.push(FieldError::new("/limit", "OUT_OF_RANGE", "1 to 500"));
    }
    limit
}

/// The ops service's business routes.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/timelines/orders/{orderId}", get(timelines::order))
        .route("/timelines/quotes/{quoteId}", get(timelines::quote))
        .route("/stuck-orders", get(stuck::list))
        .with_state(state)
}
