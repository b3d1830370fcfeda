//! HTTP edge of the catalog: request DTOs, handlers, error mapping and the OpenAPI document.

pub mod dto;
pub mod error;
pub mod offerings;
pub mod openapi;
pub mod price_books;
pub mod specifications;

use axum::Router;
use axum::routing::{get, post};
use common_kernel::cache::Cache;
use common_kernel::context::RequestContext;
use common_kernel::db::{TenantTx, begin_read_for_tenant};
use common_kernel::error::ApiError;
use common_kernel::idempotency::CommandRunner;
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;

/// What every handler needs.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Request handling's pool on the schema (the app role, under row-level security): every
    /// transaction on it is scoped to a tenant (`common_kernel::db::begin_for_tenant`).
    pub db: PgPool,
    /// The Redis accelerator.
    pub cache: Cache,
    /// Runs commands in transactions, idempotently.
    pub runner: CommandRunner,
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

/// The catalog's business routes.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route(
            "/product-specifications",
            post(specifications::create).get(specifications::list),
        )
        .route("/product-specifications/{id}", get(specifications::get))
        .route(
            "/product-offerings",
            post(offerings::create).get(offerings::list),
        )
        .route("/product-offerings/{id}", get(offerings::get))
        .route(
            "/product-offerings/{id}/submit-for-review",
            post(offerings::submit_for_review),
        )
        .route(
            "/product-offerings/{id}/return-to-draft",
            post(offerings::return_to_draft),
        )
        .route("/product-offerings/{id}/publish", post(offerings::publish))
        .route("/product-offerings/{id}/retire", post(offerings::retire))
        .route("/product-offerings/{id}/archive", post(offerings::archive))
        .route(
            "/product-offerings/{id}/versions",
            post(offerings::create_version),
        )
        .route(
            "/product-offerings/{id}/versions/{version}",
            get(offerings::get_version).patch(offerings::edit_version),
        )
        .route(
            "/price-books",
            post(price_books::create).get(price_books::list),
        )
        .route("/price-books/{id}", get(price_books::get))
        .route("/price-books/{id}/publish", post(price_books::publish))
        .route(
            "/price-books/{id}/versions",
            post(price_books::create_version),
        )
        .route(
            "/price-books/{id}/versions/{version}",
            get(price_books::get_version),
        )
        .with_state(state)
}
