//! Commands on an order in flight over HTTP: cancellation (TMF622 CancelProductOrder, with a
//! dry-run preview), hold and resume, and the retry of one failed task (Idempotency-Key
//! mandatory: a mandatory idempotency point of the spec).

use axum::extract::State;
use chrono::{DateTime, Utc};
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, FieldError, ProblemDetails};
use common_kernel::http::extract::{ApiPath, ValidJson};
use common_kernel::idempotency::{CommandFingerprint, CommandResponse};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::dto::order_view;
use super::error::idempotency_key_required;
use super::{AppState, ContextHeaders, IdempotencyHeaders};
use crate::app::interventions::{self, CancellationRequest};
use crate::domain::{CancellationImpact, FulfilmentTaskId, OrderId, OrderItemId};
use crate::infra::cancellations::{Cancellation, CancellationId};

/// A cancellation request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelOrderRequest {
    /// The items to cancel; absent: the whole order. Add-ons of a named parent and items
    /// waiting on a named one come along.
    #[serde(default)]
    pub order_item_ids: Option<Vec<Uuid>>,
    /// Why (required).
    pub reason: String,
}

/// A preview request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancellationPreviewRequest {
    /// The items; absent: the whole order.
    #[serde(default)]
    pub order_item_ids: Option<Vec<Uuid>>,
}

/// What a cancellation does (or did), per item and task.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancellationImpactView {
    /// Every item is in scope: the order itself is cancelled.
    pub whole_order: bool,
    /// The order's status when assessed.
    pub order_status: String,
    /// Per item: CANCELLED, COMPENSATED, MANUAL_HANDLING or ALREADY_SETTLED.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Value>,
    /// Per task: STOP, AWAIT_IN_FLIGHT, COMPENSATE (with the operation), MANUAL_HANDLING (with
    /// the reason: IRREVERSIBLE or PAST_POINT_OF_NO_RETURN) or NOTHING.
    #[schema(value_type = Vec<Object>)]
    pub tasks: Vec<Value>,
}

impl CancellationImpactView {
    fn of(impact: &CancellationImpact) -> Result<Self, ApiError> {
        let value = serde_json::to_value(impact).map_err(ApiError::internal)?;
        Self::from_value(&value)
    }

    fn from_value(value: &Value) -> Result<Self, ApiError> {
        let (order_status, items, tasks) = super::impact_parts(value);
        Ok(Self {
            whole_order: value
                .get("wholeOrder")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            order_status,
            items,
            tasks,
        })
    }
}

/// A cancellation resource.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancellationView {
    /// The resource.
    pub cancellation_id: Uuid,
    /// The order.
    pub order_id: Uuid,
    /// The items asked for (empty: the whole order).
    pub order_item_ids: Vec<Uuid>,
    /// Whether the whole order is cancelled.
    pub whole_order: bool,
    /// Why.
    pub reason: String,
    /// Who asked.
    pub requested_by: String,
    /// PENDING until every compensation and manual undo is done, then DONE; FAILED when the
    /// order ended otherwise (the assessment happens under the order's lock, so ASSESSING is
    /// never seen from outside).
    pub state: String,
    /// The assessment the command applied.
    pub impact: CancellationImpactView,
    /// Asked at.
    pub created_at: DateTime<Utc>,
    /// Settled at.
    pub completed_at: Option<DateTime<Utc>>,
}

impl CancellationView {
    fn of(c: &Cancellation) -> Result<Self, ApiError> {
        Ok(Self {
            cancellation_id: c.id.as_uuid(),
            order_id: c.order.as_uuid(),
            order_item_ids: c.scope.iter().map(|i| i.as_uuid()).collect(),
            whole_order: c.whole_order,
            reason: c.reason.clone(),
            requested_by: c.requested_by.clone(),
            state: c.state.clone(),
            impact: CancellationImpactView::from_value(&c.impact)?,
            created_at: c.created_at,
            completed_at: c.completed_at,
        })
    }
}

/// Why an operator holds, resumes or retries.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InterventionRequest {
    /// Why (required).
    pub reason: String,
    /// What it rests on (a ticket, a downstream check).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub evidence: Map<String, Value>,
}

fn scope(ids: Option<Vec<Uuid>>) -> Option<Vec<OrderItemId>> {
    ids.map(|ids| ids.into_iter().map(OrderItemId::from_uuid).collect())
}

/// Cancels the order, or some items (TMF622 CancelProductOrder), by how far it went: what did
/// not start stops, running calls are awaited, succeeded reversible effects are compensated in
/// reverse dependency order, irreversible or past-the-point-of-no-return effects go to manual
/// handling (fallout MANUAL_ACTION_REQUIRED). A completed order is refused: place a DELETE
/// order. The Idempotency-Key is mandatory.
#[utoipa::path(post, path = "/orders/{id}/cancellations", tag = "orders",
    params(ContextHeaders, IdempotencyHeaders, ("id" = Uuid, Path, description = "Order id")),
    request_body = CancelOrderRequest,
    responses(
        (status = 201, description = "PENDING (work remains) or DONE", body = CancellationView),
        (status = 400, description = "`IDEMPOTENCY_KEY_REQUIRED`", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "`ORDER_NOT_FOUND`", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "`ORDER_ALREADY_COMPLETED` (place a DELETE order instead), `ORDER_NOT_CANCELLABLE`, `CANCELLATION_IN_PROGRESS`, `ITEM_CANCELLATION_IN_PROGRESS`, `NOTHING_TO_CANCEL`", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED` (reason required), `ITEM_NOT_IN_ORDER`", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn cancel(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
    body: ValidJson<CancelOrderRequest>,
) -> Result<CommandResponse, ApiError> {
    if ctx.idempotency_key.is_none() {
        return Err(idempotency_key_required());
    }
    let fingerprint =
        CommandFingerprint::new("order.CancelProductOrder", &id.to_string(), &body.digest);
    let request = CancellationRequest {
        scope: scope(body.body.order_item_ids),
        reason: body.body.reason,
    };
    let command_ctx = ctx.clone();
    state
        .runner
        .run(&ctx, fingerprint, move |mut tx| async move {
            let result =
                interventions::cancel(&mut tx, &command_ctx, OrderId::from_uuid(id), &request)
                    .await
                    .map_err(ApiError::from)
                    .and_then(|c| {
                        super::created(
                            &CancellationView::of(&c)?,
                            format!("/orders/{id}/cancellations/{}", c.id),
                        )
                    });
            (tx, result)
        })
        .await
}

/// What cancelling the order (or the items) would do, per item and task; changes nothing. The
/// cancellation command applies exactly this assessment.
#[utoipa::path(post, path = "/orders/{id}/cancellations/preview", tag = "orders",
    params(ContextHeaders, ("id" = Uuid, Path, description = "Order id")),
    request_body = CancellationPreviewRequest,
    responses(
        (status = 200, body = CancellationImpactView),
        (status = 404, description = "`ORDER_NOT_FOUND`", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "`ORDER_ALREADY_COMPLETED`, `ORDER_NOT_CANCELLABLE`, `CANCELLATION_IN_PROGRESS`, `ITEM_CANCELLATION_IN_PROGRESS`, `NOTHING_TO_CANCEL`", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "`ITEM_NOT_IN_ORDER`", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn preview(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
    body: ValidJson<CancellationPreviewRequest>,
) -> Result<axum::Json<CancellationImpactView>, ApiError> {
    let mut conn = state.conn(&ctx).await?;
    let scope = scope(body.body.order_item_ids);
    let impact = interventions::preview_cancellation(
        &mut conn,
        &ctx,
        OrderId::from_uuid(id),
        scope.as_deref(),
    )
    .await?;
    Ok(axum::Json(CancellationImpactView::of(&impact)?))
}

/// One cancellation of the order.
#[utoipa::path(get, path = "/orders/{id}/cancellations/{cancellationId}", tag = "orders",
    params(ContextHeaders, ("id" = Uuid, Path, description = "Order id"),
        ("cancellationId" = Uuid, Path, description = "Cancellation id")),
    responses(
        (status = 200, body = CancellationView),
        (status = 404, description = "`CANCELLATION_NOT_FOUND`", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn get_cancellation(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath((id, cancellation)): ApiPath<(Uuid, Uuid)>,
) -> Result<axum::Json<CancellationView>, ApiError> {
    let mut conn = state.conn(&ctx).await?;
    let found = interventions::cancellation(
        &mut conn,
        &ctx,
        OrderId::from_uuid(id),
        CancellationId::from_uuid(cancellation),
    )
    .await?;
    Ok(axum::Json(CancellationView::of(&found)?))
}

fn reason_required(reason: &str) -> Result<(), ApiError> {
    if reason.trim().is_empty() {
        return Err(ApiError::validation(vec![FieldError::new(
            "/reason",
            "REQUIRED",
            "why, in words",
        )]));
    }
    Ok(())
}

/// A boxed order command, borrowing its connection and context.
type OrderFuture<'c> = std::pin::Pin<
    Box<
        dyn std::future::Future<Output = Result<crate::domain::Order, crate::app::AppError>>
            + Send
            + 'c,
    >,
>;

async fn order_command<F>(
    state: AppState,
    ctx: RequestContext,
    name: &'static str,
    id: Uuid,
    digest: &str,
    command: F,
) -> Result<CommandResponse, ApiError>
where
    F: for<'c> FnOnce(&'c mut sqlx::PgConnection, &'c RequestContext) -> OrderFuture<'c>
        + Send
        + 'static,
{
    let fingerprint = CommandFingerprint::new(name, &id.to_string(), digest);
    let command_ctx = ctx.clone();
    state
        .runner
        .run(&ctx, fingerprint, move |mut tx| async move {
            let result = command(&mut tx, &command_ctx)
                .await
                .map_err(ApiError::from)
                .and_then(|order| {
                    serde_json::to_value(order_view(&order, None))
                        .map(CommandResponse::ok)
                        .map_err(ApiError::internal)
                });
            (tx, result)
        })
        .await
}

/// Holds the order: nothing new is dispatched; running calls finish and are recorded.
#[utoipa::path(post, path = "/orders/{id}/hold", tag = "orders",
    params(ContextHeaders, ("id" = Uuid, Path, description = "Order id")),
    request_body = InterventionRequest,
    responses(
        (status = 200, description = "HELD", body = super::dto::OrderView),
        (status = 404, description = "`ORDER_NOT_FOUND`", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "`ILLEGAL_TRANSITION`: only an order IN_PROGRESS is held", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`: reason required", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn hold(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
    body: ValidJson<InterventionRequest>,
) -> Result<CommandResponse, ApiError> {
    reason_required(&body.body.reason)?;
    let reason = body.body.reason;
    order_command(
        state,
        ctx,
        "order.HoldOrder",
        id,
        &body.digest,
        move |conn, ctx| {
            Box::pin(async move {
                interventions::hold(conn, ctx, OrderId::from_uuid(id), &reason).await
            })
        },
    )
    .await
}

/// Resumes a held order: dispatch goes on.
#[utoipa::path(post, path = "/orders/{id}/resume", tag = "orders",
    params(ContextHeaders, ("id" = Uuid, Path, description = "Order id")),
    request_body = InterventionRequest,
    responses(
        (status = 200, description = "IN_PROGRESS", body = super::dto::OrderView),
        (status = 404, description = "`ORDER_NOT_FOUND`", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "`ILLEGAL_TRANSITION`: only a HELD order resumes", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`: reason required", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn resume(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
    body: ValidJson<InterventionRequest>,
) -> Result<CommandResponse, ApiError> {
    reason_required(&body.body.reason)?;
    let reason = body.body.reason;
    order_command(
        state,
        ctx,
        "order.ReleaseOrder",
        id,
        &body.digest,
        move |conn, ctx| {
            Box::pin(async move {
                interventions::release(conn, ctx, OrderId::from_uuid(id), &reason).await
            })
        },
    )
    .await
}

/// Retries one task whose retries ran out (FAILED_RETRYABLE) under the same idempotency key
/// downstream, so the effect is applied once; a business refusal is not retried
/// (`RETRY_NOT_ALLOWED`: correct the data through the workbench, skip or cancel). The
/// Idempotency-Key is mandatory; a task already retried answers the order as it is.
#[utoipa::path(post, path = "/orders/{id}/tasks/{taskId}/retry", tag = "orders",
    params(ContextHeaders, IdempotencyHeaders, ("id" = Uuid, Path, description = "Order id"),
        ("taskId" = Uuid, Path, description = "Task id")),
    request_body = InterventionRequest,
    responses(
        (status = 200, body = super::dto::OrderView),
        (status = 400, description = "`IDEMPOTENCY_KEY_REQUIRED`", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "`ORDER_NOT_FOUND`, `TASK_NOT_IN_ORDER`", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "`RETRY_NOT_ALLOWED`, `TASK_NOT_FAILED`, `TASK_CANCELLED`", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`: reason required", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn retry_task(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath((id, task)): ApiPath<(Uuid, Uuid)>,
    body: ValidJson<InterventionRequest>,
) -> Result<CommandResponse, ApiError> {
    if ctx.idempotency_key.is_none() {
        return Err(idempotency_key_required());
    }
    reason_required(&body.body.reason)?;
    let reason = body.body.reason;
    let evidence = Value::Object(body.body.evidence);
    let target = format!("{id}/{task}");
    order_command(
        state,
        ctx,
        "order.RetryTask",
        id,
        &format!("{target}:{}", body.digest),
        move |conn, ctx| {
            Box::pin(async move {
                interventions::retry_task(
                    conn,
                    ctx,
                    OrderId::from_uuid(id),
                    FulfilmentTaskId::from_uuid(task),
                    &reason,
                    &evidence,
                )
                .await
            })
        },
    )
    .await
}
