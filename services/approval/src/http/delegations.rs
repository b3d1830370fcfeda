//! `POST|GET /approval-delegations`: an approver lets someone decide on their behalf for a
//! window of time, and reads the delegations that name them.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, ProblemDetails};
use common_kernel::http::extract::ValidJson;
use common_kernel::idempotency::{CommandFingerprint, CommandResponse};
use domain_kernel::ActorId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::dto::{ContextHeaders, Fields, IdempotencyHeaders};
use super::{AppState, to_json};
use crate::app::delegate::{self, GrantInput};
use crate::domain::{Delegation, Reason};

/// Body of `POST /approval-delegations`: the caller delegates their own authority.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DelegationRequest {
    /// Who may decide on the caller's behalf.
    #[schema(example = "sales2")]
    pub delegate: String,
    /// Start (inclusive).
    pub valid_from: DateTime<Utc>,
    /// End (exclusive); after the start.
    pub valid_until: DateTime<Utc>,
    /// Why (audit evidence, 1–1000 characters).
    #[schema(min_length = 1, max_length = 1000, example = "On leave")]
    pub reason: String,
}

/// A delegation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DelegationView {
    /// Its id (decisions taken under it name it).
    pub id: Uuid,
    /// Whose authority.
    pub delegator: String,
    /// Who may use it.
    pub delegate: String,
    /// Start (inclusive).
    pub valid_from: DateTime<Utc>,
    /// End (exclusive).
    pub valid_until: DateTime<Utc>,
}

impl From<&Delegation> for DelegationView {
    fn from(d: &Delegation) -> Self {
        Self {
            id: d.id.as_uuid(),
            delegator: d.delegator.to_string(),
            delegate: d.delegate.to_string(),
            valid_from: d.valid_from,
            valid_until: d.valid_until,
        }
    }
}

/// `GET /approval-delegations` answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DelegationList {
    /// Unrevoked delegations naming the caller (as delegator or delegate), earliest first.
    pub items: Vec<DelegationView>,
}

/// Delegates the caller's approval authority to `delegate` for a window. Never passed on: the
/// delegate acts with the caller's own roles and groups, never with what was delegated to the
/// caller.
#[utoipa::path(post, path = "/approval-delegations", tag = "approval-delegations",
    params(ContextHeaders, IdempotencyHeaders),
    request_body = DelegationRequest,
    responses(
        (status = 201, description = "Granted", body = DelegationView),
        (status = 409, description = "`DELEGATION_CYCLE`: the delegate already delegates back to the caller, directly or through others, in an overlapping window", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "`DELEGATION_TO_SELF`: the delegate is the caller; `DELEGATION_WINDOW_EMPTY`: the window ends before it starts", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn grant(
    State(state): State<AppState>,
    ctx: RequestContext,
    body: ValidJson<DelegationRequest>,
) -> Result<CommandResponse, ApiError> {
    let mut fields = Fields::default();
    let delegate = fields.take("/delegate", ActorId::parse(&body.body.delegate));
    let reason = fields.take("/reason", Reason::parse(&body.body.reason));
    let input = fields.finish(|| {
        Some(GrantInput {
            delegate: delegate?,
            valid_from: body.body.valid_from,
            valid_until: body.body.valid_until,
            reason: reason?,
        })
    })?;
    let fingerprint = CommandFingerprint::new("approval.GrantDelegation", "", &body.digest);
    let (ports, command_ctx) = (state.ports.clone(), ctx.clone());
    state
        .runner
        .run(&ctx, fingerprint, move |mut tx| async move {
            let result = delegate::grant(&mut tx, &ports, &command_ctx, input).await;
            let response = result.map_err(ApiError::from).and_then(|delegation| {
                let body = to_json(&DelegationView::from(&delegation))?;
                Ok(CommandResponse::created(
                    body,
                    "/approval-delegations".to_owned(),
                ))
            });
            (tx, response)
        })
        .await
}

/// The delegations naming the caller, as delegator or delegate.
#[utoipa::path(get, path = "/approval-delegations", tag = "approval-delegations",
    params(ContextHeaders),
    responses((status = 200, body = DelegationList)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
) -> Result<Json<DelegationList>, ApiError> {
    let mut conn = state.conn(&ctx).await?;
    let delegations = delegate::mine(&mut conn, &state.ports, &ctx).await?;
    Ok(Json(DelegationList {
        items: delegations.iter().map(DelegationView::from).collect(),
    }))
}
