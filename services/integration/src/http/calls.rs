//! `GET /external-calls`: the call log, filtered by order, system and outcome, oldest first,
//! one keyset page at a time.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, ProblemDetails};
use common_kernel::http::extract::ApiQuery;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::views::{ExternalCallPage, ExternalCallView};
use super::{AppState, ContextHeaders, optional, page_limit};
use crate::app::queries;
use crate::domain::key::OrderId;
use crate::domain::{Classification, ExternalSystem};
use crate::infra::call_log::CallFilter;

/// The filters of the call log.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CallsQuery {
    /// Only this order's calls.
    pub order_id: Option<Uuid>,
    /// Only this system's: `INVENTORY`, `PROVISIONING`, `BILLING`, `CRM`, `CONTRACT`, `NOTIFICATION`.
    pub system: Option<String>,
    /// Only attempts of this class: `SUCCEEDED`, `REJECTED_BUSINESS`, `FAILED_TECHNICAL`, `OUTCOME_UNKNOWN`.
    pub outcome: Option<String>,
    /// Only the calls of this idempotency key.
    pub idempotency_key: Option<String>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 500 (default 100).
    pub limit: Option<i64>,
}

fn cursor_of(view: &ExternalCallView) -> String {
    format!(
        "{}_{}",
        view.started_at.timestamp_micros(),
        view.external_call_id
    )
}

fn parse_cursor(raw: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (micros, id) = raw.split_once('_')?;
    let at = DateTime::<Utc>::from_timestamp_micros(micros.parse().ok()?)?;
    Some((at, Uuid::parse_str(id).ok()?))
}

fn filter_of(query: CallsQuery) -> Result<CallFilter, ApiError> {
    let mut errors = Vec::new();
    let system = optional(
        query.system.as_deref(),
        ExternalSystem::parse,
        "/system",
        "not a known system",
        &mut errors,
    );
    let outcome = optional(
        query.outcome.as_deref(),
        Classification::parse,
        "/outcome",
        "one of SUCCEEDED, REJECTED_BUSINESS, FAILED_TECHNICAL, OUTCOME_UNKNOWN",
        &mut errors,
    );
    let after = optional(
        query.cursor.as_deref(),
        parse_cursor,
        "/cursor",
        "not a cursor of this API",
        &mut errors,
    );
    let limit = page_limit(query.limit, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(CallFilter {
        order_id: query.order_id.map(OrderId::from_uuid),
        system,
        outcome,
        idempotency_key: query.idempotency_key,
        after,
        limit,
    })
}

/// The external call log: every attempt (with its class) and every status query (with its
/// finding), request and response hashes and capped bodies, latency and correlation fields.
#[utoipa::path(get, path = "/external-calls", tag = "external-calls",
    params(ContextHeaders, CallsQuery),
    responses(
        (status = 200, body = ExternalCallPage),
        (status = 422, description = "`VALIDATION_FAILED`: an unknown system or outcome, a bad cursor or limit", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiQuery(query): ApiQuery<CallsQuery>,
) -> Result<Json<ExternalCallPage>, ApiError> {
    let filter = filter_of(query)?;
    let mut conn = state.conn(&ctx).await?;
    let calls = queries::calls(&mut conn, &ctx, &filter).await?;
    let full = i64::try_from(calls.len()).unwrap_or(i64::MAX) == filter.limit;
    let items: Vec<ExternalCallView> = calls.into_iter().map(ExternalCallView::from).collect();
    let next_cursor = if full {
        items.last().map(cursor_of)
    } else {
        None
    };
    Ok(Json(ExternalCallPage { items, next_cursor }))
}
