//! `GET /external-operations`: the operations of an order, or every operation waiting in a
//! state (an operator's list of `OUTCOME_UNKNOWN`), and one by its idempotency key.

use axum::Json;
use axum::extract::State;
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, ProblemDetails};
use common_kernel::http::extract::{ApiPath, ApiQuery};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::views::{ExternalOperationList, ExternalOperationView};
use super::{AppState, ContextHeaders, optional, page_limit};
use crate::app::queries;
use crate::domain::OperationStatus;
use crate::domain::key::OrderId;

/// The filters of the operations list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OperationsQuery {
    /// Only this order's operations.
    pub order_id: Option<Uuid>,
    /// Only those in this status, e.g. `OUTCOME_UNKNOWN`.
    pub status: Option<String>,
    /// At most this many, 1 to 500 (default 100).
    pub limit: Option<i64>,
}

/// Operations, oldest first.
#[utoipa::path(get, path = "/external-operations", tag = "external-operations",
    params(ContextHeaders, OperationsQuery),
    responses(
        (status = 200, body = ExternalOperationList),
        (status = 422, description = "`VALIDATION_FAILED`: an unknown status or a bad limit", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiQuery(query): ApiQuery<OperationsQuery>,
) -> Result<Json<ExternalOperationList>, ApiError> {
    let mut errors = Vec::new();
    let status = optional(
        query.status.as_deref(),
        OperationStatus::parse,
        "/status",
        "not an operation status",
        &mut errors,
    );
    let limit = page_limit(query.limit, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut conn = state.conn(&ctx).await?;
    let found = queries::operations(
        &mut conn,
        &ctx,
        query.order_id.map(OrderId::from_uuid),
        status,
        limit,
    )
    .await?;
    Ok(Json(ExternalOperationList {
        items: found.iter().map(ExternalOperationView::from).collect(),
    }))
}

/// One operation by the key it is sent with.
#[utoipa::path(get, path = "/external-operations/{idempotencyKey}", tag = "external-operations",
    params(ContextHeaders, ("idempotencyKey" = String, Path, description = "The operation's idempotency key")),
    responses(
        (status = 200, body = ExternalOperationView),
        (status = 404, description = "`EXTERNAL_OPERATION_NOT_FOUND`: no operation has this key in the caller's tenant", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`: not a key this service derives", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn get(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<ExternalOperationView>, ApiError> {
    let mut conn = state.conn(&ctx).await?;
    let stored = queries::operation(&mut conn, &ctx, &key).await?;
    Ok(Json(ExternalOperationView::from(&stored)))
}
