//! `GET /timelines/orders/{orderId}` and `GET /timelines/quotes/{quoteId}`: every projected step
//! of an order (state changes, tasks, external calls, audit decisions) or of a quote (states,
//! prices, approvals, acceptance, conversion), in order, with correlation ids.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, FieldError, ProblemDetails};
use common_kernel::http::extract::{ApiPath, ApiQuery};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::views::{TimelineEntryView, TimelineView};
use super::{AppState, ContextHeaders, page_limit};
use crate::app::queries;
use crate::infra::reads::Subject;

/// A timeline page.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 500 (default 100).
    pub limit: Option<i64>,
}

fn parse_cursor(raw: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (micros, id) = raw.split_once('_')?;
    Some((
        DateTime::<Utc>::from_timestamp_micros(micros.parse().ok()?)?,
        Uuid::parse_str(id).ok()?,
    ))
}

async fn page(
    state: &AppState,
    ctx: &RequestContext,
    subject: Subject<'_>,
    query: TimelineQuery,
) -> Result<TimelineView, ApiError> {
    let mut errors = Vec::new();
    let limit = page_limit(query.limit, &mut errors);
    let after = query.cursor.as_deref().and_then(|raw| {
        let parsed = parse_cursor(raw);
        if parsed.is_none() {
            errors.push(FieldError::new(
                "/cursor",
                "INVALID",
                "not a cursor of this API",
            ));
        }
        parsed
    });
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut conn = state.read(ctx).await?;
    let rows = queries::timeline(&mut conn, ctx, subject, after, limit).await?;
    let next_cursor = (i64::try_from(rows.len()).unwrap_or(i64::MAX) == limit)
        .then(|| {
            rows.last()
                .map(|r| format!("{}_{}", r.occurred_at.timestamp_micros(), r.event_id))
        })
        .flatten();
    Ok(TimelineView {
        entries: rows.into_iter().map(TimelineEntryView::from).collect(),
        next_cursor,
    })
}

/// An order's timeline.
#[utoipa::path(get, path = "/timelines/orders/{orderId}", tag = "timelines",
    params(ContextHeaders, TimelineQuery, ("orderId" = String, Path, description = "The order's id")),
    responses(
        (status = 200, body = TimelineView),
        (status = 422, description = "`VALIDATION_FAILED`: a bad cursor or limit", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn order(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(order_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<TimelineQuery>,
) -> Result<Json<TimelineView>, ApiError> {
    Ok(Json(
        page(&state, &ctx, Subject::Order(&order_id), query).await?,
    ))
}

/// A quote's timeline.
#[utoipa::path(get, path = "/timelines/quotes/{quoteId}", tag = "timelines",
    params(ContextHeaders, TimelineQuery, ("quoteId" = String, Path, description = "The quote's id")),
    responses(
        (status = 200, body = TimelineView),
        (status = 422, description = "`VALIDATION_FAILED`: a bad cursor or limit", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn quote(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(quote_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<TimelineQuery>,
) -> Result<Json<TimelineView>, ApiError> {
    Ok(Json(
        page(&state, &ctx, Subject::Quote(&quote_id), query).await?,
    ))
}
