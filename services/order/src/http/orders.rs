//! The order endpoints: direct capture (idempotent, key mandatory), one order, the order list,
//! the stored plan.

use axum::extract::State;
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, FieldError, ProblemDetails};
use common_kernel::http::extract::{ApiPath, ApiQuery, ValidJson};
use common_kernel::idempotency::{CommandFingerprint, CommandResponse};
use domain_kernel::access::Action;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::IntoParams;
use uuid::Uuid;

use super::dto::{
    CreateOrderRequest, ItemActionDto, OrderPage, OrderView, PlanView, order_view, task_view,
};
use super::error::idempotency_key_required;
use super::{AppState, ContextHeaders, IdempotencyHeaders, page_limit};
use crate::app::AppError;
use crate::app::capture::{self, DirectItem, DirectOrder};
use crate::app::views::{self, OrderFilter};
use crate::domain::{
    CustomerId, ItemAction, OrderId, OrderStatus, ProductInstanceId, ProductOfferingId, QuoteId,
};

fn action(a: ItemActionDto) -> ItemAction {
    match a {
        ItemActionDto::Add => ItemAction::Add,
        ItemActionDto::Modify => ItemAction::Modify,
        ItemActionDto::Delete => ItemAction::Delete,
        ItemActionDto::NoChange => ItemAction::NoChange,
    }
}

fn direct_order(body: CreateOrderRequest) -> Result<DirectOrder, ApiError> {
    let mut errors = Vec::new();
    let customer = CustomerId::parse(&body.customer_id).map_err(|e| {
        errors.push(FieldError::new("/customerId", "INVALID", e.to_string()));
    });
    if body.currency.len() != 3 || !body.currency.bytes().all(|b| b.is_ascii_uppercase()) {
        errors.push(FieldError::new(
            "/currency",
            "INVALID",
            "an ISO 4217 code such as USD",
        ));
    }
    if body.items.is_empty() || body.items.len() > 100 {
        errors.push(FieldError::new("/items", "OUT_OF_RANGE", "1 to 100 items"));
    }
    let mut refs = std::collections::HashSet::new();
    for (i, item) in body.items.iter().enumerate() {
        if item.line_ref.trim().is_empty() || item.line_ref.len() > 64 {
            errors.push(FieldError::new(
                format!("/items/{i}/lineRef"),
                "INVALID",
                "1 to 64 characters",
            ));
        }
        if !refs.insert(item.line_ref.clone()) {
            errors.push(FieldError::new(
                format!("/items/{i}/lineRef"),
                "DUPLICATE",
                "unique in the order",
            ));
        }
        if item.quantity == 0 || item.quantity > 1000 {
            errors.push(FieldError::new(
                format!("/items/{i}/quantity"),
                "OUT_OF_RANGE",
                "1 to 1000",
            ));
        }
        if item.offering_version == 0 {
            errors.push(FieldError::new(
                format!("/items/{i}/offeringVersion"),
                "OUT_OF_RANGE",
                "at least 1",
            ));
        }
        let needs_instance = matches!(item.action, ItemActionDto::Modify | ItemActionDto::Delete);
        if needs_instance && item.product_instance_id.is_none() {
            errors.push(FieldError::new(
                format!("/items/{i}/productInstanceId"),
                "REQUIRED",
                "MODIFY and DELETE name the ACTIVE product instance they change",
            ));
        }
    }
    if body.capture_evidence.is_empty() {
        errors.push(FieldError::new(
            "/captureEvidence",
            "REQUIRED",
            "what the order rests on (a signed form, a channel reference)",
        ));
    }
    let Ok(customer) = customer else {
        return Err(ApiError::validation(errors));
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(DirectOrder {
        customer,
        currency: body.currency,
        evidence: Value::Object(body.capture_evidence.into_iter().collect::<Map<_, _>>()),
        items: body
            .items
            .into_iter()
            .map(|i| DirectItem {
                line_ref: i.line_ref,
                action: action(i.action),
                offering_id: ProductOfferingId::from_uuid(i.offering_id),
                offering_version: i.offering_version,
                quantity: i.quantity,
                characteristics: i.characteristics.into_iter().collect(),
                parent_ref: i.parent_ref,
                product_instance: i.product_instance_id.map(ProductInstanceId::from_uuid),
                recurring_charge: i.recurring_charge,
                one_time_charge: i.one_time_charge,
                mandatory: i.mandatory,
            })
            .collect(),
    })
}

/// Captures an order directly (not from a quote): ADD new products, MODIFY or DELETE ACTIVE
/// product instances of the customer. The Idempotency-Key is mandatory; a DELETE of a parent
/// adds DELETE items for its ACTIVE add-ons. The order is ACKNOWLEDGED and fulfilment starts.
#[utoipa::path(post, path = "/orders", tag = "orders",
    params(ContextHeaders, IdempotencyHeaders), request_body = CreateOrderRequest,
    responses(
        (status = 201, description = "ACKNOWLEDGED; fulfilment starts", body = OrderView, links(
            ("getOrder" = (operation_id = "get", parameters(("id" = "$response.body#/id")))),
            ("getPlan" = (operation_id = "plan", parameters(("id" = "$response.body#/id")))),
        )),
        (status = 400, description = "`IDEMPOTENCY_KEY_REQUIRED`: no Idempotency-Key header", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "`PRODUCT_INSTANCE_NOT_FOUND`: a MODIFY or DELETE names no instance of this tenant", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "`ASSET_OPERATION_IN_PROGRESS`: another order's MODIFY or DELETE of the instance is in flight", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "`PRODUCT_INSTANCE_NOT_CHANGEABLE`: the instance is not ACTIVE or not the customer's; or invalid items", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    ctx: RequestContext,
    body: ValidJson<CreateOrderRequest>,
) -> Result<CommandResponse, ApiError> {
    ctx.authorize(Action::CreateOrder).map_err(AppError::from)?;
    if ctx.idempotency_key.is_none() {
        return Err(idempotency_key_required());
    }
    let fingerprint = CommandFingerprint::new("order.CaptureDirectOrder", "", &body.digest);
    let request = direct_order(body.body)?;
    let command_ctx = ctx.clone();
    state
        .runner
        .run(&ctx, fingerprint, move |mut tx| async move {
            let result = capture::capture_direct(&mut tx, &command_ctx, request).await;
            let response = match result {
                Ok(order) => {
                    let notified = crate::infra::events_consumer::notify_captured(&mut tx).await;
                    match (notified, serde_json::to_value(order_view(&order, None))) {
                        (Ok(()), Ok(body)) => Ok(CommandResponse::created(
                            body,
                            format!("/orders/{}", order.id),
                        )),
                        (Err(e), _) => Err(ApiError::from(e)),
                        (_, Err(e)) => Err(ApiError::internal(e)),
                    }
                }
                Err(error) => Err(ApiError::from(error)),
            };
            (tx, response)
        })
        .await
}

/// One order: items, states, tasks, the quote reference and snapshot hash, fallout.
#[utoipa::path(get, path = "/orders/{id}", tag = "orders",
    params(ContextHeaders, ("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, body = OrderView),
        (status = 404, description = "`ORDER_NOT_FOUND`", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn get(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<axum::Json<OrderView>, ApiError> {
    let mut conn = state.conn(&ctx).await?;
    let detail = views::order(&mut conn, &ctx, OrderId::from_uuid(id)).await?;
    Ok(axum::Json(order_view(&detail.order, Some(&detail))))
}

/// The stored plan: the tasks in topological order with their dependencies, and its revisions
/// (compensations and redos are tasks of later revisions; nothing planned is rewritten).
#[utoipa::path(get, path = "/orders/{id}/plan", tag = "orders",
    params(ContextHeaders, ("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, body = PlanView),
        (status = 404, description = "`ORDER_NOT_FOUND`", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn plan(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<axum::Json<PlanView>, ApiError> {
    let mut conn = state.conn(&ctx).await?;
    let detail = views::order(&mut conn, &ctx, OrderId::from_uuid(id)).await?;
    let revisions = crate::infra::plan_history::revisions(&mut conn, detail.order.id)
        .await
        .map_err(AppError::from)?;
    Ok(axum::Json(PlanView {
        order_id: id,
        plan_hash: detail.order.plan_hash.clone(),
        tasks: detail.order.tasks.iter().map(task_view).collect(),
        plan_revision: detail.order.plan_revision,
        revisions,
    }))
}

/// Filters of the order list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    /// Orders captured from this quote.
    pub quote_id: Option<Uuid>,
    /// Orders of this customer.
    pub customer_id: Option<String>,
    /// Orders in this status.
    pub status: Option<String>,
    /// The next page: orders created before this one.
    pub before: Option<Uuid>,
    /// Page size, 1 to 500 (100).
    pub limit: Option<i64>,
}

/// Orders, newest first, by quote, customer and status.
#[utoipa::path(get, path = "/orders", tag = "orders",
    params(ContextHeaders, OrderQuery),
    responses(
        (status = 200, body = OrderPage),
        (status = 422, description = "`VALIDATION_FAILED`: unknown status, invalid customerId, limit out of 1..=500", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiQuery(query): ApiQuery<OrderQuery>,
) -> Result<axum::Json<OrderPage>, ApiError> {
    let mut errors = Vec::new();
    let limit = page_limit(query.limit, &mut errors);
    let status = query.status.as_deref().and_then(|s| {
        let parsed = OrderStatus::parse(s);
        if parsed.is_none() {
            errors.push(FieldError::new(
                "/status",
                "INVALID",
                "an order status such as IN_PROGRESS",
            ));
        }
        parsed
    });
    let customer = query.customer_id.as_deref().and_then(|c| {
        CustomerId::parse(c)
            .map_err(|e| errors.push(FieldError::new("/customerId", "INVALID", e.to_string())))
            .ok()
    });
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let filter = OrderFilter {
        quote: query.quote_id.map(QuoteId::from_uuid),
        customer,
        status,
        before: query.before.map(OrderId::from_uuid),
        limit,
    };
    let mut conn = state.conn(&ctx).await?;
    let orders = views::list(&mut conn, &ctx, &filter).await?;
    let next_before = (orders.len() as i64 == limit)
        .then(|| orders.last().map(|o| o.id.as_uuid()))
        .flatten();
    Ok(axum::Json(OrderPage {
        orders: orders.iter().map(|o| order_view(o, None)).collect(),
        next_before,
    }))
}
