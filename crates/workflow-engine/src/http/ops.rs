//! `/v1/ops`: the operator's view of process instances and incidents, and incident resolution
//! (the same command as the gateway's ResolveIncident).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use common_kernel::access::Action;
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, ProblemDetails};
use common_kernel::http::extract::{ApiPath, ApiQuery};
use common_kernel::pagination::{Page, PageRequest};

use super::error::Body;
use super::ops_dto::{
    IncidentListQuery, IncidentView, InstanceListQuery, ProcessInstanceDetailView,
    ProcessInstanceView, ResolveIncidentRequest,
};
use crate::Engine;
use crate::app::IncidentFilter;

/// Lists process instances, newest first.
#[utoipa::path(get, path = "/v1/ops/process-instances", tag = "operations",
    params(InstanceListQuery),
    responses(
        (status = 200, body = Page<ProcessInstanceView>, headers(("X-Total-Count" = i64, description = "Matching instances"))),
        (status = 400, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn list_instances(
    State(engine): State<Engine>,
    ctx: RequestContext,
    ApiQuery(query): ApiQuery<InstanceListQuery>,
) -> Result<Page<ProcessInstanceView>, ApiError> {
    ctx.authorize(Action::ViewWorkflow)?;
    let page = PageRequest::new(query.limit, query.offset)?;
    let (rows, total) = engine
        .list_instances(
            query.state.map(|s| s.as_str()),
            query.bpmn_process_id.as_deref(),
            page.limit,
            page.offset,
        )
        .await?;
    Ok(Page::new(
        rows.into_iter().map(Into::into).collect(),
        page,
        total,
    ))
}

/// One process instance with its waiting elements (job, user task, timers, subscriptions,
/// incidents), variables and incidents.
#[utoipa::path(get, path = "/v1/ops/process-instances/{processInstanceKey}", tag = "operations",
    params(("processInstanceKey" = String, Path, description = "Process instance key")),
    responses(
        (status = 200, body = ProcessInstanceDetailView),
        (status = 400, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn get_instance(
    State(engine): State<Engine>,
    ctx: RequestContext,
    ApiPath(key): ApiPath<i64>,
) -> Result<Json<ProcessInstanceDetailView>, ApiError> {
    ctx.authorize(Action::ViewWorkflow)?;
    Ok(Json(engine.instance_detail(key).await?.into()))
}

/// Lists incidents, oldest first.
#[utoipa::path(get, path = "/v1/ops/incidents", tag = "operations",
    params(IncidentListQuery),
    responses(
        (status = 200, body = Page<IncidentView>, headers(("X-Total-Count" = i64, description = "Matching incidents"))),
        (status = 400, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn list_incidents(
    State(engine): State<Engine>,
    ctx: RequestContext,
    ApiQuery(query): ApiQuery<IncidentListQuery>,
) -> Result<Page<IncidentView>, ApiError> {
    ctx.authorize(Action::ViewWorkflow)?;
    let page = PageRequest::new(query.limit, query.offset)?;
    let filter = IncidentFilter {
        state: query.state.map(|s| s.as_str().to_owned()),
        process_instance_key: query.process_instance_key.map(|k| k.get()),
        bpmn_process_id: query.bpmn_process_id,
        error_type: query.error_type,
    };
    let (rows, total) = engine
        .list_incidents(&filter, page.limit, page.offset)
        .await?;
    Ok(Page::new(
        rows.into_iter().map(Into::into).collect(),
        page,
        total,
    ))
}

/// Resolves an incident, optionally setting its job's retries first.
#[utoipa::path(post, path = "/v1/ops/incidents/{incidentKey}/resolve", tag = "operations",
    params(("incidentKey" = String, Path, description = "Incident key")),
    request_body(content = Option<ResolveIncidentRequest>, description = "Optional; `retries` for job incidents"),
    responses(
        (status = 204, description = "Resolved: the job is activatable again, or the element re-ran"),
        (status = 400, body = ProblemDetails, content_type = "application/problem+json", description = "INVALID_ARGUMENT: retries < 1, or retries for an incident without a job"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json", description = "NOT_FOUND: no active incident with this key"),
    ))]
pub async fn resolve_incident(
    State(engine): State<Engine>,
    ctx: RequestContext,
    ApiPath(key): ApiPath<i64>,
    Body(request): Body<ResolveIncidentRequest>,
) -> Result<StatusCode, ApiError> {
    ctx.authorize(Action::OperateWorkflow)?;
    engine.resolve_incident_with(key, request.retries).await?;
    Ok(StatusCode::NO_CONTENT)
}
