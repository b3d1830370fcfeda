//! `GET /customers/{customerId}` and `GET /search`: a customer's quotes, orders and installed
//! products; exact lookup by customer, quote, order or a downstream system's reference.

use axum::Json;
use axum::extract::State;
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, FieldError, ProblemDetails};
use common_kernel::http::extract::{ApiPath, ApiQuery};
use serde::Deserialize;
use utoipa::IntoParams;

use super::dto::{CustomerView, SearchView};
use super::{AppState, ContextHeaders, page_limit};
use crate::app::views;

/// The customer.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct CustomerPath {
    /// The customer's id.
    pub customer_id: String,
}

/// The lists' size.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CustomerQuery {
    /// At most this many of each, 1 to 500 (default 100).
    pub limit: Option<i64>,
}

/// The customer's quotes and orders (newest first) and installed products, as projected; empty
/// lists for a customer nothing was published about.
#[utoipa::path(get, path = "/customers/{customerId}", tag = "customers",
    params(ContextHeaders, CustomerPath, CustomerQuery),
    responses(
        (status = 200, body = CustomerView),
        (status = 422, description = "`VALIDATION_FAILED`: a bad limit", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn customer(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(path): ApiPath<CustomerPath>,
    ApiQuery(query): ApiQuery<CustomerQuery>,
) -> Result<Json<CustomerView>, ApiError> {
    let mut errors = Vec::new();
    let limit = page_limit(query.limit, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut conn = state.read(&ctx).await?;
    let rows = views::customer(&mut conn, &ctx, &path.customer_id, limit).await?;
    Ok(Json(CustomerView::new(path.customer_id, rows)))
}

/// What to look for.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// A customer id, quote id, order id or external reference (exact, 1 to 200 characters).
    pub q: String,
    /// At most this many hits, 1 to 500 (default 100).
    pub limit: Option<i64>,
}

/// Exact matches of `q` as an order, a quote, a customer or a downstream system's reference
/// (an activation's, a charge's), each with the order or customer it leads to.
#[utoipa::path(get, path = "/search", tag = "customers",
    params(ContextHeaders, SearchQuery),
    responses(
        (status = 200, body = SearchView),
        (status = 422, description = "`VALIDATION_FAILED`: an empty or long `q`, a bad limit", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn search(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Json<SearchView>, ApiError> {
    let mut errors = Vec::new();
    let limit = page_limit(query.limit, &mut errors);
    let term = query.q.trim();
    if term.is_empty() || term.chars().count() > 200 {
        errors.push(FieldError::new("/q", "OUT_OF_RANGE", "1 to 200 characters"));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut conn = state.read(&ctx).await?;
    let rows = views::search(&mut conn, &ctx, term, limit).await?;
    Ok(Json(SearchView {
        results: rows.into_iter().map(Into::into).collect(),
    }))
}
