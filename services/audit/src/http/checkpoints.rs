//! Checkpoints: the newest, one published on demand, and the keys that sign them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, ProblemDetails};
use domain_kernel::access::Action;

use super::views::{CheckpointView, SigningKeyList, SigningKeyView};
use super::{AppState, ContextHeaders};
use crate::app::{checkpoints, queries};

/// The newest signed checkpoint of the caller's tenant's log.
#[utoipa::path(get, path = "/audit/checkpoints/latest", tag = "checkpoints",
    params(ContextHeaders),
    responses(
        (status = 200, body = CheckpointView),
        (status = 404, description = "`NO_CHECKPOINT`: none published yet", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn latest(
    State(state): State<AppState>,
    ctx: RequestContext,
) -> Result<Json<CheckpointView>, ApiError> {
    let mut conn = state.read(&ctx).await?;
    let checkpoint = queries::latest_checkpoint(&mut conn, &ctx).await?;
    Ok(Json(checkpoint.document().into()))
}

/// Publishes a checkpoint of the log as it stands now: 201 with a new one, 200 with the
/// existing one when the log has not grown since (idempotent; no body, no key needed).
#[utoipa::path(post, path = "/audit/checkpoints", tag = "checkpoints",
    params(ContextHeaders),
    responses(
        (status = 201, description = "A new checkpoint", body = CheckpointView),
        (status = 200, description = "The log has not grown: the existing checkpoint", body = CheckpointView),
        (status = 404, description = "`AUDIT_LOG_EMPTY`: the tenant's log has no entry yet", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn publish(
    State(state): State<AppState>,
    ctx: RequestContext,
) -> Result<(StatusCode, Json<CheckpointView>), ApiError> {
    ctx.authorize(Action::ViewAudit).map_err(ApiError::from)?;
    let mut tx = state.write(&ctx).await?;
    let (checkpoint, created) =
        checkpoints::publish(&mut tx, &state.keys, ctx.tenant_id.as_str()).await?;
    tx.commit().await.map_err(ApiError::from)?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(checkpoint.document().into())))
}

/// The keys checkpoints are signed with: the active one and the retired ones that still
/// verify older checkpoints. Pass one to `audit-verify --public-key`.
#[utoipa::path(get, path = "/audit/signing-keys", tag = "checkpoints",
    params(ContextHeaders),
    responses((status = 200, body = SigningKeyList)))]
pub async fn signing_keys(
    State(state): State<AppState>,
    ctx: RequestContext,
) -> Result<Json<SigningKeyList>, ApiError> {
    ctx.authorize(Action::ViewAudit).map_err(ApiError::from)?;
    Ok(Json(SigningKeyList {
        keys: state
            .keys
            .listed()
            .into_iter()
            .map(|key| SigningKeyView::new(key.document, key.active))
            .collect(),
    }))
}
