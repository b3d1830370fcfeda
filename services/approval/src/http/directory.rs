//! `PUT|GET /approvers/{actorId}`: the tenant's approver directory, which the Tasklist door
//! relies on (an assignee brings no token) and which places portal approvers in their groups.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, ProblemDetails};
use common_kernel::http::extract::{ApiPath, ValidJson};
use common_kernel::idempotency::{CommandFingerprint, CommandResponse};
use domain_kernel::ActorId;
use domain_kernel::access::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::{ContextHeaders, Fields, IdempotencyHeaders, LevelName};
use super::{AppState, to_json};
use crate::app::directory::{self, PutApproverInput, PutOutcome};
use crate::app::ports::ApproverEntry;
use crate::domain::{GroupId, Reason};

/// Body of `PUT /approvers/{actorId}`: the whole entry.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApproverRequest {
    /// Realm roles (`approver-manager`, `approver-director`, `approver-finance`, …); the
    /// approver roles decide which chain levels they may decide.
    #[schema(example = json!(["sales-agent", "approver-manager"]))]
    pub roles: Vec<String>,
    /// Approver groups (Tasklist candidate groups) they belong to.
    #[schema(example = json!(["approver-manager"]))]
    pub groups: Vec<String>,
    /// Why (audit evidence, 1–1000 characters).
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

/// A directory entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApproverView {
    /// The approver.
    pub actor_id: String,
    /// Their realm roles.
    pub roles: Vec<String>,
    /// Their approver groups.
    pub groups: Vec<String>,
    /// The chain levels their roles let them decide (exact match).
    pub approval_levels: Vec<LevelName>,
    /// 1 when created, +1 per change.
    pub version: i64,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Who changed it last.
    pub updated_by: String,
}

impl From<&ApproverEntry> for ApproverView {
    fn from(entry: &ApproverEntry) -> Self {
        Self {
            actor_id: entry.actor.to_string(),
            roles: entry.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            groups: entry.groups.iter().map(ToString::to_string).collect(),
            approval_levels: entry
                .approver()
                .levels
                .into_iter()
                .map(Into::into)
                .collect(),
            version: entry.version,
            updated_at: entry.updated_at,
            updated_by: entry.updated_by.to_string(),
        }
    }
}

fn invalid_actor(error: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(
        common_kernel::error::codes::INVALID_PATH_PARAMETER,
        format!("actorId: {error}"),
    )
}

/// Sets an approver's roles and groups (the whole entry), with a reason. Operators only.
#[utoipa::path(put, path = "/approvers/{actorId}", tag = "approvers",
    params(ContextHeaders, IdempotencyHeaders, ("actorId" = String, Path, description = "The approver (their `preferred_username`)")),
    request_body = ApproverRequest,
    responses(
        (status = 201, description = "Created", body = ApproverView),
        (status = 200, description = "Changed, or already so (nothing written)", body = ApproverView),
    ))]
pub async fn put(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(actor): ApiPath<String>,
    body: ValidJson<ApproverRequest>,
) -> Result<CommandResponse, ApiError> {
    let actor = ActorId::parse(&actor).map_err(invalid_actor)?;
    let mut fields = Fields::default();
    let roles: Vec<Option<Role>> = body
        .body
        .roles
        .iter()
        .enumerate()
        .map(|(i, name)| {
            fields.take(
                &format!("/roles/{i}"),
                Role::parse(name).ok_or_else(|| format!("'{name}' is not a realm role")),
            )
        })
        .collect();
    let groups: Vec<Option<GroupId>> = body
        .body
        .groups
        .iter()
        .enumerate()
        .map(|(i, name)| fields.take(&format!("/groups/{i}"), GroupId::parse(name)))
        .collect();
    let reason = fields.take("/reason", Reason::parse(&body.body.reason));
    let input = fields.finish(|| {
        Some(PutApproverInput {
            actor: actor.clone(),
            roles: roles.into_iter().collect::<Option<_>>()?,
            groups: groups.into_iter().collect::<Option<_>>()?,
            reason: reason?,
        })
    })?;
    let fingerprint = CommandFingerprint::new("approval.PutApprover", actor.as_str(), &body.digest);
    let (ports, command_ctx) = (state.ports.clone(), ctx.clone());
    state
        .runner
        .run(&ctx, fingerprint, move |mut tx| async move {
            let result = directory::put(&mut tx, &ports, &command_ctx, input).await;
            let response = result.map_err(ApiError::from).and_then(|(entry, outcome)| {
                let body = to_json(&ApproverView::from(&entry))?;
                Ok(match outcome {
                    PutOutcome::Created => {
                        CommandResponse::created(body, format!("/approvers/{}", entry.actor))
                    }
                    PutOutcome::Changed | PutOutcome::Unchanged => CommandResponse::ok(body),
                })
            });
            (tx, response)
        })
        .await
}

/// Reads an approver's entry: operators any, an approver their own.
#[utoipa::path(get, path = "/approvers/{actorId}", tag = "approvers",
    params(ContextHeaders, ("actorId" = String, Path, description = "The approver")),
    responses(
        (status = 200, body = ApproverView),
        (status = 404, description = "`APPROVER_NOT_FOUND`: the directory has no entry for them in the caller's tenant", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn get(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(actor): ApiPath<String>,
) -> Result<Json<ApproverView>, ApiError> {
    let actor = ActorId::parse(&actor).map_err(invalid_actor)?;
    let mut conn = state.conn(&ctx).await?;
    let entry = directory::get(&mut conn, &state.ports, &ctx, actor).await?;
    Ok(Json(ApproverView::from(&entry)))
}
