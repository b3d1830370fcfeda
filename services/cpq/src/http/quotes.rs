//! Quote commands: extract context and body, plan (catalog reads, no transaction), then run
//! the command through the idempotent runner (its own transaction, replay by
//! `Idempotency-Key`), and answer with the view, its `ETag` and (for creation) its `Location`.

use axum::extract::State;
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, ProblemDetails};
use common_kernel::http::extract::{ApiPath, IfMatch, OptionalJson, ValidJson};
use common_kernel::idempotency::{CommandFingerprint, CommandResponse, Tx};
use common_kernel::version::Version;
use cpq_configuration::ItemId;
use uuid::Uuid;

use super::dto::{
    AcceptRequest, CommandHeaders, ContextHeaders, CreateQuoteRequest, IdempotencyHeaders,
    PriceOverrideRequest, ReasonRequest, ReplaceItemsRequest,
};
use super::{AppState, to_json};
use crate::app::error::CpqResult;
use crate::app::views::{ConversionView, QuoteView};
use crate::app::{
    accept_quote, cancel_quote, convert_quote, create_quote, override_price, price_quote,
    replace_items as replace, revise_quote, submit_quote,
};
use crate::domain::QuoteId;

fn quote_response(view: &QuoteView, created: bool) -> Result<CommandResponse, ApiError> {
    let body = to_json(view)?;
    let response = if created {
        CommandResponse::created(body, format!("/quotes/{}", view.id))
    } else {
        CommandResponse::ok(body)
    };
    Ok(response.with_etag(Version::new(view.aggregate_version).etag()))
}

/// Runs a quote command through the idempotent runner after its `plan` (which may call the
/// catalog; no transaction is open meanwhile) and answers 200 with the quote the command
/// leaves, with its ETag.
async fn run_quote_command<P, Plan, F, Fut>(
    state: &AppState,
    ctx: &RequestContext,
    fingerprint: CommandFingerprint,
    plan: Plan,
    command: F,
) -> Result<CommandResponse, ApiError>
where
    Plan: Future<Output = CpqResult<P>>,
    F: FnOnce(Tx, P) -> Fut,
    Fut: Future<Output = (Tx, CpqResult<QuoteView>)>,
{
    state
        .runner
        .run_prepared(
            ctx,
            fingerprint,
            async { plan.await.map_err(ApiError::from) },
            move |tx, planned| async move {
                let (tx, result) = command(tx, planned).await;
                let response = result
                    .map_err(ApiError::from)
                    .and_then(|view| quote_response(&view, false));
                (tx, response)
            },
        )
        .await
}

/// Creates a quote pinned to a published price book version; with items, configures them.
#[utoipa::path(post, path = "/quotes", tag = "quotes",
    params(ContextHeaders, IdempotencyHeaders), request_body = CreateQuoteRequest,
    responses(
        (status = 201, description = "Created in DRAFT (CONFIGURED when every item is valid)", body = QuoteView, links(
            ("getQuote" = (operation_id = "get", parameters(("id" = "$response.body#/id")))),
            ("replaceItems" = (operation_id = "replace_items", parameters(("id" = "$response.body#/id")))),
            ("price" = (operation_id = "price", parameters(("id" = "$response.body#/id")))),
            ("cancel" = (operation_id = "cancel", parameters(("id" = "$response.body#/id")))),
        )),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 413, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "Unknown or unpublished price book or offering, currency mismatch, invalid items", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 502, description = "`CATALOG_ERROR`: the catalog answered something CPQ cannot use (retryable)", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 503, description = "`CATALOG_UNAVAILABLE`: the catalog cannot be reached (retryable)", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    ctx: RequestContext,
    body: ValidJson<CreateQuoteRequest>,
) -> Result<CommandResponse, ApiError> {
    let fingerprint = CommandFingerprint::new("cpq.CreateQuote", "", &body.digest);
    let plan = create_quote::plan(&state.ports, &ctx, body.body.into());
    let (ports, command_ctx) = (state.ports.clone(), ctx.clone());
    state
        .runner
        .run_prepared(
            &ctx,
            fingerprint,
            async { plan.await.map_err(ApiError::from) },
            move |mut tx, plan| async move {
                let result = create_quote::execute(&mut tx, &ports, &command_ctx, plan).await;
                let response = result
                    .map_err(ApiError::from)
                    .and_then(|view| quote_response(&view, true));
                (tx, response)
            },
        )
        .await
}

/// Replaces the items of the current revision and runs the configuration engine: all VALID ⇒
/// CONFIGURED, otherwise DRAFT with the violations on the items.
#[utoipa::path(put, path = "/quotes/{id}/items", tag = "quotes",
    params(ContextHeaders, CommandHeaders, ("id" = Uuid, Path, description = "Quote id")),
    request_body = ReplaceItemsRequest,
    responses(
        (status = 200, description = "The quote with its configured items", body = QuoteView, links(
            ("price" = (operation_id = "price", parameters(("id" = "$request.path.id")))),
            ("getQuote" = (operation_id = "get", parameters(("id" = "$request.path.id")))),
        )),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 412, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 413, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 502, description = "`CATALOG_ERROR`: the catalog answered something CPQ cannot use (retryable)", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 503, description = "`CATALOG_UNAVAILABLE`: the catalog cannot be reached (retryable)", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn replace_items(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(expected): IfMatch,
    body: ValidJson<ReplaceItemsRequest>,
) -> Result<CommandResponse, ApiError> {
    let fingerprint = CommandFingerprint::new("cpq.ReplaceItems", &id.to_string(), &body.digest);
    let id = QuoteId::from_uuid(id);
    let drafts = body.body.items.into_iter().map(Into::into).collect();
    let plan = replace::plan(&state.db, &state.ports, &ctx, id, expected, drafts);
    let (ports, command_ctx) = (state.ports.clone(), ctx.clone());
    run_quote_command(
        &state,
        &ctx,
        fingerprint,
        plan,
        move |mut tx, configured| async move {
            let result =
                replace::execute(&mut tx, &ports, &command_ctx, id, expected, configured).await;
            (tx, result)
        },
    )
    .await
}

/// Prices the current revision against the pinned price book version; stores the trace and
/// the price hash.
#[utoipa::path(post, path = "/quotes/{id}/price", tag = "quotes",
    params(ContextHeaders, CommandHeaders, ("id" = Uuid, Path, description = "Quote id")),
    responses(
        (status = 200, description = "The priced quote", body = QuoteView, links(
            ("submit" = (operation_id = "submit", parameters(("id" = "$request.path.id")))),
            ("priceTrace" = (operation_id = "price_trace", parameters(("id" = "$request.path.id")))),
            ("overridePrice" = (operation_id = "override_price",
                parameters(("id" = "$request.path.id"), ("item_id" = "$response.body#/items/0/id")))),
        )),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 502, description = "`CATALOG_ERROR`: the catalog answered something CPQ cannot use (retryable)", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 503, description = "`CATALOG_UNAVAILABLE`: the catalog cannot be reached (retryable)", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn price(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(expected): IfMatch,
) -> Result<CommandResponse, ApiError> {
    let fingerprint = CommandFingerprint::new("cpq.PriceQuote", &id.to_string(), "");
    let id = QuoteId::from_uuid(id);
    let plan = price_quote::plan(&state.db, &state.ports, &ctx, id, expected);
    let (ports, command_ctx) = (state.ports.clone(), ctx.clone());
    run_quote_command(
        &state,
        &ctx,
        fingerprint,
        plan,
        move |mut tx, book| async move {
            let result =
                price_quote::execute(&mut tx, &ports, &command_ctx, id, expected, book).await;
            (tx, result)
        },
    )
    .await
}

/// Overrides one charge of one item by hand (the actor comes from the request context) and
/// re-prices; the approval service weighs the override when the quote is submitted.
#[utoipa::path(post, path = "/quotes/{id}/items/{item_id}/price-override", tag = "quotes",
    params(ContextHeaders, CommandHeaders, ("id" = Uuid, Path, description = "Quote id"),
        ("item_id" = String, Path, description = "Item id")),
    request_body = PriceOverrideRequest,
    responses(
        (status = 200, description = "The re-priced quote", body = QuoteView, links(
            ("submit" = (operation_id = "submit", parameters(("id" = "$request.path.id")))),
        )),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 502, description = "`CATALOG_ERROR`: the catalog answered something CPQ cannot use (retryable)", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 503, description = "`CATALOG_UNAVAILABLE`: the catalog cannot be reached (retryable)", body = ProblemDetails, content_type = "application/problem+json"),
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
    let id = QuoteId::from_uuid(id);
    let plan = override_price::plan(
        &state.db,
        &state.ports,
        &ctx,
        id,
        expected,
        body.body.into(),
    );
    let (ports, command_ctx) = (state.ports.clone(), ctx.clone());
    run_quote_command(
        &state,
        &ctx,
        fingerprint,
        plan,
        move |mut tx, plan| async move {
            let item = ItemId::new(item);
            let result =
                override_price::execute(&mut tx, &ports, &command_ctx, id, item, expected, plan)
                    .await;
            (tx, result)
        },
    )
    .await
}

/// Submits a priced quote for approval: the quote is SUBMITTED and its event carries the
/// policy input; the approval service decides, and its outcome moves the quote to
/// APPROVAL_PENDING, APPROVED (price frozen, approved hash recorded) or REJECTED shortly after
/// (never in this answer).
#[utoipa::path(post, path = "/quotes/{id}/submit", tag = "quotes",
    params(ContextHeaders, CommandHeaders, ("id" = Uuid, Path, description = "Quote id")),
    responses(
        (status = 200, description = "SUBMITTED, waiting for the approval service", body = QuoteView, links(
            ("accept" = (operation_id = "accept", parameters(("id" = "$request.path.id")))),
            ("revise" = (operation_id = "revise", parameters(("id" = "$request.path.id")))),
        )),
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
    let id = QuoteId::from_uuid(id);
    let (ports, command_ctx) = (state.ports.clone(), ctx.clone());
    run_quote_command(
        &state,
        &ctx,
        fingerprint,
        async { Ok(()) },
        move |mut tx, ()| async move {
            let result = submit_quote::execute(&mut tx, &ports, &command_ctx, id, expected).await;
            (tx, result)
        },
    )
    .await
}

/// Opens revision n+1 in DRAFT; any approval in force is superseded.
#[utoipa::path(post, path = "/quotes/{id}/revise", tag = "quotes",
    params(ContextHeaders, CommandHeaders, ("id" = Uuid, Path, description = "Quote id")),
    request_body(content = Option<ReasonRequest>, description = "Optional reason"),
    responses(
        (status = 200, description = "Revision n+1 in DRAFT", body = QuoteView, links(
            ("replaceItems" = (operation_id = "replace_items", parameters(("id" = "$request.path.id")))),
            ("price" = (operation_id = "price", parameters(("id" = "$request.path.id")))),
        )),
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
    let id = QuoteId::from_uuid(id);
    let reason = body.body.unwrap_or_default().reason;
    let (ports, command_ctx) = (state.ports.clone(), ctx.clone());
    run_quote_command(
        &state,
        &ctx,
        fingerprint,
        async { Ok(()) },
        move |mut tx, ()| async move {
            let result =
                revise_quote::execute(&mut tx, &ports, &command_ctx, id, reason, expected).await;
            (tx, result)
        },
    )
    .await
}

/// Records the customer's acceptance of a quote APPROVED for its current revision (before
/// validity ends, price frozen and equal to the approved one).
#[utoipa::path(post, path = "/quotes/{id}/accept", tag = "quotes",
    params(ContextHeaders, CommandHeaders, ("id" = Uuid, Path, description = "Quote id")),
    request_body(content = Option<AcceptRequest>, description = "Optional channel and reference"),
    responses(
        (status = 200, description = "ACCEPTED", body = QuoteView, links(
            ("convert" = (operation_id = "convert", parameters(("id" = "$request.path.id")))),
        )),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "`ILLEGAL_TRANSITION`: not APPROVED for its current revision (still SUBMITTED or APPROVAL_PENDING, REJECTED, revised, or ended); \
`QUOTE_EXPIRED`: validity ended; `PRICE_NOT_FROZEN`: the price is not frozen; `PRICE_HASH_MISMATCH`: the price differs from the one approved. \
`errors[]` lists every failed condition", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn accept(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
    IfMatch(expected): IfMatch,
    body: OptionalJson<AcceptRequest>,
) -> Result<CommandResponse, ApiError> {
    let fingerprint = CommandFingerprint::new("cpq.AcceptQuote", &id.to_string(), &body.digest);
    let id = QuoteId::from_uuid(id);
    let input = body.body.unwrap_or_default().into();
    let (ports, command_ctx) = (state.ports.clone(), ctx.clone());
    run_quote_command(
        &state,
        &ctx,
        fingerprint,
        async { Ok(()) },
        move |mut tx, ()| async move {
            let result =
                accept_quote::execute(&mut tx, &ports, &command_ctx, id, input, expected).await;
            (tx, result)
        },
    )
    .await
}

/// Cancels a quote that is not yet accepted.
#[utoipa::path(post, path = "/quotes/{id}/cancel", tag = "quotes",
    params(ContextHeaders, CommandHeaders, ("id" = Uuid, Path, description = "Quote id")),
    request_body(content = Option<ReasonRequest>, description = "Optional reason"),
    responses(
        (status = 200, description = "CANCELLED", body = QuoteView, links(
            ("getQuote" = (operation_id = "get", parameters(("id" = "$request.path.id")))),
        )),
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
    let id = QuoteId::from_uuid(id);
    let reason = body.body.unwrap_or_default().reason;
    let (ports, command_ctx) = (state.ports.clone(), ctx.clone());
    run_quote_command(
        &state,
        &ctx,
        fingerprint,
        async { Ok(()) },
        move |mut tx, ()| async move {
            let result =
                cancel_quote::execute(&mut tx, &ports, &command_ctx, id, reason, expected).await;
            (tx, result)
        },
    )
    .await
}

/// Converts an ACCEPTED quote into an order exactly once; every repeat answers with the same
/// conversion (same order id).
#[utoipa::path(post, path = "/quotes/{id}/convert-to-order", tag = "quotes",
    params(ContextHeaders, IdempotencyHeaders, ("id" = Uuid, Path, description = "Quote id")),
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
    let id = QuoteId::from_uuid(id);
    let (ports, command_ctx) = (state.ports.clone(), ctx.clone());
    state
        .runner
        .run(&ctx, fingerprint, move |mut tx| async move {
            let result = convert_quote::execute(&mut tx, &ports, &command_ctx, id).await;
            let response = result
                .map_err(ApiError::from)
                .and_then(|view: ConversionView| Ok(CommandResponse::ok(to_json(&view)?)));
            (tx, response)
        })
        .await
}
