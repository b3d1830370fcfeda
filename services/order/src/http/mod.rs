//! HTTP edge of the order service: direct capture, orders and their plans, cancellation, hold
//! and retry, the fallout workbench, the installed base.
//! Handlers extract the caller's context (bearer token, ADR 0030), run in the caller's tenant
//! and map every refusal once ([`error`]).

pub mod amendments;
pub mod asset_repairs;
pub mod assets;
pub mod dto;
pub mod error;
pub mod fallout_dto;
pub mod fallouts;
pub mod interventions;
pub mod openapi;
pub mod orders;

use axum::Router;
use axum::routing::{get, post};
use common_kernel::context::RequestContext;
use common_kernel::db::{TenantTx, begin_read_for_tenant};
use common_kernel::error::{ApiError, FieldError};
use common_kernel::idempotency::CommandRunner;
use sqlx::PgPool;
use utoipa::IntoParams;

/// What every handler needs.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Request handling's pool (the app role, under row-level security).
    pub db: PgPool,
    /// Idempotent command execution.
    pub runner: CommandRunner,
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

/// Headers of commands that must be safe to retry.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
#[expect(dead_code, reason = "documents headers read by extractors")]
pub struct IdempotencyHeaders {
    /// Mandatory: the same key and request replay the first answer; a different request with
    /// the same key is refused.
    #[param(rename = "Idempotency-Key", required = true)]
    idempotency_key: Option<String>,
}

/// The parts of a stored assessment (a cancellation's or an amendment's impact, as JSON) the
/// API shows: the order's status when assessed, the items and the tasks.
pub fn impact_parts(
    value: &serde_json::Value,
) -> (String, Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let list = |key: &str| {
        value
            .get(key)
            .and_then(serde_json::Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let status = value
        .get("orderStatus")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned();
    (status, list("items"), list("tasks"))
}

/// A 201 answer of a created resource at `location`.
pub fn created(
    view: &impl serde::Serialize,
    location: String,
) -> Result<common_kernel::idempotency::CommandResponse, ApiError> {
    serde_json::to_value(view)
        .map(|body| common_kernel::idempotency::CommandResponse::created(body, location))
        .map_err(ApiError::internal)
}

/// The page size asked for: 1 to 500, 100 when absent.
pub fn page_limit(limit: Option<i64>, errors: &mut Vec<FieldError>) -> i64 {
    let limit = limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        errors.push(FieldError::new("/limit", "OUT_OF_RANGE", "1 to 500"));
    }
    limit
}

/// The order service's business routes.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/orders", get(orders::list).post(orders::create))
        .route("/orders/{id}", get(orders::get))
        .route("/orders/{id}/plan", get(orders::plan))
        .route("/orders/{id}/cancellations", post(interventions::cancel))
        .route(
            "/orders/{id}/cancellations/preview",
            post(interventions::preview),
        )
        .route(
            "/orders/{id}/cancellations/{cancellation_id}",
            get(interventions::get_cancellation),
        )
        .route("/orders/{id}/amendments", post(amendments::amend))
        .route("/orders/{id}/amendments/preview", post(amendments::preview))
        .route(
            "/orders/{id}/amendments/{amendment_id}",
            get(amendments::get),
        )
        .route("/orders/{id}/hold", post(interventions::hold))
        .route("/orders/{id}/resume", post(interventions::resume))
        .route(
            "/orders/{id}/tasks/{task_id}/retry",
            post(interventions::retry_task),
        )
        .route("/fallouts", get(fallouts::list))
        .route("/fallouts/summary", get(fallouts::summary))
        .route("/fallouts/bulk-actions", post(fallouts::bulk))
        .route("/fallouts/{id}", get(fallouts::get))
        .route("/fallouts/{id}/actions", post(fallouts::act))
        .route("/assets", get(assets::list))
        .route("/assets/{id}", get(assets::get))
        .route("/assets/{id}/repairs", post(asset_repairs::repair))
        .route("/subscriptions", get(assets::subscriptions))
        .with_state(state)
}
