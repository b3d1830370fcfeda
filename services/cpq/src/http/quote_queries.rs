//! Quote queries: read in a read-only transaction scoped to the caller's tenant, answer with the
//! view.

use axum::Json;
use axum::extract::State;
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, ProblemDetails};
use common_kernel::http::extract::{ApiPath, ApiQuery};
use common_kernel::pagination::{Page, PageRequest};
use uuid::Uuid;

use super::AppState;
use super::dto::{ContextHeaders, ListQuery};
use crate::app::queries;
use crate::app::views::{PriceTraceView, QuoteSummary, QuoteView};
use crate::domain::QuoteId;

/// Reads a quote with its current revision.
#[utoipa::path(get, path = "/quotes/{id}", tag = "quotes",
    params(ContextHeaders, ("id" = Uuid, Path, description = "Quote id")),
    responses((status = 200, body = QuoteView), (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<QuoteView>, ApiError> {
    let mut conn = state.conn(&ctx).await?;
    let view = queries::get(&mut conn, &state.ports, &ctx, QuoteId::from_uuid(id)).await?;
    Ok(Json(view))
}

/// Lists the tenant's quotes, newest first.
#[utoipa::path(get, path = "/quotes", tag = "quotes",
    params(ContextHeaders, ListQuery),
    responses(
        (status = 200, body = Page<QuoteSummary>, headers(("X-Total-Count" = i64, description = "Matching quotes"))),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Page<QuoteSummary>, ApiError> {
    let page = PageRequest::new(query.limit, query.offset)?;
    let mut conn = state.conn(&ctx).await?;
    let (items, total) = queries::list(
        &mut conn,
        &state.ports,
        &ctx,
        query.status.as_deref(),
        query.customer_id.as_deref(),
        page.limit,
        page.offset,
    )
    .await?;
    Ok(Page::new(items, page, total))
}

/// The price trace of the current revision: every step, in order.
#[utoipa::path(get, path = "/quotes/{id}/price-trace", tag = "quotes",
    params(ContextHeaders, ("id" = Uuid, Path, description = "Quote id")),
    responses(
        (status = 200, body = PriceTraceView),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn price_trace(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<PriceTraceView>, ApiError> {
    let mut conn = state.conn(&ctx).await?;
    let view = queries::price_trace(&mut conn, &state.ports, &ctx, QuoteId::from_uuid(id)).await?;
    Ok(Json(view))
}
