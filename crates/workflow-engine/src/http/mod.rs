//! The engine's REST API on its own port (`WORKFLOW_REST_PORT`, default 8090): the user-task
//! subset of Camunda 8's REST API v2 for task lists and the operator views (`/v1/ops`),
//! wrapped by the platform's HTTP plumbing (problem+json errors, health, metrics,
//! `/openapi.json`, `/docs`).

pub mod error;
pub mod key;
pub mod openapi;
pub mod ops;
pub mod ops_dto;
pub mod user_task_dto;
pub mod user_tasks;

use axum::Router;
use axum::routing::{delete, get, post};

use crate::Engine;

/// The API routes over an engine.
pub fn routes(engine: Engine) -> Router {
    Router::new()
        .route("/v2/user-tasks/search", post(user_tasks::search))
        .route("/v2/user-tasks/{userTaskKey}", get(user_tasks::get))
        .route(
            "/v2/user-tasks/{userTaskKey}/assignment",
            post(user_tasks::assign),
        )
        .route(
            "/v2/user-tasks/{userTaskKey}/assignee",
            delete(user_tasks::unassign),
        )
        .route(
            "/v2/user-tasks/{userTaskKey}/completion",
            post(user_tasks::complete),
        )
        .route("/v1/ops/process-instances", get(ops::list_instances))
        .route(
            "/v1/ops/process-instances/{processInstanceKey}",
            get(ops::get_instance),
        )
        .route("/v1/ops/incidents", get(ops::list_incidents))
        .route(
            "/v1/ops/incidents/{incidentKey}/resolve",
            post(ops::resolve_incident),
        )
        .with_state(engine)
}
