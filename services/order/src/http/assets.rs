//! The installed base: a customer's product instances (TMF637), one instance with its history,
//! a customer's subscriptions.

use axum::extract::State;
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, FieldError, ProblemDetails};
use common_kernel::http::extract::{ApiPath, ApiQuery};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::dto::{AssetList, AssetView, SubscriptionList, asset_view, subscription_view};
use super::{AppState, ContextHeaders, page_limit};
use crate::app::views;
use crate::domain::{CustomerId, ProductInstanceId};

/// The customer a list is for.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct CustomerQuery {
    /// The customer (required).
    pub customer_id: Option<String>,
    /// Page size, 1 to 500 (100).
    pub limit: Option<i64>,
}

fn customer(query: &CustomerQuery) -> Result<(CustomerId, i64), ApiError> {
    let mut errors = Vec::new();
    let limit = page_limit(query.limit, &mut errors);
    let customer = match query.customer_id.as_deref() {
        None => {
            errors.push(FieldError::new(
                "/customerId",
                "REQUIRED",
                "the customer whose installed base to list",
            ));
            None
        }
        Some(c) => CustomerId::parse(c)
            .map_err(|e| errors.push(FieldError::new("/customerId", "INVALID", e.to_string())))
            .ok(),
    };
    match customer {
        Some(customer) if errors.is_empty() => Ok((customer, limit)),
        _ => Err(ApiError::validation(errors)),
    }
}

/// A customer's product instances, oldest first.
#[utoipa::path(get, path = "/assets", tag = "installed-base",
    params(ContextHeaders, CustomerQuery),
    responses(
        (status = 200, body = AssetList),
        (status = 422, description = "`VALIDATION_FAILED`: customerId missing or invalid, limit out of 1..=500", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiQuery(query): ApiQuery<CustomerQuery>,
) -> Result<axum::Json<AssetList>, ApiError> {
    let (customer, limit) = customer(&query)?;
    let mut conn = state.conn(&ctx).await?;
    let assets = views::assets(&mut conn, &ctx, &customer, limit).await?;
    Ok(axum::Json(AssetList {
        assets: assets
            .iter()
            .map(|(i, refs)| asset_view(i, refs, &[]))
            .collect(),
    }))
}

/// One product instance with its history (every version, the order that caused it).
#[utoipa::path(get, path = "/assets/{id}", tag = "installed-base",
    params(ContextHeaders, ("id" = Uuid, Path, description = "Product instance id")),
    responses(
        (status = 200, body = AssetView),
        (status = 404, description = "`PRODUCT_INSTANCE_NOT_FOUND`", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn get(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<axum::Json<AssetView>, ApiError> {
    let mut conn = state.conn(&ctx).await?;
    let (instance, refs, history) =
        views::asset(&mut conn, &ctx, ProductInstanceId::from_uuid(id)).await?;
    Ok(axum::Json(asset_view(&instance, &refs, &history)))
}

/// A customer's subscriptions, oldest first.
#[utoipa::path(get, path = "/subscriptions", tag = "installed-base",
    params(ContextHeaders, CustomerQuery),
    responses(
        (status = 200, body = SubscriptionList),
        (status = 422, description = "`VALIDATION_FAILED`: customerId missing or invalid, limit out of 1..=500", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn subscriptions(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiQuery(query): ApiQuery<CustomerQuery>,
) -> Result<axum::Json<SubscriptionList>, ApiError> {
    let (customer, limit) = customer(&query)?;
    let mut conn = state.conn(&ctx).await?;
    let subscriptions = views::subscriptions(&mut conn, &ctx, &customer, limit).await?;
    Ok(axum::Json(SubscriptionList {
        subscriptions: subscriptions.iter().map(subscription_view).collect(),
    }))
}
