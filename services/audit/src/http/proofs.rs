//! Proofs: an entry's inclusion in a tree size, and the consistency of two tree sizes.

use axum::Json;
use axum::extract::State;
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, ProblemDetails};
use common_kernel::http::extract::{ApiPath, ApiQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::views::{AuditEventView, CheckpointView};
use super::{AppState, ContextHeaders};
use crate::app::proofs;

/// Which tree to prove in.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    /// The tree size to prove in (default: the newest checkpoint covering the entry, published
    /// now when none does).
    #[param(minimum = 1)]
    pub tree_size: Option<u64>,
}

/// An inclusion proof (RFC 6962 §2.1.1).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InclusionProofView {
    /// The entry, with `canonical` (the leaf's bytes) and `leafHash`.
    pub event: AuditEventView,
    /// The tree size proved in.
    pub tree_size: u64,
    /// That tree's root, lowercase hex.
    pub root_hash: String,
    /// The audit path, bottom up, lowercase hex.
    pub audit_path: Vec<String>,
    /// The signed checkpoint of that size, when one was published.
    pub checkpoint: Option<CheckpointView>,
}

/// The proof that an audit event is in its tenant's log at a tree size.
#[utoipa::path(get, path = "/audit-events/{auditEventId}/proof", tag = "proofs",
    params(ContextHeaders, InclusionQuery, ("auditEventId" = Uuid, Path, description = "The audit event's id")),
    responses(
        (status = 200, body = InclusionProofView),
        (status = 404, description = "`AUDIT_EVENT_NOT_FOUND`: no such event in the caller's tenant's log", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "`TREE_SIZE_OUT_OF_RANGE`: the tree size does not hold the entry or exceeds the log; `VALIDATION_FAILED`: a bad treeSize", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn inclusion(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<InclusionQuery>,
) -> Result<Json<InclusionProofView>, ApiError> {
    let mut tx = state.write(&ctx).await?;
    let answer = proofs::inclusion(&mut tx, &ctx, &state.keys, id, query.tree_size).await?;
    tx.commit().await.map_err(ApiError::from)?;
    Ok(Json(InclusionProofView {
        event: AuditEventView::from(&answer.entry),
        tree_size: answer.tree_size,
        root_hash: hex::encode(answer.root),
        audit_path: answer.path.iter().map(hex::encode).collect(),
        checkpoint: answer.checkpoint.map(|c| c.document().into()),
    }))
}

/// The two tree sizes.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The older tree size (at least 1).
    #[param(minimum = 1)]
    pub from: u64,
    /// The newer tree size (default: the newest checkpoint's).
    #[param(minimum = 1)]
    pub to: Option<u64>,
}

/// A consistency proof (RFC 6962 §2.1.2).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsistencyProofView {
    /// Older size.
    pub from: u64,
    /// Newer size.
    pub to: u64,
    /// Older root, lowercase hex.
    pub from_root_hash: String,
    /// Newer root, lowercase hex.
    pub to_root_hash: String,
    /// The proof, lowercase hex.
    pub proof: Vec<String>,
    /// The signed checkpoint at `from`, when one was published.
    pub from_checkpoint: Option<CheckpointView>,
    /// The signed checkpoint at `to`, when one was published.
    pub to_checkpoint: Option<CheckpointView>,
}

/// The proof that the caller's tenant's log of `from` entries is a prefix of its log of `to`
/// entries: nothing was rewritten in between.
#[utoipa::path(get, path = "/audit/consistency", tag = "proofs",
    params(ContextHeaders, ConsistencyQuery),
    responses(
        (status = 200, body = ConsistencyProofView),
        (status = 404, description = "`NO_CHECKPOINT`: `to` was left out and no checkpoint exists yet", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "`TREE_SIZE_OUT_OF_RANGE`: from is 0 or past to, or to exceeds the log; `VALIDATION_FAILED`: a missing or bad size", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn consistency(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiQuery(query): ApiQuery<ConsistencyQuery>,
) -> Result<Json<ConsistencyProofView>, ApiError> {
    let mut conn = state.read(&ctx).await?;
    let answer = proofs::consistency(&mut conn, &ctx, query.from, query.to).await?;
    Ok(Json(ConsistencyProofView {
        from: answer.from,
        to: answer.to,
        from_root_hash: hex::encode(answer.from_root),
        to_root_hash: hex::encode(answer.to_root),
        proof: answer.path.iter().map(hex::encode).collect(),
        from_checkpoint: answer.from_checkpoint.map(|c| c.document().into()),
        to_checkpoint: answer.to_checkpoint.map(|c| c.document().into()),
    }))
}
