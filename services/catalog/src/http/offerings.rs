//! Product offering endpoints.

use axum::Json;
use axum::extract::State;
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, FieldError, ProblemDetails, codes};
use common_kernel::http::extract::{ApiPath, ApiQuery, IfMatch, OptionalJson, ValidJson};
use common_kernel::idempotency::{CommandFingerprint, CommandResponse};
use common_kernel::pagination::{Page, PageRequest};
use common_kernel::version::Version;
use uuid::Uuid;

use super::dto::{
    CommandHeaders, ContextHeaders, CreateOfferingRequest, IdempotencyHeaders, LifecycleRequest,
    ListOfferingsQuery, OfferingContentPatch,
};
use super::{AppState, to_json};
use crate::app::offerings;
use crate::app::views::{OfferingVersionView, OfferingView};
use crate::domain::lifecycle::{OfferingCommand, OfferingStatus};

fn version_response(
    view: &OfferingVersionView,
    status_created: bool,
) -> Result<CommandResponse, ApiError> {
    let body = to_json(view)?;
    let etag = Version::new(view.aggregate_version).etag();
    let response = if status_created {
        CommandResponse::created(
            body,
            format!(
                "/product-offerings/{}/versions/{}",
                view.content.offering_id, view.content.version
            ),
        )
    } else {
        CommandResponse::ok(body)
    };
    Ok(response.with_etag(etag))
}

/// Creates a product offering with version 1 in DRAFT.
#[utoipa::path(post, path = "/product-offerings", tag = "offerings",
    operation_id = "create_offering",
    params(ContextHeaders, IdempotencyHeaders), request_body = CreateOfferingRequest,
    responses(
        (status = 201, description = "Created", body = OfferingView, links(
            ("getOffering" = (operation_id = "get_offering", parameters(("id" = "$response.body#/id")))),
            ("getVersion" = (operation_id = "get_offering_version",
                parameters(("id" = "$response.body#/id"), ("version" = "$response.body#/latestVersion")))),
            ("editVersion" = (operation_id = "edit_offering_version",
                parameters(("id" = "$response.body#/id"), ("version" = "$response.body#/latestVersion")))),
            ("submitForReview" = (operation_id = "submit_offering_for_review", parameters(("id" = "$response.body#/id")))),
        )),
        (status = 409, description = "Code already used", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "Invalid content or unknown references", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    ctx: RequestContext,
    body: ValidJson<CreateOfferingRequest>,
) -> Result<CommandResponse, ApiError> {
    let fingerprint = CommandFingerprint::new("catalog.CreateProductOffering", "", &body.digest);
    let input = body.body.into();
    let command_ctx = ctx.clone();
    state
        .runner
        .run(&ctx, fingerprint, move |mut tx| async move {
            let result = offerings::create(&mut tx, &command_ctx, input).await;
            let response = result.map_err(ApiError::from).and_then(|view| {
                Ok(CommandResponse::created(
                    to_json(&view)?,
                    format!("/product-offerings/{}", view.id),
                )
                .with_etag(Version::new(view.aggregate_version).etag()))
            });
            (tx, response)
        })
        .await
}

/// Reads an offering and the state of its versions.
#[utoipa::path(get, path = "/product-offerings/{id}", tag = "offerings",
    operation_id = "get_offering",
    params(ContextHeaders, ("id" = Uuid, Path, description = "Offering id")),
    responses((status = 200, body = OfferingView), (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<OfferingView>, ApiError> {
    let mut conn = state.conn(&ctx).await?;
    Ok(Json(offerings::get(&mut conn, &ctx, id).await?))
}

/// Lists the tenant's offerings, ordered by code.
#[utoipa::path(get, path = "/product-offerings", tag = "offerings",
    operation_id = "list_offerings",
    params(ContextHeaders, ListOfferingsQuery),
    responses(
        (status = 200, body = Page<OfferingView>, headers(("X-Total-Count" = i64, description = "Matching items"))),
        (status = 400, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiQuery(query): ApiQuery<ListOfferingsQuery>,
) -> Result<Page<OfferingView>, ApiError> {
    let page = PageRequest::new(query.limit, query.offset)?;
    let status = match query.status.as_deref() {
        None => None,
        Some(raw) => Some(OfferingStatus::parse(raw).ok_or_else(|| {
            ApiError::bad_request(codes::INVALID_QUERY, "Unknown status filter").with_errors(vec![
                FieldError::new(
                    "query:status",
                    "NOT_ALLOWED",
                    "must be DRAFT, READY_FOR_REVIEW, PUBLISHED, RETIRED or ARCHIVED",
                ),
            ])
        })?),
    };
    let mut conn = state.conn(&ctx).await?;
    let (items, total) =
        offerings::list(&mut conn, &ctx, status, query.code.as_deref(), page).await?;
    Ok(Page::new(items, page, total))
}

/// Reads one version: content (characteristics resolved) and lifecycle.
#[utoipa::path(get, path = "/product-offerings/{id}/versions/{version}", tag = "offerings",
    operation_id = "get_offering_version",
    params(ContextHeaders, ("id" = Uuid, Path, description = "Offering id"), ("version" = i32, Path, description = "Version number")),
    responses((status = 200, body = OfferingVersionView), (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn get_version(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath((id, version)): ApiPath<(Uuid, i32)>,
) -> Result<Json<OfferingVersionView>, ApiError> {
    let mut conn = state.conn(&ctx).await?;
    Ok(Json(
        offerings::get_version(&mut conn, &state.cache, &ctx, id, version).await?,
    ))
}

async fn lifecycle(
    state: AppState,
    ctx: RequestContext,
    id: Uuid,
    expected: Option<i64>,
    body: OptionalJson<LifecycleRequest>,
    command: OfferingCommand,
    command_type: &'static str,
) -> Result<CommandResponse, ApiError> {
    let fingerprint = CommandFingerprint::new(command_type, &id.to_string(), &body.digest);
    let input = body.body.unwrap_or_default().into_input(expected);
    let command_ctx = ctx.clone();
    state
        .runner
        .run(&ctx, fingerprint, move |mut tx| async move {
            let result = offerings::transition(&mut tx, &command_ctx, id, command, input).await;
            let response = result
                .map_err(ApiError::from)
                .and_then(|view| version_response(&view, false));
            (tx, response)
        })
        .await
}

macro_rules! lifecycle_endpoint {
    ($name:ident, $path:literal, $operation_id:literal, $command:expr, $command_type:literal, $doc:literal,
        next($($next:literal = $next_operation:literal),+)) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "offerings", operation_id = $operation_id,
            params(ContextHeaders, CommandHeaders, ("id" = Uuid, Path, description = "Offering id")),
            request_body(content = Option<LifecycleRequest>, description = "Optional: version (default latest) and reason"),
            responses(
                (status = 200, description = "The version after the transition", body = OfferingVersionView, links(
                    $(($next = (operation_id = $next_operation, parameters(("id" = "$request.path.id"))))),+
                )),
                (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
                (status = 409, description = "Illegal transition", body = ProblemDetails, content_type = "application/problem+json"),
                (status = 412, description = "If-Match names an older version", body = ProblemDetails, content_type = "application/problem+json"),
            ))]
        pub async fn $name(
            State(state): State<AppState>,
            ctx: RequestContext,
            ApiPath(id): ApiPath<Uuid>,
            IfMatch(expected): IfMatch,
            body: OptionalJson<LifecycleRequest>,
        ) -> Result<CommandResponse, ApiError> {
            lifecycle(state, ctx, id, expected, body, $command, $command_type).await
        }
    };
}

lifecycle_endpoint!(
    submit_for_review,
    "/product-offerings/{id}/submit-for-review",
    "submit_offering_for_review",
    OfferingCommand::SubmitForReview,
    "catalog.SubmitOfferingForReview",
    "DRAFT → READY_FOR_REVIEW.",
    next(
        "publish" = "publish_offering",
        "returnToDraft" = "return_offering_to_draft"
    )
);
lifecycle_endpoint!(
    return_to_draft,
    "/product-offerings/{id}/return-to-draft",
    "return_offering_to_draft",
    OfferingCommand::ReturnToDraft,
    "catalog.ReturnOfferingToDraft",
    "READY_FOR_REVIEW → DRAFT, for rework.",
    next("submitForReview" = "submit_offering_for_review")
);
lifecycle_endpoint!(
    publish,
    "/product-offerings/{id}/publish",
    "publish_offering",
    OfferingCommand::Publish,
    "catalog.PublishOffering",
    "READY_FOR_REVIEW → PUBLISHED; the previously published version is retired in the same transaction.",
    next(
        "retire" = "retire_offering",
        "createVersion" = "create_offering_version"
    )
);
lifecycle_endpoint!(
    retire,
    "/product-offerings/{id}/retire",
    "retire_offering",
    OfferingCommand::Retire,
    "catalog.RetireOffering",
    "PUBLISHED → RETIRED: no longer sold new.",
    next(
        "archive" = "archive_offering",
        "createVersion" = "create_offering_version"
    )
);
lifecycle_endpoint!(
    archive,
    "/product-offerings/{id}/archive",
    "archive_offering",
    OfferingCommand::Archive,
    "catalog.ArchiveOffering",
    "RETIRED → ARCHIVED: historical reconstruction only.",
    next("getOffering" = "get_offering")
);

/// Opens a new DRAFT version copied from the latest (PUBLISHED or RETIRED) one, with optional
/// changes applied.
#[utoipa::path(post, path = "/product-offerings/{id}/versions", tag = "offerings",
    operation_id = "create_offering_version",
    params(ContextHeaders, CommandHeaders, ("id" = Uuid, Path, description = "Offering id")),
    request_body(content = Option<OfferingContentPatch>, description = "Optional changes to the copied content"),
    responses(
        (status = 201, description = "The new DRAFT version", body = OfferingVersionView, links(
            ("editVersion" = (operation_id = "edit_offering_version",
                parameters(("id" = "$request.path.id"), ("version" = "$response.body#/version")))),
            ("submitForReview" = (operation_id = "submit_offering_for_review", parameters(("id" = "$request.path.id")))),
        )),
        (status = 409, description = "A working version is already open, or the latest is archived", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn create_version(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(expected): IfMatch,
    body: OptionalJson<OfferingContentPatch>,
) -> Result<CommandResponse, ApiError> {
    let fingerprint = CommandFingerprint::new(
        "catalog.CreateOfferingVersion",
        &id.to_string(),
        &body.digest,
    );
    let patch = body.body.unwrap_or_default().into();
    let command_ctx = ctx.clone();
    state
        .runner
        .run(&ctx, fingerprint, move |mut tx| async move {
            let result =
                offerings::derive_version(&mut tx, &command_ctx, id, patch, expected).await;
            let response = result
                .map_err(ApiError::from)
                .and_then(|view| version_response(&view, true));
            (tx, response)
        })
        .await
}

/// Changes a DRAFT version's content; any other status answers 409 `VERSION_IMMUTABLE`.
#[utoipa::path(patch, path = "/product-offerings/{id}/versions/{version}", tag = "offerings",
    operation_id = "edit_offering_version",
    params(ContextHeaders, CommandHeaders, ("id" = Uuid, Path, description = "Offering id"), ("version" = i32, Path, description = "Version number")),
    request_body = OfferingContentPatch,
    responses(
        (status = 200, body = OfferingVersionView),
        (status = 409, description = "The version is not a draft", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 412, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn edit_version(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath((id, version)): ApiPath<(Uuid, i32)>,
    IfMatch(expected): IfMatch,
    body: ValidJson<OfferingContentPatch>,
) -> Result<CommandResponse, ApiError> {
    let fingerprint = CommandFingerprint::new(
        "catalog.EditOfferingDraft",
        &format!("{id}/{version}"),
        &body.digest,
    );
    let patch = body.body.into();
    let command_ctx = ctx.clone();
    state
        .runner
        .run(&ctx, fingerprint, move |mut tx| async move {
            let result =
                offerings::edit_draft(&mut tx, &command_ctx, id, version, patch, expected).await;
            let response = result
                .map_err(ApiError::from)
                .and_then(|view| version_response(&view, false));
            (tx, response)
        })
        .await
}
