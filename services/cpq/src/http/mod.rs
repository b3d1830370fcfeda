//! HTTP edge of CPQ: request DTOs, handlers, error mapping and the OpenAPI document.

pub mod dto;
pub mod error;
pub mod openapi;
pub mod quote_queries;
pub mod quotes;

use axum::Router;
use axum::routing::{get, post, put};
use common_kernel::context::RequestContext;
use common_kernel::db::{TenantTx, begin_read_for_tenant};
use common_kernel::error::ApiError;
use common_kernel::idempotency::CommandRunner;
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;

use crate::app::ports::Ports;

/// What every handler needs.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Request handling's pool on the schema (the app role, under row-level security): every
    /// transaction on it is scoped to a tenant (`common_kernel::db::begin_for_tenant`).
    pub db: PgPool,
    /// Runs commands in transactions, idempotently.
    pub runner: CommandRunner,
    /// The catalog and quote storage, behind the application's ports.
    pub ports: Ports,
}

impl AppState {
    /// A read-only transaction scoped to the caller's tenant, for a query: row-level security
    /// shows it that tenant's rows only. Dropped when the handler is done (nothing to commit).
    pub async fn conn(&self, ctx: &RequestContext) -> Result<TenantTx, ApiError> {
        Ok(begin_read_for_tenant(&self.db, &ctx.tenant_id).await?)
    }
}

/// Serialises a view for a command response.
pub fn to_json<T: Serialize>(value: &T) -> Result<Value, ApiError> {
    serde_json::to_value(value).map_err(ApiError::internal)
}

/// CPQ's business routes.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/quotes", post(quotes::create).get(quote_queries::list))
        .route("/quotes/{id}", get(quote_queries::get))
        .route("/quotes/{id}/items", put(quotes::replace_items))
        .route("/quotes/{id}/price", post(quotes::price))
        .route(
            "/quotes/{id}/items/{item_id}/price-override",
            post(quotes::override_price),
        )
        .route("/quotes/{id}/submit", post(quotes::submit))
        .route("/quotes/{id}/revise", post(quotes::revise))
        .route("/quotes/{id}/accept", post(quotes::accept))
        .route("/quotes/{id}/cancel", post(quotes::cancel))
        .route("/quotes/{id}/price-trace", get(quote_queries::price_trace))
        .route("/quotes/{id}/convert-to-order", post(quotes::convert))
        .with_state(state)
}
