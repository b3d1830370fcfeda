//! The OpenAPI 3.1 contract, generated from the handlers and committed under
//! `contracts/openapi/approval-api.json` (a test fails when the two differ, and another when a
//! refusal the API answers is not declared). Handlers declare their own answers;
//! [`PlatformContract`] adds the problems the platform answers around them (ADR 0029).

use common_kernel::http::contract::PlatformContract;
use utoipa::OpenApi;

use super::{decisions, delegations, directory, dto, requests, tasks, views};

/// The approval API document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "cpq-oms approval API",
        description = "Human approvals of quote prices: the approver's inbox of workflow-engine user tasks, decisions bound to the exact price hash, \
approval requests with their evidence (policy version and hash, every rule with its tested value, the chain, decisions, skips, history), \
recall, reassignment, delegation and the approver directory. The same Decide command serves Tasklist (`/v2/user-tasks` of the engine) and this API. \
Every request needs a bearer token from the platform's OIDC issuer (`bearerAuth`): it names the tenant and the caller, whose roles grant each operation's action. \
Errors are RFC 9457 application/problem+json with a stable `code`, `correlationId`, `retryable` and field `errors`. \
Commands accept `Idempotency-Key`.",
        license(name = "Apache-2.0")
    ),
    paths(
        tasks::inbox, decisions::decide, requests::list, requests::get, requests::recall, requests::reassign,
        delegations::grant, delegations::list, directory::put, directory::get,
    ),
    components(schemas(
        common_kernel::error::ProblemDetails, common_kernel::error::FieldError,
        dto::LevelName, dto::VerdictName, dto::StatusName, dto::QuorumName,
        dto::DecisionRequest, dto::ReasonRequest, dto::ReassignmentRequest,
        directory::ApproverRequest, directory::ApproverView,
        delegations::DelegationRequest, delegations::DelegationView, delegations::DelegationList,
        tasks::ApprovalTaskView, tasks::ApprovalTaskList,
        views::ApprovalRequestView, views::ApprovalRequestSummary, views::ApprovalRequestList, views::PolicyView,
        views::RuleView, views::LevelView, views::SkipView, views::ComparisonView, views::DecisionView,
        views::EscalationView, views::HistoryView, views::DecisionResult,
    )),
    modifiers(&PlatformContract),
    tags(
        (name = "approval-tasks", description = "The approver's inbox of engine user tasks"),
        (name = "approval-requests", description = "Approval requests, their evidence and decisions"),
        (name = "approval-delegations", description = "Deciding on someone's behalf for a window"),
        (name = "approvers", description = "The tenant's approver directory"),
    )
)]
pub struct ApiDoc;

/// The contract as pretty JSON with a trailing newline, exactly as committed.
pub fn openapi_json() -> String {
    common_kernel::http::contract::contract_json(&ApiDoc::openapi())
}
