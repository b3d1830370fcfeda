//! `/v2/user-tasks`: the subset of Camunda 8's REST API v2 a task list needs — search, get,
//! assign, unassign, complete.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use common_kernel::access::Action;
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, ProblemDetails};
use common_kernel::http::extract::ApiPath;

use super::error::{Body, invalid};
use super::user_task_dto::{
    AssignmentRequest, CompletionRequest, SortField, SortOrder, UserTaskSearchRequest,
    UserTaskSearchResponse, UserTaskView,
};
use crate::Engine;
use crate::app::{SearchPage, SortColumn, UserTaskFilter};

/// Default page size (Camunda's).
const DEFAULT_LIMIT: i64 = 100;
/// Largest page.
const MAX_LIMIT: i64 = 1000;

fn filter_of(request: &UserTaskSearchRequest) -> Result<UserTaskFilter, ApiError> {
    let Some(f) = request.filter.clone() else {
        return Ok(UserTaskFilter::default());
    };
    let process_id = match (f.bpmn_process_id, f.process_definition_id) {
        (Some(a), Some(b)) if a != b => {
            return Err(invalid(
                "filter.bpmnProcessId and filter.processDefinitionId name the same field; they differ",
            ));
        }
        (a, b) => a.or(b),
    };
    Ok(UserTaskFilter {
        state: f.state.map(|s| s.as_str().to_owned()),
        assignee: f.assignee,
        candidate_group: f.candidate_group,
        candidate_user: f.candidate_user,
        process_instance_key: f.process_instance_key.map(|k| k.get()),
        process_definition_key: f.process_definition_key.map(|k| k.get()),
        bpmn_process_id: process_id,
        element_id: f.element_id,
        element_instance_key: f.element_instance_key.map(|k| k.get()),
        user_task_key: f.user_task_key.map(|k| k.get()),
    })
}

fn page_of(request: &UserTaskSearchRequest) -> Result<SearchPage, ApiError> {
    let page = request.page.unwrap_or_default();
    let limit = page.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(invalid(format!(
            "page.limit must be between 1 and {MAX_LIMIT}, but was {limit}"
        )));
    }
    let offset = page.from.unwrap_or(0);
    if offset < 0 {
        return Err(invalid(format!(
            "page.from must not be negative, but was {offset}"
        )));
    }
    let mut sort: Vec<(SortColumn, bool)> = request
        .sort
        .iter()
        .flatten()
        .map(|s| {
            let column = match s.field {
                SortField::CreationDate => SortColumn::CreationDate,
                SortField::CompletionDate => SortColumn::CompletionDate,
                SortField::DueDate => SortColumn::DueDate,
                SortField::FollowUpDate => SortColumn::FollowUpDate,
                SortField::Priority => SortColumn::Priority,
            };
            (column, s.order.unwrap_or_default() == SortOrder::Desc)
        })
        .collect();
    if sort.is_empty() {
        sort.push((SortColumn::CreationDate, false));
    }
    Ok(SearchPage {
        sort,
        offset,
        limit,
    })
}

/// Searches user tasks.
#[utoipa::path(post, path = "/v2/user-tasks/search", tag = "user-tasks",
    request_body(content = Option<UserTaskSearchRequest>, description = "Filter, page and sort; an empty body lists the first 100 tasks"),
    responses(
        (status = 200, body = UserTaskSearchResponse),
        (status = 400, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn search(
    State(engine): State<Engine>,
    ctx: RequestContext,
    Body(request): Body<UserTaskSearchRequest>,
) -> Result<Json<UserTaskSearchResponse>, ApiError> {
    ctx.authorize(Action::WorkUserTasks)?;
    let filter = filter_of(&request)?;
    let page = page_of(&request)?;
    let (rows, total) = engine.search_user_tasks(&filter, &page).await?;
    Ok(Json(UserTaskSearchResponse {
        items: rows.into_iter().map(UserTaskView::from).collect(),
        page: super::user_task_dto::SearchPageInfo { total_items: total },
    }))
}

/// Gets one user task.
#[utoipa::path(get, path = "/v2/user-tasks/{userTaskKey}", tag = "user-tasks",
    params(("userTaskKey" = String, Path, description = "User task key")),
    responses(
        (status = 200, body = UserTaskView),
        (status = 400, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn get(
    State(engine): State<Engine>,
    ctx: RequestContext,
    ApiPath(key): ApiPath<i64>,
) -> Result<Json<UserTaskView>, ApiError> {
    ctx.authorize(Action::WorkUserTasks)?;
    Ok(Json(engine.user_task(key).await?.into()))
}

/// Assigns an open user task.
#[utoipa::path(post, path = "/v2/user-tasks/{userTaskKey}/assignment", tag = "user-tasks",
    params(("userTaskKey" = String, Path, description = "User task key")),
    request_body = AssignmentRequest,
    responses(
        (status = 204, description = "Assigned"),
        (status = 400, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json", description = "INVALID_STATE: the task is not open, or assigned to someone else without allowOverride"),
    ))]
pub async fn assign(
    State(engine): State<Engine>,
    ctx: RequestContext,
    ApiPath(key): ApiPath<i64>,
    Body(request): Body<AssignmentRequest>,
) -> Result<StatusCode, ApiError> {
    ctx.authorize(Action::WorkUserTasks)?;
    let assignee = request
        .assignee
        .filter(|a| !a.trim().is_empty())
        .ok_or_else(|| invalid("assignee is required and must not be blank"))?;
    engine
        .assign_user_task(key, Some(&assignee), request.allow_override.unwrap_or(true))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes the assignee of an open user task.
#[utoipa::path(delete, path = "/v2/user-tasks/{userTaskKey}/assignee", tag = "user-tasks",
    params(("userTaskKey" = String, Path, description = "User task key")),
    responses(
        (status = 204, description = "Unassigned"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn unassign(
    State(engine): State<Engine>,
    ctx: RequestContext,
    ApiPath(key): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    ctx.authorize(Action::WorkUserTasks)?;
    engine.assign_user_task(key, None, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Completes an open user task; the process instance continues with the variables.
///
/// A task with `completing` task listeners is COMPLETING while their jobs run, one after another; the
/// request waits for their decision (at most the engine's listener wait, 25 s by default).
#[utoipa::path(post, path = "/v2/user-tasks/{userTaskKey}/completion", tag = "user-tasks",
    params(("userTaskKey" = String, Path, description = "User task key")),
    request_body(content = Option<CompletionRequest>, description = "Variables; the body may be empty"),
    responses(
        (status = 204, description = "Completed (every completing listener allowed it); the instance moved on"),
        (status = 400, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json", description = "INVALID_STATE: the task is completing, completed or canceled (also when it was canceled while its listeners ran). COMPLETION_DENIED: a completing task listener denied the completion; the task is CREATED again (assignee kept), the variables were not applied, and the detail carries the listener's reason (this engine reads it from a `deniedReason` string variable of the denied listener job)"),
        (status = 504, body = ProblemDetails, content_type = "application/problem+json", description = "COMPLETION_PENDING: the listeners did not decide in time; the task stays COMPLETING and completes, or opens again, when they do. Read the task rather than completing it again"),
    ))]
pub async fn complete(
    State(engine): State<Engine>,
    ctx: RequestContext,
    ApiPath(key): ApiPath<i64>,
    Body(request): Body<CompletionRequest>,
) -> Result<StatusCode, ApiError> {
    ctx.authorize(Action::WorkUserTasks)?;
    engine
        .complete_user_task(
            key,
            &request.variables.unwrap_or_default(),
            request.action.as_deref(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
