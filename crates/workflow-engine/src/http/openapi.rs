//! The OpenAPI 3.1 contract of the engine's REST API, generated from the handlers and committed
//! under `contracts/openapi/workflow-engine-api.json` (a test fails when the two differ).
//! [`EdgeContract`] adds the bearer scheme and what the platform's router answers around every
//! route (401, 403, 429, 503); the handlers declare the rest, Camunda's way.

use common_kernel::http::contract::EdgeContract;
use utoipa::OpenApi;

use super::{key, ops, ops_dto, user_task_dto as dto, user_tasks};

/// The engine's REST API document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "cpq-oms embedded workflow engine REST API",
        description = "Served by the embedded Zeebe-compatible engine (ADR 0014) on WORKFLOW_REST_PORT (default 8090), next to its Zeebe gateway (gRPC, 26500). \
`/v2/user-tasks` is the subset of Camunda 8's REST API v2 a task list needs, in the same shapes (keys are strings). \
`/v1/ops` shows process instances (where their tokens wait, variables, incidents) and resolves incidents, optionally setting the job's retries first. \
Every request needs a bearer token (`bearerAuth`): user tasks need the WorkUserTasks action, `/v1/ops` reads ViewWorkflow (operators, leads, auditors, services) and incident resolution OperateWorkflow. \
User tasks with Camunda 8.8 `completing` task listeners (`zeebe:taskListeners`) are COMPLETING while the listener jobs run over the Zeebe gateway; a listener job completed with `result.denied = true` denies the completion, and, as this engine's extension (the gateway protocol it speaks has no `deniedReason` field), a `deniedReason` string variable of that job is the reason reported to the caller. Listener corrections are not applied. \
Errors are RFC 9457 application/problem+json with a stable `code`: NOT_FOUND (404), INVALID_STATE (409), COMPLETION_DENIED (409), INVALID_ARGUMENT (400), UNAUTHENTICATED (401), FORBIDDEN_ACTION (403), RATE_LIMITED (429), COMPLETION_PENDING (504).",
        license(name = "Apache-2.0")
    ),
    paths(
        user_tasks::search, user_tasks::get, user_tasks::assign, user_tasks::unassign, user_tasks::complete,
        ops::list_instances, ops::get_instance, ops::list_incidents, ops::resolve_incident,
    ),
    components(schemas(
        common_kernel::error::ProblemDetails, common_kernel::error::FieldError, key::Key,
        dto::UserTaskState, dto::UserTaskSearchRequest, dto::UserTaskFilterRequest, dto::SearchPageRequest,
        dto::SortField, dto::SortOrder, dto::SortRequest, dto::UserTaskView, dto::SearchPageInfo,
        dto::UserTaskSearchResponse, dto::AssignmentRequest, dto::CompletionRequest,
        ops_dto::InstanceState, ops_dto::IncidentState, ops_dto::ProcessInstanceView, ops_dto::JobView,
        ops_dto::TimerView, ops_dto::SubscriptionView, ops_dto::ActiveElementView, ops_dto::VariableView,
        ops_dto::IncidentView, ops_dto::ProcessInstanceDetailView, ops_dto::ResolveIncidentRequest,
    )),
    modifiers(&EdgeContract),
    tags(
        (name = "user-tasks", description = "Camunda user tasks: search, assign, complete (Camunda 8 REST API v2 subset)"),
        (name = "operations", description = "Operator views of instances and incidents; incident resolution"),
    )
)]
pub struct ApiDoc;

/// The contract as pretty JSON with a trailing newline, exactly as committed.
pub fn openapi_json() -> String {
    common_kernel::http::contract::contract_json(&ApiDoc::openapi())
}
