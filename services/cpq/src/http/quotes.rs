//! Quote endpoints: extract context and body, run the command through the idempotent runner,
//! answer with the view, its `ETag` and (for creation) its `Location`.

use axum::Json;
use axum::extract::State;
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, ProblemDetails};
use common_kernel::http::extract::{ApiPath, ApiQuery, IfMatch, OptionalJson, ValidJson};
use common_kernel::idempotency::{CommandFingerprint, CommandResponse, Tx};
use common_kernel::pagination::{Page, PageRequest};
use common_kernel::version::Version;
use uuid::Uuid;

use super::dto::{
    AcceptRequest, CommandHeaders, ContextHeaders, CreateQuoteRequest, ListQuery,
    PriceOverrideRequest, ReasonRequest, ReplaceItemsRequest,
};
use super::{AppState, to_json};
use crate::app::error::CpqResult;
use crate::app::quotes;
use crate::app::views::{ConversionView, PriceTraceView, QuoteSummary, QuoteView};

fn quote_response(view: &QuoteView, created: bool) -> Result<CommandResponse, ApiError> {
    let body = to_json(view)?;
    let response = if created {
        CommandResponse::created(body, format!("/quotes/{}", view.id))
    } else {
        CommandResponse::ok(body)
    };
    Ok(response.with_etag(Version::new(view.aggregate_version).etag()))
}

/// Runs a quote command through the idempotent runner (its own transaction, replay by
/// `Idempotency-Key`) and answers 200 with the quote the command leaves, with its ETag.
async fn run_quote_command<F, Fut>(
    state: &AppState,
    ctx: &RequestContext,
    fingerprint: CommandFingerprint,
    command: F,
) -> Result<CommandResponse, ApiError>
where
    F: FnOnce(Tx, RequestContext) -> Fut,
    Fut: Future<Output = (Tx, CpqResult<QuoteView>)>,
{
    let command_ctx = ctx.clone();
    state
        .runner
        .run(ctx, fingerprint, move |tx| async move {
            let (tx, result) = command(tx, command_ctx).await;
            let response = result
                .map_err(ApiError::from)
                .and_then(|view| quote_response(&view, false));
            (tx, response)
        })
        .await
}

/// Creates a quote pinned to a published price book version; with items, configures them.
#[utoipa::path(post, path = "/quotes", tag = "quotes",
    params(ContextHeaders, CommandHeaders), request_body = CreateQuoteRequest,
    responses(
        (status = 201, body = QuoteView),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 413, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 503, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    ctx: RequestContext,
    body: ValidJson<CreateQuoteRequest>,
) -> Result<CommandResponse, ApiError> {
    let fingerprint = CommandFingerprint::new("cpq.CreateQuote", "", &body.digest);
    let input = body.body.into();
    let command_ctx = ctx.clone();
    let catalog = state.catalog.clone();
    state
        .runner
        .run(&ctx, fingerprint, move |mut tx| async move {
            let result = quotes::create(&mut tx, &command_ctx, &catalog, input).await;
            let response = result
                .map_err(ApiError::from)
                .and_then(|view| quote_response(&view, true));
            (tx, response)
        })
        .await
}

/// Reads a quote with its current revision.
#[utoipa::path(get, path = "/quotes/{id}", tag = "quotes",
    params(ContextHeaders, ("id" = Uuid, Path, description = "Quote id")),
    responses((status = 200, body = QuoteView), (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<QuoteView>, ApiError> {
    let mut conn = state.conn().await?;
    Ok(Json(quotes::get(&mut conn, &ctx, id).await?))
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
    let mut conn = state.conn().await?;
    let (items, total) = quotes::list(
        &mut conn,
        &ctx,
        query.status.as_deref(),
        query.customer_id.as_deref(),
        page.limit,
        page.offset,
    )
    .await?;
    Ok(Page::new(items, page, total))
}

/// Replaces the items of the current revision and runs the configuration engine: all VALID ⇒
/// CONFIGURED, otherwise DRAFT with the violations on the items.
#[utoipa::path(put, path = "/quotes/{id}/items", tag = "quotes",
    params(ContextHeaders, CommandHeaders, ("id" = Uuid, Path, description = "Quote id")),
    request_body = ReplaceItemsRequest,
    responses(
        (status = 200, body = QuoteView),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 412, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 413, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 503, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn replace_items(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(expected): IfMatch,
    body: ValidJson<ReplaceItemsRequest>,
) -> Result<CommandResponse, ApiError> {
    let fingerprint = CommandFingerprint::new("cpq.ReplaceItems", &id.to_string(), &body.digest);
    let items = body.body.items.into_iter().map(Into::into).collect();
    let catalog = state.catalog.clone();
    run_quote_command(&state, &ctx, fingerprint, move |mut tx, ctx| async move {
        let result = quotes::replace_items(&mut tx, &ctx, &catalog, id, items, expected).await;
        (tx, result)
    })
    .await
}

/// Prices the current revision against the pinned price book version; stores the trace and
/// the price hash.
#[utoipa::path(post, path = "/quotes/{id}/price", tag = "quotes",
    params(ContextHeaders, CommandHeaders, ("id" = Uuid, Path, description = "Quote id")),
    responses(
        (status = 200, body = QuoteView),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 503, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn price(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(expected): IfMatch,
) -> Result<CommandResponse, ApiError> {
    let fingerprint = CommandFingerprint::new("cpq.PriceQuote", &id.to_string(), "");
    let catalog = state.catalog.clone();
    run_quote_command(&state, &ctx, fingerprint, move |mut tx, ctx| async move {
        let result = quotes::price(&mut tx, &ctx, &catalog, id, expected).await;
        (tx, result)
    })
    .await
}

/// Overrides one charge of one item by hand (the actor comes from the request context) and
/// re-prices; the override needs approval at submit.
#[utoipa::path(post, path = "/quotes/{id}/items/{item_id}/price-override", tag = "quotes",
    params(ContextHeaders, CommandHeaders, ("id" = Uuid, Path, description = "Quote id"),
        ("item_id" = String, Path, description = "Item id")),
    request_body = PriceOverrideRequest,
    responses(
        (status = 200, body = QuoteView),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn override_price(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath((id, item)): ApiPath<(Uuid, String)>,
    IfMatch(expected): IfMatch,
    body: ValidJson<PriceOverrideRequest>,
) -> Result<CommandResponse, ApiError> {
    let fingerprint =
        CommandFingerprint::new("cpq.OverridePrice", &format!("{id}/{item}"), &body.digest);
    let input = body.body.into();
    let catalog = state.catalog.clone();
    run_quote_command(&state, &ctx, fingerprint, move |mut tx, ctx| async move {
        let result =
            quotes::override_price(&mut tx, &ctx, &catalog, id, item, input, expected).await;
        (tx, result)
    })
    .await
}

/// Submits a priced quote: the approval policy decides between APPROVAL_PENDING and APPROVED
/// (price frozen, approved hash recorded).
#[utoipa::path(post, path = "/quotes/{id}/submit", tag = "quotes",
    params(ContextHeaders, CommandHeaders, ("id" = Uuid, Path, description = "Quote id")),
    responses(
        (status = 200, body = QuoteView),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn submit(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(expected): IfMatch,
) -> Result<CommandResponse, ApiError> {
    let fingerprint = CommandFingerprint::new("cpq.SubmitQuote", &id.to_string(), "");
    run_quote_command(&state, &ctx, fingerprint, move |mut tx, ctx| async move {
        let result = quotes::submit(&mut tx, &ctx, id, expected).await;
        (tx, result)
    })
    .await
}

/// Opens revision n+1 in DRAFT; any approval in force is superseded.
#[utoipa::path(post, path = "/quotes/{id}/revise", tag = "quotes",
    params(ContextHeaders, CommandHeaders, ("id" = Uuid, Path, description = "Quote id")),
    request_body(content = Option<ReasonRequest>, description = "Optional reason"),
    responses(
        (status = 200, body = QuoteView),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn revise(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(expected): IfMatch,
    body: OptionalJson<ReasonRequest>,
) -> Result<CommandResponse, ApiError> {
    let fingerprint = CommandFingerprint::new("cpq.ReviseQuote", &id.to_string(), &body.digest);
    let reason = body.body.unwrap_or_default().reason;
    run_quote_command(&state, &ctx, fingerprint, move |mut tx, ctx| async move {
        let result = quotes::revise(&mut tx, &ctx, id, reason, expected).await;
        (tx, result)
    })
    .await
}

/// Records the customer's acceptance of an APPROVED quote (before validity ends, price frozen
/// and equal to the approved one).
#[utoipa::path(post, path = "/quotes/{id}/accept", tag = "quotes",
    params(ContextHeaders, CommandHeaders, ("id" = Uuid, Path, description = "Quote id")),
    request_body(content = Option<AcceptRequest>, description = "Optional channel and reference"),
    responses(
        (status = 200, body = QuoteView),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn accept(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(expected): IfMatch,
    body: OptionalJson<AcceptRequest>,
) -> Result<CommandResponse, ApiError> {
    let fingerprint = CommandFingerprint::new("cpq.AcceptQuote", &id.to_string(), &body.digest);
    let input = body.body.unwrap_or_default().into();
    run_quote_command(&state, &ctx, fingerprint, move |mut tx, ctx| async move {
        let result = quotes::accept(&mut tx, &ctx, id, input, expected).await;
        (tx, result)
    })
    .await
}

/// Cancels a quote that is not yet accepted.
#[utoipa::path(post, path = "/quotes/{id}/cancel", tag = "quotes",
    params(ContextHeaders, CommandHeaders, ("id" = Uuid, Path, description = "Quote id")),
    request_body(content = Option<ReasonRequest>, description = "Optional reason"),
    responses(
        (status = 200, body = QuoteView),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn cancel(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(expected): IfMatch,
    body: OptionalJson<ReasonRequest>,
) -> Result<CommandResponse, ApiError> {
    let fingerprint = CommandFingerprint::new("cpq.CancelQuote", &id.to_string(), &body.digest);
    let reason = body.body.unwrap_or_default().reason;
    run_quote_command(&state, &ctx, fingerprint, move |mut tx, ctx| async move {
        let result = quotes::cancel(&mut tx, &ctx, id, reason, expected).await;
        (tx, result)
    })
    .await
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
    let mut conn = state.conn().await?;
    Ok(Json(quotes::price_trace(&mut conn, &ctx, id).await?))
}

/// Converts an ACCEPTED quote into an order exactly once; every repeat answers with the same
/// conversion (same order id).
#[utoipa::path(post, path = "/quotes/{id}/convert-to-order", tag = "quotes",
    params(ContextHeaders, CommandHeaders, ("id" = Uuid, Path, description = "Quote id")),
    responses(
        (status = 200, body = ConversionView),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn convert(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<CommandResponse, ApiError> {
    let fingerprint = CommandFingerprint::new("cpq.ConvertQuoteToOrder", &id.to_string(), "");
    let command_ctx = ctx.clone();
    state
        .runner
        .run(&ctx, fingerprint, move |mut tx| async move {
            let result = quotes::convert(&mut tx, &command_ctx, id).await;
            let response = result
                .map_err(ApiError::from)
                .and_then(|view: ConversionView| Ok(CommandResponse::ok(to_json(&view)?)));
            (tx, response)
        })
        .await
}
