//! `POST /audit/verify`: recompute the log over a range and name the first entry whose stored
//! content no longer matches.

use axum::Json;
use axum::extract::State;
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, ProblemDetails};
use common_kernel::http::extract::OptionalJson;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{AppState, ContextHeaders};
use crate::app::verify::{self, Finding};

/// The range to check (both optional: the whole log by default).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyRequest {
    /// First position to check (default 0). Checkpoint roots are only checked from 0.
    #[schema(minimum = 0)]
    pub from_leaf: Option<u64>,
    /// One past the last position (default: the log's size).
    #[schema(minimum = 0)]
    pub to_leaf: Option<u64>,
}

/// One thing found wrong.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FindingView {
    /// The entry's position (for a subtree or checkpoint: the first it covers).
    pub leaf_index: u64,
    /// The entry's id, when the finding is about one entry.
    pub audit_event_id: Option<Uuid>,
    /// `CONTENT_ALTERED`, `FIELDS_ALTERED`, `SUBTREE_ALTERED` or `CHECKPOINT_MISMATCH`.
    pub problem: String,
    /// In words.
    pub detail: String,
}

impl From<Finding> for FindingView {
    fn from(f: Finding) -> Self {
        Self {
            leaf_index: f.leaf_index,
            audit_event_id: f.audit_event_id,
            problem: f.problem.as_str().to_owned(),
            detail: f.detail,
        }
    }
}

/// The outcome.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyReportView {
    /// True when nothing was found wrong.
    pub valid: bool,
    /// First position checked.
    pub from_leaf: u64,
    /// One past the last.
    pub to_leaf: u64,
    /// Entries checked.
    pub entries_checked: u64,
    /// Signed checkpoints whose root and signature were checked.
    pub checkpoints_checked: u64,
    /// The first entry whose stored content no longer matches (else the first subtree or
    /// checkpoint finding).
    pub first_mismatch: Option<FindingView>,
    /// Findings in all.
    pub findings: u64,
    /// Redacted positions (the documented procedure), not counted as findings.
    pub redacted: Vec<u64>,
}

/// Recomputes the caller's tenant's log from what is stored: every entry's content against
/// its leaf hash and its query columns, every stored subtree, and (from position 0) every
/// signed checkpoint's signature and root. Names the first entry that no longer matches.
#[utoipa::path(post, path = "/audit/verify", tag = "proofs",
    params(ContextHeaders),
    request_body(content = Option<VerifyRequest>, description = "The range; empty for the whole log"),
    responses(
        (status = 200, body = VerifyReportView),
        (status = 422, description = "`TREE_SIZE_OUT_OF_RANGE`: fromLeaf past toLeaf; `VALIDATION_FAILED`: a malformed body", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn verify(
    State(state): State<AppState>,
    ctx: RequestContext,
    body: OptionalJson<VerifyRequest>,
) -> Result<Json<VerifyReportView>, ApiError> {
    let request = body.body.unwrap_or_default();
    let mut conn = state.read(&ctx).await?;
    let report = verify::verify(
        &mut conn,
        &ctx,
        &state.keys,
        request.from_leaf,
        request.to_leaf,
    )
    .await?;
    if let Some(first) = &report.first_mismatch {
        tracing::warn!(
            leaf_index = first.leaf_index,
            problem = first.problem.as_str(),
            "audit log verification found a mismatch"
        );
    }
    Ok(Json(VerifyReportView {
        valid: report.findings == 0,
        from_leaf: report.from,
        to_leaf: report.to,
        entries_checked: report.checked,
        checkpoints_checked: report.checkpoints_checked,
        first_mismatch: report.first_mismatch.map(FindingView::from),
        findings: report.findings,
        redacted: report.redacted,
    }))
}
