//! In-flight amendments over HTTP: new characteristics for items of a running order, previewed
//! first; the answer names every item's outcome (unchanged, redone, or refused and why).

use axum::extract::State;
use chrono::{DateTime, Utc};
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, ProblemDetails};
use common_kernel::http::extract::{ApiPath, ValidJson};
use common_kernel::idempotency::{CommandFingerprint, CommandResponse};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::idempotency_key_required;
use super::{AppState, ContextHeaders, IdempotencyHeaders};
use crate::app::amendments;
use crate::domain::{AmendmentImpact, ItemAmendment, OrderId, OrderItemId};
use crate::infra::amendments::{Amendment, AmendmentId};

/// One item as it should be.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AmendedItemRequest {
    /// The item.
    pub order_item_id: Uuid,
    /// Its characteristics, whole (not a patch).
    #[schema(value_type = Object)]
    pub characteristics: Map<String, Value>,
}

/// An amendment.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AmendOrderRequest {
    /// The items as they should be (items not named are untouched).
    pub items: Vec<AmendedItemRequest>,
    /// Why (required).
    pub reason: String,
}

/// An amendment preview request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AmendmentPreviewRequest {
    /// The items as they should be.
    pub items: Vec<AmendedItemRequest>,
}

/// What an amendment does (or did), per item and task.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AmendmentImpactView {
    /// The order's status when assessed.
    pub order_status: String,
    /// Per item: UNCHANGED, REDONE, or REFUSED with the reason (PAST_POINT_OF_NO_RETURN,
    /// IRREVERSIBLE_EFFECT, TASK_IN_FLIGHT, ITEM_COMPLETED, ITEM_NOT_AMENDABLE,
    /// ITEM_HAS_DEPENDENTS).
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Value>,
    /// Per task: KEEP, REDO, COMPENSATE_THEN_REDO (with the operation) or REFUSED.
    #[schema(value_type = Vec<Object>)]
    pub tasks: Vec<Value>,
}

impl AmendmentImpactView {
    fn from_value(value: &Value) -> Self {
        let (order_status, items, tasks) = super::impact_parts(value);
        Self {
            order_status,
            items,
            tasks,
        }
    }

    fn of(impact: &AmendmentImpact) -> Result<Self, ApiError> {
        Ok(Self::from_value(
            &serde_json::to_value(impact).map_err(ApiError::internal)?,
        ))
    }
}

/// An amendment resource.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AmendmentView {
    /// The resource.
    pub amendment_id: Uuid,
    /// The order.
    pub order_id: Uuid,
    /// Its number within the order, from 1.
    pub version: i32,
    /// PENDING (redone items running), DONE, or REFUSED (every change refused).
    pub state: String,
    /// Why.
    pub reason: String,
    /// Who asked.
    pub requested_by: String,
    /// The assessment applied.
    pub impact: AmendmentImpactView,
    /// Asked at.
    pub created_at: DateTime<Utc>,
    /// Done at.
    pub completed_at: Option<DateTime<Utc>>,
}

impl AmendmentView {
    fn of(a: &Amendment) -> Self {
        Self {
            amendment_id: a.id.as_uuid(),
            order_id: a.order.as_uuid(),
            version: a.version,
            state: a.state.clone(),
            reason: a.reason.clone(),
            requested_by: a.requested_by.clone(),
            impact: AmendmentImpactView::from_value(&a.impact),
            created_at: a.created_at,
            completed_at: a.completed_at,
        }
    }
}

fn desired(items: Vec<AmendedItemRequest>) -> Vec<ItemAmendment> {
    items
        .into_iter()
        .map(|i| ItemAmendment {
            item: OrderItemId::from_uuid(i.order_item_id),
            characteristics: i.characteristics,
        })
        .collect()
}

/// Amends the order in flight: each named item is diffed; unchanged items keep running;
/// changed items whose work can be undone are compensated and redone with the new values;
/// changed items that cannot be (past the point of no return, irreversible, running, completed)
/// are refused for that item alone. One amendment in flight per order. The Idempotency-Key is
/// mandatory.
#[utoipa::path(post, path = "/orders/{id}/amendments", tag = "orders",
    params(ContextHeaders, IdempotencyHeaders, ("id" = Uuid, Path, description = "Order id")),
    request_body = AmendOrderRequest,
    responses(
        (status = 201, description = "PENDING (items are being redone), DONE or REFUSED", body = AmendmentView),
        (status = 400, description = "`IDEMPOTENCY_KEY_REQUIRED`", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "`ORDER_NOT_FOUND`", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "`AMENDMENT_IN_PROGRESS`, `ORDER_NOT_AMENDABLE`, `ORDER_ALREADY_COMPLETED`", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED` (reason required), `AMENDMENT_INVALID`, `ITEM_NOT_IN_ORDER`", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn amend(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
    body: ValidJson<AmendOrderRequest>,
) -> Result<CommandResponse, ApiError> {
    if ctx.idempotency_key.is_none() {
        return Err(idempotency_key_required());
    }
    let fingerprint = CommandFingerprint::new("order.AmendOrder", &id.to_string(), &body.digest);
    let reason = body.body.reason;
    let wanted = desired(body.body.items);
    let command_ctx = ctx.clone();
    state
        .runner
        .run(&ctx, fingerprint, move |mut tx| async move {
            let result = amendments::amend(
                &mut tx,
                &command_ctx,
                OrderId::from_uuid(id),
                &wanted,
                &reason,
            )
            .await
            .map_err(ApiError::from)
            .and_then(|a| {
                super::created(
                    &AmendmentView::of(&a),
                    format!("/orders/{id}/amendments/{}", a.id),
                )
            });
            (tx, result)
        })
        .await
}

/// What the amendment would do, per item and task; changes nothing. The amendment applies
/// exactly this assessment.
#[utoipa::path(post, path = "/orders/{id}/amendments/preview", tag = "orders",
    params(ContextHeaders, ("id" = Uuid, Path, description = "Order id")),
    request_body = AmendmentPreviewRequest,
    responses(
        (status = 200, body = AmendmentImpactView),
        (status = 404, description = "`ORDER_NOT_FOUND`", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "`ORDER_NOT_AMENDABLE`, `ORDER_ALREADY_COMPLETED`", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "`AMENDMENT_INVALID`, `ITEM_NOT_IN_ORDER`", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn preview(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
    body: ValidJson<AmendmentPreviewRequest>,
) -> Result<axum::Json<AmendmentImpactView>, ApiError> {
    let mut conn = state.conn(&ctx).await?;
    let wanted = desired(body.body.items);
    let impact = amendments::preview(&mut conn, &ctx, OrderId::from_uuid(id), &wanted).await?;
    Ok(axum::Json(AmendmentImpactView::of(&impact)?))
}

/// One amendment of the order.
#[utoipa::path(get, path = "/orders/{id}/amendments/{amendmentId}", tag = "orders",
    params(ContextHeaders, ("id" = Uuid, Path, description = "Order id"),
        ("amendmentId" = Uuid, Path, description = "Amendment id")),
    responses(
        (status = 200, body = AmendmentView),
        (status = 404, description = "`AMENDMENT_NOT_FOUND`", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn get(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath((id, amendment)): ApiPath<(Uuid, Uuid)>,
) -> Result<axum::Json<AmendmentView>, ApiError> {
    let mut conn = state.conn(&ctx).await?;
    let found = amendments::amendment(
        &mut conn,
        &ctx,
        OrderId::from_uuid(id),
        AmendmentId::from_uuid(amendment),
    )
    .await?;
    Ok(axum::Json(AmendmentView::of(&found)))
}
