//! HTTP edge of the ops service: the operators' read views (ViewOperations) and the one
//! command, a projection rebuild (ops-lead). Nothing here changes business state; repairs are
//! the owning services' commands.

pub mod customers;
pub mod dto;
pub mod error;
pub mod metrics_dto;
pub mod openapi;
pub mod projections;
pub mod queues;
pub mod stuck;
pub mod timelines;
pub mod views;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use common_kernel::context::RequestContext;
use common_kernel::db::{TenantTx, begin_read_for_tenant};
use common_kernel::error::{ApiError, FieldError};
use messaging::consumer::LagReader;
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
    /// The jobs role's pool, for a rebuild's run.
    pub jobs_db: PgPool,
    /// The broker list, for a rebuild's replay (`None`: no broker, nothing to replay).
    pub brokers: Option<String>,
    /// The projector's lag, for the projections' status.
    pub lag: Option<LagReader>,
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
        .route("/fallout-queue", get(queues::fallout))
        .route("/approval-aging", get(queues::approvals))
        .route("/customers/{customerId}", get(customers::customer))
        .route("/search", get(customers::search))
        .route("/business-metrics", get(projections::business_metrics))
        .route("/projections/status", get(projections::status))
        .route("/ops/projections/rebuild", post(projections::rebuild))
        .route(
            "/ops/projections/rebuilds/{rebuildId}",
            get(projections::get_rebuild),
        )
        .with_state(state)
}
