//! Price book endpoints.

use axum::Json;
use axum::extract::State;
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, ProblemDetails};
use common_kernel::http::extract::{ApiPath, ApiQuery, IfMatch, OptionalJson, ValidJson};
use common_kernel::idempotency::{CommandFingerprint, CommandResponse};
use common_kernel::pagination::{Page, PageRequest};
use common_kernel::version::Version;
use uuid::Uuid;

use super::dto::{
    CommandHeaders, ContextHeaders, CreatePriceBookRequest, IdempotencyHeaders, LifecycleRequest,
    ListByCodeQuery, PriceBookVersionRequest,
};
use super::{AppState, to_json};
use crate::app::price_books;
use crate::app::views::{PriceBookVersionView, PriceBookView};

fn version_response(
    view: &PriceBookVersionView,
    created: bool,
) -> Result<CommandResponse, ApiError> {
    let body = to_json(view)?;
    let response = if created {
        CommandResponse::created(
            body,
            format!(
                "/price-books/{}/versions/{}",
                view.content.price_book_id, view.content.version
            ),
        )
    } else {
        CommandResponse::ok(body)
    };
    Ok(response.with_etag(Version::new(view.aggregate_version).etag()))
}

/// Creates a price book with version 1 in DRAFT.
#[utoipa::path(post, path = "/price-books", tag = "price-books",
    operation_id = "create_price_book",
    params(ContextHeaders, IdempotencyHeaders), request_body = CreatePriceBookRequest,
    responses(
        (status = 201, description = "Created: version 1 in DRAFT", body = PriceBookVersionView, links(
            ("getPriceBook" = (operation_id = "get_price_book", parameters(("id" = "$response.body#/priceBookId")))),
            ("getVersion" = (operation_id = "get_price_book_version",
                parameters(("id" = "$response.body#/priceBookId"), ("version" = "$response.body#/version")))),
            ("publish" = (operation_id = "publish_price_book", parameters(("id" = "$response.body#/priceBookId")))),
        )),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    ctx: RequestContext,
    body: ValidJson<CreatePriceBookRequest>,
) -> Result<CommandResponse, ApiError> {
    let fingerprint = CommandFingerprint::new("catalog.CreatePriceBook", "", &body.digest);
    let input = body.body.into();
    let command_ctx = ctx.clone();
    state
        .runner
        .run(&ctx, fingerprint, move |mut tx| async move {
            let result = price_books::create(&mut tx, &command_ctx, input).await;
            let response = result
                .map_err(ApiError::from)
                .and_then(|view| version_response(&view, true));
            (tx, response)
        })
        .await
}

/// Puts a DRAFT version in force; the version it replaces is retired in the same transaction.
#[utoipa::path(post, path = "/price-books/{id}/publish", tag = "price-books",
    operation_id = "publish_price_book",
    params(ContextHeaders, CommandHeaders, ("id" = Uuid, Path, description = "Price book id")),
    request_body(content = Option<LifecycleRequest>, description = "Optional: version (default latest) and reason"),
    responses(
        (status = 200, description = "The version now in force", body = PriceBookVersionView, links(
            ("createVersion" = (operation_id = "create_price_book_version", parameters(("id" = "$request.path.id")))),
        )),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn publish(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(expected): IfMatch,
    body: OptionalJson<LifecycleRequest>,
) -> Result<CommandResponse, ApiError> {
    let fingerprint =
        CommandFingerprint::new("catalog.PublishPriceBook", &id.to_string(), &body.digest);
    let input = body.body.unwrap_or_default().into_input(expected);
    let command_ctx = ctx.clone();
    state
        .runner
        .run(&ctx, fingerprint, move |mut tx| async move {
            let result = price_books::publish(&mut tx, &command_ctx, id, input).await;
            let response = result
                .map_err(ApiError::from)
                .and_then(|view| version_response(&view, false));
            (tx, response)
        })
        .await
}

/// Opens a new DRAFT version copied from the latest one (optionally with new name or entries).
#[utoipa::path(post, path = "/price-books/{id}/versions", tag = "price-books",
    operation_id = "create_price_book_version",
    params(ContextHeaders, CommandHeaders, ("id" = Uuid, Path, description = "Price book id")),
    request_body(content = Option<PriceBookVersionRequest>, description = "Optional replacements"),
    responses(
        (status = 201, description = "The new DRAFT version", body = PriceBookVersionView, links(
            ("getVersion" = (operation_id = "get_price_book_version",
                parameters(("id" = "$request.path.id"), ("version" = "$response.body#/version")))),
            ("publish" = (operation_id = "publish_price_book", parameters(("id" = "$request.path.id")))),
        )),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn create_version(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(expected): IfMatch,
    body: OptionalJson<PriceBookVersionRequest>,
) -> Result<CommandResponse, ApiError> {
    let fingerprint = CommandFingerprint::new(
        "catalog.CreatePriceBookVersion",
        &id.to_string(),
        &body.digest,
    );
    let request = body.body.unwrap_or_default();
    let entries = request
        .entries
        .map(|e| e.into_iter().map(Into::into).collect());
    let name = request.name;
    let command_ctx = ctx.clone();
    state
        .runner
        .run(&ctx, fingerprint, move |mut tx| async move {
            let result =
                price_books::derive_version(&mut tx, &command_ctx, id, name, entries, expected)
                    .await;
            let response = result
                .map_err(ApiError::from)
                .and_then(|view| version_response(&view, true));
            (tx, response)
        })
        .await
}

/// Reads a price book and the state of its versions.
#[utoipa::path(get, path = "/price-books/{id}", tag = "price-books",
    operation_id = "get_price_book",
    params(ContextHeaders, ("id" = Uuid, Path, description = "Price book id")),
    responses((status = 200, body = PriceBookView), (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<PriceBookView>, ApiError> {
    let mut conn = state.conn(&ctx).await?;
    Ok(Json(price_books::get(&mut conn, &ctx, id).await?))
}

/// Lists the tenant's price books, ordered by code.
#[utoipa::path(get, path = "/price-books", tag = "price-books",
    operation_id = "list_price_books",
    params(ContextHeaders, ListByCodeQuery),
    responses((status = 200, body = Page<PriceBookView>, headers(("X-Total-Count" = i64, description = "Matching items")))))]
pub async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiQuery(query): ApiQuery<ListByCodeQuery>,
) -> Result<Page<PriceBookView>, ApiError> {
    let page = PageRequest::new(query.limit, query.offset)?;
    let mut conn = state.conn(&ctx).await?;
    let (items, total) = price_books::list(&mut conn, &ctx, query.code.as_deref(), page).await?;
    Ok(Page::new(items, page, total))
}

/// Reads one price book version with its charges.
#[utoipa::path(get, path = "/price-books/{id}/versions/{version}", tag = "price-books",
    operation_id = "get_price_book_version",
    params(ContextHeaders, ("id" = Uuid, Path, description = "Price book id"), ("version" = i32, Path, description = "Version number")),
    responses((status = 200, body = PriceBookVersionView), (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn get_version(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath((id, version)): ApiPath<(Uuid, i32)>,
) -> Result<Json<PriceBookVersionView>, ApiError> {
    let mut conn = state.conn(&ctx).await?;
    Ok(Json(
        price_books::get_version(&mut conn, &state.cache, &ctx, id, version).await?,
    ))
}
