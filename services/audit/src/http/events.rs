//! The dispute queries: `GET /audit-events` (by resource, actor, business transaction or
//! correlation, within a time range, keyset pages in decision order), one event, a resource's
//! timeline with its diffs, and the quarantine.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, FieldError, ProblemDetails};
use common_kernel::http::extract::{ApiPath, ApiQuery};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::views::{
    AuditEventPage, AuditEventView, ChangeView, QuarantineList, QuarantinedView, TimelineStepView,
    TimelineView,
};
use super::{AppState, ContextHeaders, page_limit, timestamp};
use crate::app::queries;
use crate::domain::ResourceType;
use crate::infra::reads::{EntryFilter, StoredEntry};

/// The dispute filters; any combination.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Resource type, any spelling (`QUOTE`, `Quote`, `approval-request`).
    pub resource_type: Option<String>,
    /// Resource id (needs `resourceType`).
    pub resource_id: Option<String>,
    /// Only this actor's decisions.
    pub actor_id: Option<String>,
    /// Only this business transaction's.
    pub business_transaction_id: Option<String>,
    /// Only this request's.
    pub correlation_id: Option<String>,
    /// Decided at or after (RFC 3339).
    pub from: Option<String>,
    /// Decided before (RFC 3339).
    pub to: Option<String>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 500 (default 100).
    pub limit: Option<i64>,
}

fn cursor_of(entry: &StoredEntry) -> String {
    format!(
        "{}_{}",
        entry.occurred_at.timestamp_micros(),
        entry.leaf_index
    )
}

fn parse_cursor(raw: &str) -> Option<(DateTime<Utc>, i64)> {
    let (micros, index) = raw.split_once('_')?;
    let at = DateTime::<Utc>::from_timestamp_micros(micros.parse().ok()?)?;
    Some((at, index.parse().ok().filter(|i: &i64| *i >= 0)?))
}

fn resource_type(raw: &str, errors: &mut Vec<FieldError>, field: &'static str) -> Option<String> {
    let parsed = ResourceType::parse(raw).map(|t| t.to_string());
    if parsed.is_none() {
        errors.push(FieldError::new(
            field,
            "INVALID",
            "not a resource type name",
        ));
    }
    parsed
}

fn text(raw: Option<String>, field: &'static str, errors: &mut Vec<FieldError>) -> Option<String> {
    let value = raw?;
    if value.trim().is_empty() || value.len() > 200 {
        errors.push(FieldError::new(
            field,
            "INVALID",
            "1 to 200 characters, not blank",
        ));
        return None;
    }
    Some(value)
}

/// Reads the shared filter fields; `resource` fixes the resource (the timeline's path).
fn filter_of(
    query: EventsQuery,
    resource: Option<(String, String)>,
) -> Result<EntryFilter, ApiError> {
    let mut errors = Vec::new();
    let (resource_type, resource_id) = match resource {
        Some((kind, id)) => (
            resource_type(&kind, &mut errors, "/resourceType"),
            text(Some(id), "/resourceId", &mut errors),
        ),
        None => (
            query
                .resource_type
                .as_deref()
                .and_then(|raw| resource_type(raw, &mut errors, "/resourceType")),
            text(query.resource_id, "/resourceId", &mut errors),
        ),
    };
    if resource_id.is_some() && resource_type.is_none() && errors.is_empty() {
        errors.push(FieldError::new(
            "/resourceType",
            "REQUIRED",
            "a resourceId needs its resourceType",
        ));
    }
    let filter = EntryFilter {
        resource_type,
        resource_id,
        actor_id: text(query.actor_id, "/actorId", &mut errors),
        business_transaction_id: text(
            query.business_transaction_id,
            "/businessTransactionId",
            &mut errors,
        ),
        correlation_id: text(query.correlation_id, "/correlationId", &mut errors),
        from: timestamp(query.from.as_deref(), "/from", &mut errors),
        to: timestamp(query.to.as_deref(), "/to", &mut errors),
        after: query.cursor.as_deref().and_then(|raw| {
            let parsed = parse_cursor(raw);
            if parsed.is_none() {
                errors.push(FieldError::new(
                    "/cursor",
                    "INVALID",
                    "not a cursor of this API",
                ));
            }
            parsed
        }),
        limit: page_limit(query.limit, &mut errors),
    };
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && from >= to
    {
        errors.push(FieldError::new("/to", "INVALID", "must be after from"));
    }
    if errors.is_empty() {
        Ok(filter)
    } else {
        Err(ApiError::validation(errors))
    }
}

fn next_cursor(entries: &[StoredEntry], limit: i64) -> Option<String> {
    (i64::try_from(entries.len()).unwrap_or(i64::MAX) == limit)
        .then(|| entries.last().map(cursor_of))
        .flatten()
}

/// Audit events in decision order (`occurredAt`, then log position), filtered by resource,
/// actor, business transaction or correlation, within a time range.
#[utoipa::path(get, path = "/audit-events", tag = "audit-events",
    params(ContextHeaders, EventsQuery),
    responses(
        (status = 200, body = AuditEventPage),
        (status = 422, description = "`VALIDATION_FAILED`: a bad resource type, timestamp, cursor or limit, or a resourceId without its type", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<Json<AuditEventPage>, ApiError> {
    let filter = filter_of(query, None)?;
    let mut conn = state.read(&ctx).await?;
    let entries = queries::entries(&mut conn, &ctx, &filter).await?;
    Ok(Json(AuditEventPage {
        next_cursor: next_cursor(&entries, filter.limit),
        items: entries.iter().map(AuditEventView::from).collect(),
    }))
}

/// One audit event.
#[utoipa::path(get, path = "/audit-events/{auditEventId}", tag = "audit-events",
    params(ContextHeaders, ("auditEventId" = Uuid, Path, description = "The audit event's id")),
    responses(
        (status = 200, body = AuditEventView),
        (status = 404, description = "`AUDIT_EVENT_NOT_FOUND`: no such event in the caller's tenant's log", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn get(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<AuditEventView>, ApiError> {
    let mut conn = state.read(&ctx).await?;
    let entry = queries::entry(&mut conn, &ctx, id).await?;
    Ok(Json(AuditEventView::from(&entry)))
}

/// The filters of a timeline page.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// Decided at or after (RFC 3339).
    pub from: Option<String>,
    /// Decided before (RFC 3339).
    pub to: Option<String>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 500 (default 100).
    pub limit: Option<i64>,
}

/// A resource's decisions in order, each with what it changed (`before` → `after`, by JSON
/// pointer). An unknown resource has an empty timeline.
#[utoipa::path(get, path = "/audit/resources/{resourceType}/{resourceId}/timeline", tag = "audit-events",
    params(ContextHeaders, TimelineQuery,
        ("resourceType" = String, Path, description = "Resource type, any spelling (`QUOTE`, `Quote`)"),
        ("resourceId" = String, Path, description = "Resource id")),
    responses(
        (status = 200, body = TimelineView),
        (status = 422, description = "`VALIDATION_FAILED`: a bad resource type, timestamp, cursor or limit", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn timeline(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath((kind, id)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<TimelineQuery>,
) -> Result<Json<TimelineView>, ApiError> {
    let filter = filter_of(
        EventsQuery {
            resource_type: None,
            resource_id: None,
            actor_id: None,
            business_transaction_id: None,
            correlation_id: None,
            from: query.from,
            to: query.to,
            cursor: query.cursor,
            limit: query.limit,
        },
        Some((kind, id)),
    )?;
    let mut conn = state.read(&ctx).await?;
    let steps = queries::timeline(&mut conn, &ctx, &filter).await?;
    let entries: Vec<StoredEntry> = steps.iter().map(|s| s.entry.clone()).collect();
    Ok(Json(TimelineView {
        resource_type: filter.resource_type.clone().unwrap_or_default(),
        resource_id: filter.resource_id.clone().unwrap_or_default(),
        next_cursor: next_cursor(&entries, filter.limit),
        steps: steps
            .into_iter()
            .map(|step| TimelineStepView {
                event: AuditEventView::from(&step.entry),
                changes: step
                    .changes
                    .into_iter()
                    .map(|change| ChangeView {
                        path: change.path,
                        change: change.kind.as_str().to_owned(),
                        before: change.before,
                        after: change.after,
                    })
                    .collect(),
            })
            .collect(),
    }))
}

/// The quarantine's page size.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QuarantineQuery {
    /// At most this many, 1 to 500 (default 100).
    pub limit: Option<i64>,
}

/// Submitted evidence of the caller's tenant that could not become an entry (it failed its
/// schema or the audit shape), kept whole with every reason: never dropped.
#[utoipa::path(get, path = "/audit/quarantine", tag = "audit-events",
    params(ContextHeaders, QuarantineQuery),
    responses(
        (status = 200, body = QuarantineList),
        (status = 422, description = "`VALIDATION_FAILED`: a bad limit", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn quarantine(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiQuery(query): ApiQuery<QuarantineQuery>,
) -> Result<Json<QuarantineList>, ApiError> {
    let mut errors = Vec::new();
    let limit = page_limit(query.limit, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut conn = state.read(&ctx).await?;
    let (items, total) = queries::quarantined(&mut conn, &ctx, limit).await?;
    Ok(Json(QuarantineList {
        total,
        items: items
            .into_iter()
            .map(|q| QuarantinedView {
                quarantine_id: q.quarantine_id,
                event_id: q.event_id,
                topic: q.topic,
                partition: q.partition,
                offset: q.offset,
                reasons: q.reasons,
                envelope: q.envelope,
                quarantined_at: q.quarantined_at,
            })
            .collect(),
    }))
}
