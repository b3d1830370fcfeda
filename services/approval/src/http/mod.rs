//! HTTP edge of the approval service (issue 21, the portal approvers' door): the inbox of
//! engine user tasks, decisions, the requests with their evidence, recall, reassignment,
//! delegation and the approver directory. Handlers extract the caller's context (bearer token,
//! ADR 0030), convert bodies at the edge, run commands through the idempotent runner and map
//! every refusal once ([`error`]).

pub mod chain_views;
pub mod decisions;
pub mod delegations;
pub mod directory;
pub mod dto;
pub mod error;
pub mod openapi;
pub mod requests;
pub mod tasks;
pub mod views;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use common_kernel::context::RequestContext;
use common_kernel::db::{TenantTx, begin_read_for_tenant};
use common_kernel::error::ApiError;
use common_kernel::idempotency::CommandRunner;
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;

use crate::app::ports::{Ports, UserTaskEngine};

/// What every handler needs.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Request handling's pool (the app role, under row-level security): every transaction on
    /// it is scoped to a tenant.
    pub db: PgPool,
    /// Runs commands in transactions, idempotently.
    pub runner: CommandRunner,
    /// Request storage and the approver directory.
    pub ports: Ports,
    /// The workflow engine's user tasks (the inbox, and completing a decided task).
    pub tasks: Arc<dyn UserTaskEngine>,
}

impl AppState {
    /// A read-only transaction scoped to the caller's tenant, for a query; dropped when the
    /// handler is done.
    pub async fn conn(&self, ctx: &RequestContext) -> Result<TenantTx, ApiError> {
        Ok(begin_read_for_tenant(&self.db, &ctx.tenant_id).await?)
    }
}

/// Serialises a view for a command response.
pub fn to_json<T: Serialize>(value: &T) -> Result<Value, ApiError> {
    serde_json::to_value(value).map_err(ApiError::internal)
}

/// The approval service's business routes.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/approval-tasks", get(tasks::inbox))
        .route("/approval-requests", get(requests::list))
        .route("/approval-requests/{id}", get(requests::get))
        .route("/approval-requests/{id}/decisions", post(decisions::decide))
        .route("/approval-requests/{id}/recall", post(requests::recall))
        .route(
            "/approval-requests/{id}/levels/{level}/reassignment",
            post(requests::reassign),
        )
        .route(
            "/approval-delegations",
            post(delegations::grant).get(delegations::list),
        )
        .route(
            "/approvers/{actorId}",
            get(directory::get).put(directory::put),
        )
        .with_state(state)
}
