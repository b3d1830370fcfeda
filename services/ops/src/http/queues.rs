//! `GET /fallout-queue` and `GET /approval-aging`: the work waiting for people.

use axum::Json;
use axum::extract::State;
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, ProblemDetails};
use common_kernel::http::extract::ApiQuery;
use serde::Deserialize;
use utoipa::IntoParams;

use super::dto::{ApprovalAgingView, FalloutQueueView};
use super::{AppState, ContextHeaders, page_limit};
use crate::app::views;
use crate::infra::queues::FalloutFilter;

/// The queue's filter.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FalloutQueueQuery {
    /// Only this status (default: every record not yet RESOLVED or CLOSED).
    pub status: Option<String>,
    /// Only this category (RETRIES_EXHAUSTED, RECONCILIATION, …).
    pub category: Option<String>,
    /// Only this team's.
    pub owner_team: Option<String>,
    /// At most this many records, 1 to 500 (default 100); the groups count them all.
    pub limit: Option<i64>,
}

/// Fallout records oldest first, with their groups by category and team (count and oldest
/// age). Repairs are the order service's commands (`POST /fallouts/{id}/actions`).
#[utoipa::path(get, path = "/fallout-queue", tag = "queues",
    params(ContextHeaders, FalloutQueueQuery),
    responses(
        (status = 200, body = FalloutQueueView),
        (status = 422, description = "`VALIDATION_FAILED`: a bad limit", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn fallout(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiQuery(query): ApiQuery<FalloutQueueQuery>,
) -> Result<Json<FalloutQueueView>, ApiError> {
    let mut errors = Vec::new();
    let limit = page_limit(query.limit, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let filter = FalloutFilter {
        status: query.status,
        category: query.category,
        owner_team: query.owner_team,
    };
    let mut conn = state.read(&ctx).await?;
    let (items, groups) = views::fallout_queue(&mut conn, &ctx, &filter, limit).await?;
    Ok(Json(FalloutQueueView {
        items: items.into_iter().map(Into::into).collect(),
        groups: groups.into_iter().map(Into::into).collect(),
    }))
}

/// The list's size.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AgingQuery {
    /// At most this many requests, 1 to 500 (default 100).
    pub limit: Option<i64>,
}

/// Approval requests still PENDING, longest waiting first, with age buckets.
#[utoipa::path(get, path = "/approval-aging", tag = "queues",
    params(ContextHeaders, AgingQuery),
    responses(
        (status = 200, body = ApprovalAgingView),
        (status = 422, description = "`VALIDATION_FAILED`: a bad limit", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn approvals(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiQuery(query): ApiQuery<AgingQuery>,
) -> Result<Json<ApprovalAgingView>, ApiError> {
    let mut errors = Vec::new();
    let limit = page_limit(query.limit, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut conn = state.read(&ctx).await?;
    let rows = views::approval_aging(&mut conn, &ctx, limit).await?;
    Ok(Json(ApprovalAgingView::new(rows)))
}
