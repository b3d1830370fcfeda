//! `GET /stuck-orders`: orders that made no progress for longer than their status allows.

use axum::Json;
use axum::extract::State;
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, ProblemDetails};
use common_kernel::http::extract::ApiQuery;
use serde::Deserialize;
use utoipa::IntoParams;

use super::views::{StuckOrderList, StuckOrderView};
use super::{AppState, ContextHeaders, page_limit};
use crate::app::queries;

/// The list's size.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StuckQuery {
    /// At most this many, 1 to 500 (default 100).
    pub limit: Option<i64>,
}

/// Open orders whose last order, task or external-call event is older than their status's
/// threshold (`APP__OPS__STUCK_AFTER__<STATUS>`), longest idle first. An order leaves the list
/// as soon as it progresses or ends.
#[utoipa::path(get, path = "/stuck-orders", tag = "stuck-orders",
    params(ContextHeaders, StuckQuery),
    responses(
        (status = 200, body = StuckOrderList),
        (status = 422, description = "`VALIDATION_FAILED`: a bad limit", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiQuery(query): ApiQuery<StuckQuery>,
) -> Result<Json<StuckOrderList>, ApiError> {
    let mut errors = Vec::new();
    let limit = page_limit(query.limit, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut conn = state.read(&ctx).await?;
    let thresholds = &state.settings.stuck;
    let rows = queries::stuck_orders(&mut conn, &ctx, thresholds, limit).await?;
    Ok(Json(StuckOrderList {
        items: rows
            .into_iter()
            .map(|row| {
                let threshold = thresholds.threshold(&row.status).as_secs();
                StuckOrderView::new(row, threshold)
            })
            .collect(),
    }))
}
