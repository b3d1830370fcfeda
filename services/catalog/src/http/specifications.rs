//! Product specification endpoints.

use axum::Json;
use axum::extract::State;
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, ProblemDetails};
use common_kernel::http::extract::{ApiPath, ApiQuery, ValidJson};
use common_kernel::idempotency::{CommandFingerprint, CommandResponse};
use common_kernel::pagination::{Page, PageRequest};
use uuid::Uuid;

use super::dto::{ContextHeaders, CreateSpecificationRequest, IdempotencyHeaders, ListByCodeQuery};
use super::{AppState, to_json};
use crate::app::specifications;
use crate::app::views::SpecificationView;

/// Creates a product specification with its characteristic definitions.
#[utoipa::path(post, path = "/product-specifications", tag = "specifications",
    operation_id = "create_specification",
    params(ContextHeaders, IdempotencyHeaders), request_body = CreateSpecificationRequest,
    responses(
        (status = 201, description = "Created", body = SpecificationView, links(
            ("getSpecification" = (operation_id = "get_specification", parameters(("id" = "$response.body#/id")))),
        )),
        (status = 409, description = "Code already used", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "Invalid definition", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    ctx: RequestContext,
    body: ValidJson<CreateSpecificationRequest>,
) -> Result<CommandResponse, ApiError> {
    let fingerprint =
        CommandFingerprint::new("catalog.CreateProductSpecification", "", &body.digest);
    let input = body.body.into();
    let command_ctx = ctx.clone();
    state
        .runner
        .run(&ctx, fingerprint, move |mut tx| async move {
            let result = specifications::create(&mut tx, &command_ctx, input).await;
            let response = result.map_err(ApiError::from).and_then(|view| {
                Ok(CommandResponse::created(
                    to_json(&view)?,
                    format!("/product-specifications/{}", view.id),
                ))
            });
            (tx, response)
        })
        .await
}

/// Reads a product specification.
#[utoipa::path(get, path = "/product-specifications/{id}", tag = "specifications",
    operation_id = "get_specification",
    params(ContextHeaders, ("id" = Uuid, Path, description = "Specification id")),
    responses(
        (status = 200, body = SpecificationView),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn get(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<SpecificationView>, ApiError> {
    let mut conn = state.conn(&ctx).await?;
    Ok(Json(specifications::get(&mut conn, &ctx, id).await?))
}

/// Lists the tenant's product specifications, ordered by code.
#[utoipa::path(get, path = "/product-specifications", tag = "specifications",
    operation_id = "list_specifications",
    params(ContextHeaders, ListByCodeQuery),
    responses((status = 200, body = Page<SpecificationView>, headers(("X-Total-Count" = i64, description = "Matching items")))))]
pub async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiQuery(query): ApiQuery<ListByCodeQuery>,
) -> Result<Page<SpecificationView>, ApiError> {
    let page = PageRequest::new(query.limit, query.offset)?;
    let mut conn = state.conn(&ctx).await?;
    let (items, total) = specifications::list(&mut conn, &ctx, query.code.as_deref(), page).await?;
    Ok(Page::new(items, page, total))
}
