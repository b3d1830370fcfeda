//! Approval requests: read one with its evidence or a quote's list, recall one (the submitter),
//! and reassign a level (whoever works approval tasks). Commands answer with the request and its
//! evidence as their transaction leaves it.

use axum::Json;
use axum::extract::State;
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, ProblemDetails};
use common_kernel::http::extract::{ApiPath, ApiQuery, ValidJson};
use common_kernel::idempotency::{CommandFingerprint, CommandResponse};
use uuid::Uuid;

use super::dto::{
    ContextHeaders, IdempotencyHeaders, LevelName, ReasonRequest, ReassignmentRequest,
    RequestsQuery,
};
use super::views::{ApprovalRequestList, ApprovalRequestSummary, ApprovalRequestView};
use super::{AppState, to_json};
use crate::app::error::AppResult;
use crate::app::queries::{self, RequestEvidence};
use crate::app::reassign::{self, ReassignLevel};
use crate::app::recall;
use crate::domain::{ApprovalRequest, ApprovalRequestId, QuoteId};

/// Reads an approval request with its evidence: the policy snapshot (id, version, SHA-256,
/// every rule with its tested value), the chain (assignment, due date, state, skips),
/// decisions, escalations and history.
#[utoipa::path(get, path = "/approval-requests/{id}", tag = "approval-requests",
    params(ContextHeaders, ("id" = Uuid, Path, description = "Approval request id")),
    responses(
        (status = 200, body = ApprovalRequestView),
        (status = 404, description = "`APPROVAL_REQUEST_NOT_FOUND`: no such request in the caller's tenant", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn get(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ApprovalRequestView>, ApiError> {
    let mut conn = state.conn(&ctx).await?;
    let evidence = queries::find_with_evidence(
        &mut conn,
        &state.ports,
        &ctx,
        ApprovalRequestId::from_uuid(id),
    )
    .await?;
    Ok(Json(ApprovalRequestView::from(&evidence)))
}

/// Lists a quote's approval requests, newest first.
#[utoipa::path(get, path = "/approval-requests", tag = "approval-requests",
    params(ContextHeaders, RequestsQuery),
    responses((status = 200, body = ApprovalRequestList)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiQuery(query): ApiQuery<RequestsQuery>,
) -> Result<Json<ApprovalRequestList>, ApiError> {
    let mut conn = state.conn(&ctx).await?;
    let requests = queries::by_quote(
        &mut conn,
        &state.ports,
        &ctx,
        QuoteId::from_uuid(query.quote_id),
    )
    .await?;
    Ok(Json(ApprovalRequestList {
        items: requests.iter().map(ApprovalRequestSummary::from).collect(),
    }))
}

/// Runs a request command and answers 200 with the request and its evidence.
async fn run_request_command<F, Fut>(
    state: &AppState,
    ctx: &RequestContext,
    fingerprint: CommandFingerprint,
    command: F,
) -> Result<CommandResponse, ApiError>
where
    F: FnOnce(common_kernel::idempotency::Tx) -> Fut,
    Fut: Future<Output = (common_kernel::idempotency::Tx, AppResult<RequestEvidence>)>,
{
    state
        .runner
        .run(ctx, fingerprint, move |tx| async move {
            let (tx, result) = command(tx).await;
            let response = result
                .map_err(ApiError::from)
                .and_then(|evidence| to_json(&ApprovalRequestView::from(&evidence)))
                .map(CommandResponse::ok);
            (tx, response)
        })
        .await
}

/// The evidence of `request` after a command, read in the command's transaction.
async fn with_evidence(
    tx: &mut common_kernel::idempotency::Tx,
    state: &AppState,
    ctx: &RequestContext,
    request: AppResult<ApprovalRequest>,
) -> AppResult<RequestEvidence> {
    queries::evidence_of(tx, &state.ports, ctx, request?).await
}

/// The submitter withdraws a PENDING request, with a reason: CANCELLED.
#[utoipa::path(post, path = "/approval-requests/{id}/recall", tag = "approval-requests",
    params(ContextHeaders, IdempotencyHeaders, ("id" = Uuid, Path, description = "Approval request id")),
    request_body = ReasonRequest,
    responses(
        (status = 200, description = "CANCELLED", body = ApprovalRequestView),
        (status = 403, description = "`APPROVAL_RECALL_NOT_SUBMITTER`: only the submitter recalls a request", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "`APPROVAL_REQUEST_NOT_FOUND`: no such request in the caller's tenant", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "`ILLEGAL_TRANSITION`: the request is no longer PENDING; `APPROVAL_REQUEST_CONFLICT`: it changed meanwhile (retryable)", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn recall(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
    body: ValidJson<ReasonRequest>,
) -> Result<CommandResponse, ApiError> {
    let reason = body.body.reason()?;
    let fingerprint = CommandFingerprint::new("approval.Recall", &id.to_string(), &body.digest);
    let (command_state, command_ctx) = (state.clone(), ctx.clone());
    let id = ApprovalRequestId::from_uuid(id);
    run_request_command(&state, &ctx, fingerprint, move |mut tx| async move {
        let recalled =
            recall::execute(&mut tx, &command_state.ports, &command_ctx, id, reason).await;
        let result = with_evidence(&mut tx, &command_state, &command_ctx, recalled).await;
        (tx, result)
    })
    .await
}

/// Moves a level not yet decided to other groups, with a reason
/// (`approval.escalated.v1`, kind REASSIGNED_BY_HAND).
#[utoipa::path(post, path = "/approval-requests/{id}/levels/{level}/reassignment", tag = "approval-requests",
    params(ContextHeaders, IdempotencyHeaders, ("id" = Uuid, Path, description = "Approval request id"),
        ("level" = LevelName, Path, description = "The level to reassign")),
    request_body = ReassignmentRequest,
    responses(
        (status = 200, description = "The request with the level's new assignment", body = ApprovalRequestView),
        (status = 404, description = "`APPROVAL_REQUEST_NOT_FOUND`: no such request in the caller's tenant", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "`ILLEGAL_TRANSITION`: the request is no longer PENDING; `APPROVAL_LEVEL_ALREADY_DECIDED`: the level is done; `APPROVAL_REQUEST_TIMED_OUT`: its time is over; `APPROVAL_REQUEST_CONFLICT`: it changed meanwhile (retryable)", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "`APPROVAL_LEVEL_NOT_IN_CHAIN`: the chain has no such level; `APPROVAL_CHAIN_INVALID`: parallel groups must be distinct", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn reassign(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath((id, level)): ApiPath<(Uuid, LevelName)>,
    body: ValidJson<ReassignmentRequest>,
) -> Result<CommandResponse, ApiError> {
    let (to, due, reason) = body.body.parts()?;
    let fingerprint = CommandFingerprint::new(
        "approval.Reassign",
        &format!("{id}/{level:?}"),
        &body.digest,
    );
    let asked = ReassignLevel {
        request_id: ApprovalRequestId::from_uuid(id),
        level: level.into(),
        to,
        due,
        reason,
    };
    let (command_state, command_ctx) = (state.clone(), ctx.clone());
    run_request_command(&state, &ctx, fingerprint, move |mut tx| async move {
        let moved =
            reassign::execute_keeping_due(&mut tx, &command_state.ports, &command_ctx, asked).await;
        let result = with_evidence(&mut tx, &command_state, &command_ctx, moved).await;
        (tx, result)
    })
    .await
}
