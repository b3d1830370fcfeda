//! `GET /approval-tasks`: the portal approver's inbox — the engine's open user tasks of the
//! `quote-approval` process, each joined to the approval request (and level) it decides.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, FieldError, ProblemDetails, codes};
use common_kernel::http::extract::ApiQuery;
use domain_kernel::ActorId;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::AppState;
use super::dto::{ContextHeaders, InboxQueryParams, LevelName};
use crate::app::user_tasks::{self, InboxItem, InboxQuery};
use crate::domain::{GroupId, QuoteId};

/// One task of the inbox.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalTaskView {
    /// The engine's task key (a decimal string, as Camunda writes keys): claim and complete it
    /// through `/v2/user-tasks/{userTaskKey}`, or decide here.
    #[schema(example = "2251799813685260")]
    pub user_task_key: String,
    /// The engine's process instance.
    pub process_instance_key: String,
    /// The BPMN element of the task.
    pub element_id: String,
    /// The approval request the task decides.
    pub approval_request_id: Uuid,
    /// Its quote.
    pub quote_id: Uuid,
    /// The quote revision.
    pub revision: i32,
    /// The price hash a decision must name.
    pub price_hash: String,
    /// The request's open level (the one to decide).
    pub level: LevelName,
    /// Who may claim the task.
    pub candidate_groups: Vec<String>,
    /// Who holds it, when claimed.
    pub assignee: Option<String>,
    /// When it is due.
    pub due_date: Option<DateTime<Utc>>,
    /// When the engine created it.
    pub creation_date: DateTime<Utc>,
}

impl From<InboxItem> for ApprovalTaskView {
    fn from(item: InboxItem) -> Self {
        Self {
            user_task_key: item.task.user_task_key.to_string(),
            process_instance_key: item.task.process_instance_key.to_string(),
            element_id: item.task.element_id,
            approval_request_id: item.open.request_id.as_uuid(),
            quote_id: item.open.quote.quote_id.as_uuid(),
            revision: item.open.quote.revision.get(),
            price_hash: item.open.quote.price_hash.to_string(),
            level: item.open.level.into(),
            candidate_groups: item.task.candidate_groups,
            assignee: item.task.assignee,
            due_date: item.task.due_date,
            creation_date: item.task.creation_date,
        }
    }
}

/// `GET /approval-tasks` answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApprovalTaskList {
    /// Open tasks, soonest due first.
    pub items: Vec<ApprovalTaskView>,
}

fn bad_query(field: &str, message: String) -> ApiError {
    ApiError::bad_request(codes::INVALID_QUERY, format!("{field}: {message}")).with_errors(vec![
        FieldError::new(format!("query:{field}"), "INVALID", message),
    ])
}

/// The approver's inbox: open approval tasks of the caller's tenant. With neither
/// `candidateGroup` nor `assignee`, the caller's own work: tasks of the groups the approver
/// directory puts them in, and tasks assigned to them.
#[utoipa::path(get, path = "/approval-tasks", tag = "approval-tasks",
    params(ContextHeaders, InboxQueryParams),
    responses(
        (status = 200, body = ApprovalTaskList),
        (status = 502, description = "`TASK_ENGINE_ERROR`: the workflow engine refused or garbled the search (retryable)", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 503, description = "`TASK_ENGINE_UNAVAILABLE`: the workflow engine did not answer (retryable)", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn inbox(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiQuery(params): ApiQuery<InboxQueryParams>,
) -> Result<Json<ApprovalTaskList>, ApiError> {
    let candidate_group = params
        .candidate_group
        .as_deref()
        .map(GroupId::parse)
        .transpose()
        .map_err(|e| bad_query("candidateGroup", e.to_string()))?;
    let assignee = params
        .assignee
        .as_deref()
        .map(ActorId::parse)
        .transpose()
        .map_err(|e| bad_query("assignee", e.to_string()))?;
    let query = InboxQuery {
        candidate_group,
        assignee,
        quote: params.quote_id.map(QuoteId::from_uuid),
    };
    let items =
        user_tasks::inbox(&state.db, &state.ports, state.tasks.as_ref(), &ctx, query).await?;
    Ok(Json(ApprovalTaskList {
        items: items.into_iter().map(ApprovalTaskView::from).collect(),
    }))
}
