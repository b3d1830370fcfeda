//! The fallout workbench over HTTP: the queue (filtered, paged), its grouped counts, one
//! record, one action on a record, and a bulk action over a filter or a list (Idempotency-Key
//! mandatory; each record in its own savepoint, so one refusal never undoes the others).

use axum::extract::State;
use chrono::{DateTime, Utc};
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, FieldError, ProblemDetails};
use common_kernel::http::extract::{ApiPath, ApiQuery, ValidJson};
use common_kernel::idempotency::{CommandFingerprint, CommandResponse};
use domain_kernel::access::Action;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::error::idempotency_key_required;
use super::fallout_dto::{
    ActionKind, ActionRequest, ActionResult, BulkActionRequest, BulkActionResult, BulkFilter,
    BulkItemResult, FalloutPage, FalloutRecordView, FalloutSummary,
};
use super::{AppState, ContextHeaders, IdempotencyHeaders, page_limit};
use crate::app::AppError;
use crate::app::workbench::{self, ActionInput, WorkbenchAction};
use crate::domain::{FalloutCategory, FalloutId, FalloutStatus, OrderId};
use crate::infra::fallout::{self, FalloutFilter};

/// The queue's filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct FalloutQuery {
    /// OPEN, ASSIGNED, RETRY_SCHEDULED, WAITING_EXTERNAL, MANUAL_ACTION_REQUIRED, RESOLVED, CLOSED.
    pub status: Option<String>,
    /// EXTERNAL_REJECTION, RETRIES_EXHAUSTED, COMPENSATION, CANCELLATION, …
    pub category: Option<String>,
    /// The owning team.
    pub owner_team: Option<String>,
    /// One order's.
    pub order_id: Option<Uuid>,
    /// Raised before this instant (RFC 3339): the old ones.
    pub older_than: Option<DateTime<Utc>>,
    /// The `next` of the previous page.
    pub after: Option<String>,
    /// Page size, 1 to 500 (100).
    pub limit: Option<i64>,
}

fn filter_of(
    status: Option<&str>,
    category: Option<&str>,
    owner_team: Option<String>,
    order: Option<Uuid>,
    older_than: Option<DateTime<Utc>>,
    errors: &mut Vec<FieldError>,
) -> FalloutFilter {
    let status = status.and_then(|s| {
        let parsed = FalloutStatus::parse(s);
        if parsed.is_none() {
            errors.push(FieldError::new(
                "/status",
                "INVALID",
                "a fallout status such as OPEN",
            ));
        }
        parsed
    });
    let category = category.and_then(|c| {
        let parsed = FalloutCategory::parse(c);
        if parsed.is_none() {
            errors.push(FieldError::new(
                "/category",
                "INVALID",
                "a fallout category such as EXTERNAL_REJECTION",
            ));
        }
        parsed
    });
    FalloutFilter {
        status,
        category,
        owner_team,
        order: order.map(OrderId::from_uuid),
        older_than,
        ids: None,
    }
}

fn cursor(after: Option<&str>, errors: &mut Vec<FieldError>) -> Option<(DateTime<Utc>, FalloutId)> {
    let after = after?;
    let parsed = after.split_once('_').and_then(|(at, id)| {
        Some((
            DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc),
            FalloutId::from_uuid(Uuid::parse_str(id).ok()?),
        ))
    });
    if parsed.is_none() {
        errors.push(FieldError::new(
            "/after",
            "INVALID",
            "the `next` of a previous page",
        ));
    }
    parsed
}

/// The fallout queue, oldest first: by status, category, team, order and age.
#[utoipa::path(get, path = "/fallouts", tag = "fallout",
    params(ContextHeaders, FalloutQuery),
    responses(
        (status = 200, body = FalloutPage),
        (status = 422, description = "`VALIDATION_FAILED`: unknown status or category, bad cursor, limit out of 1..=500", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiQuery(query): ApiQuery<FalloutQuery>,
) -> Result<axum::Json<FalloutPage>, ApiError> {
    ctx.authorize(Action::ViewOrder).map_err(AppError::from)?;
    let mut errors = Vec::new();
    let limit = page_limit(query.limit, &mut errors);
    let after = cursor(query.after.as_deref(), &mut errors);
    let filter = filter_of(
        query.status.as_deref(),
        query.category.as_deref(),
        query.owner_team,
        query.order_id,
        query.older_than,
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut conn = state.conn(&ctx).await?;
    let records = fallout::list(&mut conn, &filter, after, limit).await?;
    let next = (records.len() as i64 == limit)
        .then(|| {
            records
                .last()
                .map(|r| format!("{}_{}", r.created_at.to_rfc3339(), r.id))
        })
        .flatten();
    Ok(axum::Json(FalloutPage {
        items: records.iter().map(FalloutRecordView::from).collect(),
        next,
    }))
}

/// The queue's counts, grouped by status, category, team and severity, with the oldest.
#[utoipa::path(get, path = "/fallouts/summary", tag = "fallout",
    params(ContextHeaders, FalloutQuery),
    responses(
        (status = 200, body = FalloutSummary),
        (status = 422, description = "`VALIDATION_FAILED`: unknown status or category", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn summary(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiQuery(query): ApiQuery<FalloutQuery>,
) -> Result<axum::Json<FalloutSummary>, ApiError> {
    ctx.authorize(Action::ViewOrder).map_err(AppError::from)?;
    let mut errors = Vec::new();
    let filter = filter_of(
        query.status.as_deref(),
        query.category.as_deref(),
        query.owner_team,
        query.order_id,
        query.older_than,
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut conn = state.conn(&ctx).await?;
    let groups = fallout::summary(&mut conn, &filter).await?;
    Ok(axum::Json(FalloutSummary {
        total: groups.iter().map(|g| g.count).sum(),
        groups,
    }))
}

/// One fallout record.
#[utoipa::path(get, path = "/fallouts/{id}", tag = "fallout",
    params(ContextHeaders, ("id" = Uuid, Path, description = "Fallout id")),
    responses(
        (status = 200, body = FalloutRecordView),
        (status = 404, description = "`FALLOUT_NOT_FOUND`", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn get(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<axum::Json<FalloutRecordView>, ApiError> {
    ctx.authorize(Action::ViewOrder).map_err(AppError::from)?;
    let mut conn = state.conn(&ctx).await?;
    let id = FalloutId::from_uuid(id);
    let record = fallout::load(&mut conn, id, false)
        .await?
        .ok_or(AppError::FalloutNotFound(id))?;
    Ok(axum::Json(FalloutRecordView::from(&record)))
}

fn input_of(request: ActionRequest) -> ActionInput {
    ActionInput {
        action: match request.action {
            ActionKind::Assign => WorkbenchAction::Assign,
            ActionKind::Retry => WorkbenchAction::Retry,
            ActionKind::RetryWithCorrection => WorkbenchAction::RetryWithCorrection,
            ActionKind::Skip => WorkbenchAction::Skip,
            ActionKind::ForceComplete => WorkbenchAction::ForceComplete,
            ActionKind::FailItem => WorkbenchAction::FailItem,
            ActionKind::AbortOrder => WorkbenchAction::AbortOrder,
            ActionKind::Close => WorkbenchAction::Close,
            ActionKind::AwaitExternal => WorkbenchAction::AwaitExternal,
        },
        reason: request.reason,
        evidence: request.evidence,
        assignee: request.assignee,
        owner_team: request.owner_team,
        corrected: request.corrected_characteristics,
        external_reference: request.external_reference,
    }
}

/// One action on one record (see the workbench's table): assign, retry, retry with corrected
/// data, skip, force-complete (privileged), fail the item, abort the order, close. Every action
/// needs a reason and evidence; a repeat answers `changed: false`.
#[utoipa::path(post, path = "/fallouts/{id}/actions", tag = "fallout",
    params(ContextHeaders, ("id" = Uuid, Path, description = "Fallout id")),
    request_body = ActionRequest,
    responses(
        (status = 200, body = ActionResult),
        (status = 404, description = "`FALLOUT_NOT_FOUND`, `TASK_NOT_IN_ORDER`", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "`RETRY_NOT_ALLOWED` (not retryable: correct the data, skip or cancel), `ILLEGAL_TRANSITION`, `TASK_NOT_FAILED`, `TASK_CANCELLED`, `ITEM_NOT_FAILED`, `ITEM_MANDATORY`, `ITEM_HAS_DEPENDENTS`, `ORDER_HAS_EFFECTS`, `TASK_IN_FLIGHT`, `FAILURE_NOT_RETRYABLE`, `DEPENDENCY_NOT_SUCCEEDED`", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED` (reason and evidence are required), `ACTION_NOT_APPLICABLE`, `CORRECTION_EMPTY`", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn act(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
    body: ValidJson<ActionRequest>,
) -> Result<CommandResponse, ApiError> {
    let fingerprint = CommandFingerprint::new("order.FalloutAction", &id.to_string(), &body.digest);
    let input = input_of(body.body);
    let command_ctx = ctx.clone();
    state
        .runner
        .run(&ctx, fingerprint, move |mut tx| async move {
            let result = workbench::act(&mut tx, &command_ctx, FalloutId::from_uuid(id), &input)
                .await
                .map_err(ApiError::from)
                .and_then(|outcome| {
                    serde_json::to_value(ActionResult {
                        fallout: FalloutRecordView::from(&outcome.fallout),
                        order_status: outcome.order_status.as_str().to_owned(),
                        changed: outcome.changed,
                    })
                    .map(CommandResponse::ok)
                    .map_err(ApiError::internal)
                });
            (tx, result)
        })
        .await
}

/// The most records one bulk action takes.
const BULK_LIMIT: i64 = 1000;

/// One action over many records (a filter or a list, at most 1,000): a per-record result.
/// The Idempotency-Key is mandatory: the same request with the same key replays the answer,
/// and every action is idempotent, so repeating the request changes nothing.
#[utoipa::path(post, path = "/fallouts/bulk-actions", tag = "fallout",
    params(ContextHeaders, IdempotencyHeaders),
    request_body = BulkActionRequest,
    responses(
        (status = 200, body = BulkActionResult),
        (status = 400, description = "`IDEMPOTENCY_KEY_REQUIRED`", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`: neither or both of falloutIds and filter; reason or evidence missing; RETRY_WITH_CORRECTION and FORCE_COMPLETE are one record at a time", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn bulk(
    State(state): State<AppState>,
    ctx: RequestContext,
    body: ValidJson<BulkActionRequest>,
) -> Result<CommandResponse, ApiError> {
    ctx.authorize(Action::RepairFallout)
        .map_err(AppError::from)?;
    if ctx.idempotency_key.is_none() {
        return Err(idempotency_key_required());
    }
    let fingerprint = CommandFingerprint::new("order.FalloutBulkAction", "", &body.digest);
    let request = body.body;
    let mut errors = Vec::new();
    match (&request.fallout_ids, &request.filter) {
        (Some(ids), None) if !ids.is_empty() && ids.len() as i64 <= BULK_LIMIT => {}
        (None, Some(_)) => {}
        _ => errors.push(FieldError::new(
            "/falloutIds",
            "INVALID",
            "give either falloutIds (1 to 1000) or filter",
        )),
    }
    if matches!(
        request.action.action,
        ActionKind::RetryWithCorrection | ActionKind::ForceComplete
    ) {
        errors.push(FieldError::new(
            "/action",
            "NOT_IN_BULK",
            "corrections and force-completes are one record at a time",
        ));
    }
    let filter = request.filter.as_ref().map(|f: &BulkFilter| {
        filter_of(
            f.status.as_deref(),
            f.category.as_deref(),
            f.owner_team.clone(),
            f.order_id,
            f.older_than,
            &mut errors,
        )
    });
    let input = input_of(request.action);
    errors.extend(workbench::check_input(&input));
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let ids = request.fallout_ids;
    let command_ctx = ctx.clone();
    state
        .runner
        .run(&ctx, fingerprint, move |mut tx| async move {
            let result = run_bulk(&mut tx, &command_ctx, ids, filter, &input).await;
            let response = result.and_then(|r| {
                serde_json::to_value(r)
                    .map(CommandResponse::ok)
                    .map_err(ApiError::internal)
            });
            (tx, response)
        })
        .await
}

async fn run_bulk(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    ctx: &RequestContext,
    ids: Option<Vec<Uuid>>,
    filter: Option<FalloutFilter>,
    input: &ActionInput,
) -> Result<BulkActionResult, ApiError> {
    let ids: Vec<FalloutId> = match (ids, filter) {
        (Some(ids), _) => ids.into_iter().map(FalloutId::from_uuid).collect(),
        (None, Some(filter)) => fallout::list(&mut *tx, &filter, None, BULK_LIMIT)
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect(),
        (None, None) => Vec::new(),
    };
    let mut results = Vec::with_capacity(ids.len());
    for id in ids {
        let mut savepoint = sqlx::Connection::begin(&mut **tx).await?;
        let outcome = workbench::act(&mut savepoint, ctx, id, input).await;
        let result = match outcome {
            Ok(done) => {
                savepoint.commit().await?;
                BulkItemResult {
                    fallout_id: id.as_uuid(),
                    outcome: if done.changed { "APPLIED" } else { "UNCHANGED" }.into(),
                    code: None,
                    detail: None,
                }
            }
            Err(error) => {
                savepoint.rollback().await?;
                if error.is_transient() {
                    return Err(error.into());
                }
                BulkItemResult {
                    fallout_id: id.as_uuid(),
                    outcome: "REFUSED".into(),
                    code: Some(error.code().to_owned()),
                    detail: Some(error.to_string()),
                }
            }
        };
        results.push(result);
    }
    let count = |o: &str| results.iter().filter(|r| r.outcome == o).count();
    Ok(BulkActionResult {
        applied: count("APPLIED"),
        unchanged: count("UNCHANGED"),
        refused: count("REFUSED"),
        results,
    })
}
