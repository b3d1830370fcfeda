//! `POST /approval-requests/{id}/decisions`: the portal approver's door to the one Decide
//! command the Tasklist door ends in too.
//!
//! The decision commits first (through the idempotent runner: an `Idempotency-Key` replays the
//! first answer). Then, with no transaction open and no lock held, the engine's user task of
//! the decided level is assigned to the caller and completed with the decision's variables, so
//! the process moves on; the engine's completing listener finds the decision recorded and lets
//! the completion through. If that engine call fails or its outcome is unknown, the decision
//! still stands and the answer is still the decision: the open task is reconciled later by the
//! service's task worker, so the client never retries a decision that was taken.

use axum::extract::State;
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, ProblemDetails};
use common_kernel::http::extract::{ApiPath, ValidJson};
use common_kernel::idempotency::{CommandFingerprint, CommandResponse};
use domain_kernel::ActorId;
use uuid::Uuid;

use super::dto::{ContextHeaders, DecisionRequest, IdempotencyHeaders};
use super::views::DecisionResult;
use super::{AppState, to_json};
use crate::app::decide::{self, DecideInput};
use crate::app::user_tasks::{self, Completion, SettledDecision};
use crate::domain::{ApprovalRequestId, GroupId};

/// Approves or rejects the request's open level as the caller (or, with `onBehalfOf`, with the
/// authority a delegation from that approver grants). Checked: the permission table
/// (ApproveDiscount of the level), the price hash, separation of duties (the submitter never
/// decides, neither as actor nor as principal), the level's order, the approver's roles
/// (exact level) and groups, delegation in force and not transitive, one decision per person
/// per level. The same decision again answers 200 with the one recorded.
#[utoipa::path(post, path = "/approval-requests/{id}/decisions", tag = "approval-requests",
    params(ContextHeaders, IdempotencyHeaders, ("id" = Uuid, Path, description = "Approval request id")),
    request_body = DecisionRequest,
    responses(
        (status = 201, description = "Recorded; the request moved on (APPROVED when the last level is satisfied, REJECTED on a reject)", body = DecisionResult,
            headers(("Location" = String, description = "The request"))),
        (status = 200, description = "The same decision was recorded before: the stored one, nothing written", body = DecisionResult),
        (status = 403, description = "`APPROVAL_SELF_DECISION`: the submitter decides their own quote's request; `APPROVAL_LEVEL_NOT_COVERED`: the approver's roles do not cover the level (exact match: a director does not decide the manager's level); `APPROVAL_NOT_ASSIGNED`: the approver is in none of the level's groups; `DELEGATION_NOT_IN_FORCE`: no delegation from `onBehalfOf` to the caller now; `DELEGATION_TRANSITIVE`: a delegation reaches the caller only through someone else", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "`APPROVAL_REQUEST_NOT_FOUND`: no such request in the caller's tenant", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "`ILLEGAL_TRANSITION`: the request is no longer PENDING (a rejected request is never reused); `APPROVAL_ALREADY_DECIDED`: this approver decided the level differently; `APPROVAL_LEVEL_ALREADY_DECIDED`: the level is done; `APPROVAL_LEVEL_NOT_OPEN`: an earlier level is open; `APPROVAL_PRICE_HASH_MISMATCH`: the request covers another price; `APPROVAL_REQUEST_TIMED_OUT`: its time is over; `APPROVAL_REQUEST_CONFLICT`: it changed meanwhile (retryable)", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "`APPROVAL_LEVEL_NOT_IN_CHAIN`: the chain has no such level; `DELEGATION_TO_SELF`: `onBehalfOf` names the caller", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn decide(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
    body: ValidJson<DecisionRequest>,
) -> Result<CommandResponse, ApiError> {
    let parts = body.body.parts()?;
    let fingerprint = CommandFingerprint::new("approval.Decide", &id.to_string(), &body.digest);
    let input = DecideInput {
        request_id: ApprovalRequestId::from_uuid(id),
        level: body.body.level.into(),
        outcome: parts.outcome,
        price_hash: parts.price_hash,
        on_behalf_of: parts.on_behalf_of,
    };
    let (ports, command_ctx) = (state.ports.clone(), ctx.clone());
    let response = state
        .runner
        .run(&ctx, fingerprint, move |mut tx| async move {
            let result = decide::execute(&mut tx, &ports, &command_ctx, input).await;
            let response = result.map_err(ApiError::from).and_then(|decided| {
                let view =
                    DecisionResult::new(&decided.request, &decided.decision, decided.repeated);
                let body = to_json(&view)?;
                Ok(if decided.repeated {
                    CommandResponse::ok(body)
                } else {
                    CommandResponse::created(body, format!("/approval-requests/{id}"))
                })
            });
            (tx, response)
        })
        .await?;
    settle_engine_task(&state, &ctx, &response).await;
    Ok(response)
}

/// The decision in `response` (fresh or replayed) as its engine task completes with it.
fn settled(response: &CommandResponse) -> Result<SettledDecision, String> {
    let result: DecisionResult =
        serde_json::from_value(response.body.clone()).map_err(|e| e.to_string())?;
    let decision = result.decision;
    Ok(SettledDecision {
        request_id: ApprovalRequestId::from_uuid(result.request_id),
        level: decision.level.into(),
        group: GroupId::parse(&decision.group).map_err(|e| e.to_string())?,
        verdict: decision.decision.into(),
        reason: decision.reason,
        on_behalf_of: decision
            .on_behalf_of
            .as_deref()
            .map(ActorId::parse)
            .transpose()
            .map_err(|e| e.to_string())?,
    })
}

/// Completes the decided level's engine task after the commit; never fails the request (see
/// the module's documentation).
async fn settle_engine_task(state: &AppState, ctx: &RequestContext, response: &CommandResponse) {
    let decision = match settled(response) {
        Ok(decision) => decision,
        Err(error) => {
            tracing::warn!(%error, "a recorded decision does not read back; its engine task is left for reconciliation");
            return;
        }
    };
    match user_tasks::complete_settled(
        &state.db,
        &state.ports,
        state.tasks.as_ref(),
        ctx,
        &decision,
    )
    .await
    {
        Ok(Completion::Completed { user_task_key }) => {
            tracing::info!(user_task_key, request = %decision.request_id, "engine task completed with the decision");
        }
        Ok(other) => {
            tracing::debug!(outcome = ?other, request = %decision.request_id, "no engine task to complete");
        }
        Err(error) => {
            tracing::warn!(%error, request = %decision.request_id, "decision recorded; completing its engine task failed, the task worker reconciles it");
        }
    }
}
