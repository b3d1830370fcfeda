//! Request and response bodies of the user-task API, shaped like Camunda 8's REST API v2
//! (`/v2/user-tasks`), so a task list written against Camunda works against this engine.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use utoipa::ToSchema;

use super::key::Key;
use crate::store::user_tasks::UserTaskRow;

/// Lifecycle state of a user task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserTaskState {
    /// Open: waiting to be completed.
    Created,
    /// A completion is held by the task's `completing` listeners; it completes, or opens
    /// again when one denies it. Assignment and completion are refused meanwhile.
    Completing,
    /// Completed through the API; the process went on.
    Completed,
    /// Its element was terminated (boundary event, instance canceled).
    Canceled,
}

impl UserTaskState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::Completing => "COMPLETING",
            Self::Completed => "COMPLETED",
            Self::Canceled => "CANCELED",
        }
    }

    fn parse(stored: &str) -> Self {
        match stored {
            "COMPLETING" => Self::Completing,
            "COMPLETED" => Self::Completed,
            "CANCELED" => Self::Canceled,
            _ => Self::Created,
        }
    }
}

/// `POST /v2/user-tasks/search` body; every part optional.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserTaskSearchRequest {
    /// Conditions that must all hold.
    pub filter: Option<UserTaskFilterRequest>,
    /// Which page.
    pub page: Option<SearchPageRequest>,
    /// Order (default: creation date ascending); the task key breaks ties.
    pub sort: Option<Vec<SortRequest>>,
}

/// Search conditions. Unknown fields are refused rather than ignored, so a client never
/// believes it filtered on something this engine does not support.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserTaskFilterRequest {
    /// Lifecycle state.
    pub state: Option<UserTaskState>,
    /// Exact assignee.
    pub assignee: Option<String>,
    /// A group among the task's candidate groups.
    pub candidate_group: Option<String>,
    /// A user among the task's candidate users.
    pub candidate_user: Option<String>,
    /// Process instance key.
    pub process_instance_key: Option<Key>,
    /// Process definition key.
    pub process_definition_key: Option<Key>,
    /// BPMN process id.
    pub bpmn_process_id: Option<String>,
    /// BPMN process id under Camunda 8.7+'s name.
    pub process_definition_id: Option<String>,
    /// BPMN element id of the task.
    pub element_id: Option<String>,
    /// Element instance key.
    pub element_instance_key: Option<Key>,
    /// The task key.
    pub user_task_key: Option<Key>,
}

/// Page of a search.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchPageRequest {
    /// Items to skip (default 0).
    pub from: Option<i64>,
    /// Items to return, 1–1000 (default 100).
    pub limit: Option<i64>,
}

/// Sortable fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum SortField {
    /// Creation date.
    CreationDate,
    /// Completion date.
    CompletionDate,
    /// Due date.
    DueDate,
    /// Follow-up date.
    FollowUpDate,
    /// Priority.
    Priority,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum SortOrder {
    /// Ascending (default).
    #[default]
    Asc,
    /// Descending.
    Desc,
}

/// One sort key.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SortRequest {
    /// Field.
    pub field: SortField,
    /// Direction (default ASC).
    pub order: Option<SortOrder>,
}

/// A user task as task lists see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserTaskView {
    /// Key, for assignment and completion.
    pub user_task_key: Key,
    /// The task's name in the model (its element id when it has none).
    pub name: String,
    /// Lifecycle state.
    pub state: UserTaskState,
    /// Current assignee.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Candidate groups.
    pub candidate_groups: Vec<String>,
    /// Candidate users.
    pub candidate_users: Vec<String>,
    /// Due date (ISO-8601).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// Follow-up date (ISO-8601).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_up_date: Option<String>,
    /// Created at (ISO-8601).
    pub creation_date: String,
    /// Completed or canceled at (ISO-8601).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_date: Option<String>,
    /// Process instance key.
    pub process_instance_key: Key,
    /// Process definition key.
    pub process_definition_key: Key,
    /// Process definition version.
    pub process_definition_version: i32,
    /// BPMN process id.
    pub bpmn_process_id: String,
    /// BPMN process id under Camunda 8.7+'s name.
    pub process_definition_id: String,
    /// BPMN element id.
    pub element_id: String,
    /// Element instance key.
    pub element_instance_key: Key,
    /// 0–100.
    pub priority: i32,
    /// Form reference from the model (`zeebe:formDefinition`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_form_reference: Option<String>,
    /// Always `<default>` (no multi-tenancy in the embedded engine).
    pub tenant_id: String,
    /// Task headers (none for Camunda user tasks in this engine).
    #[schema(value_type = Object)]
    pub custom_headers: Map<String, Json>,
}

/// An instant as the API writes it: RFC 3339, UTC, milliseconds.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl From<UserTaskRow> for UserTaskView {
    fn from(row: UserTaskRow) -> Self {
        Self {
            user_task_key: Key::new(row.user_task_key),
            name: row.name.unwrap_or_else(|| row.element_id.clone()),
            state: UserTaskState::parse(&row.state),
            assignee: row.assignee,
            candidate_groups: row.candidate_groups,
            candidate_users: row.candidate_users,
            due_date: row.due_date.map(timestamp),
            follow_up_date: row.follow_up_date.map(timestamp),
            creation_date: timestamp(row.creation_date),
            completion_date: row.completion_date.map(timestamp),
            process_instance_key: Key::new(row.process_instance_key),
            process_definition_key: Key::new(row.process_definition_key),
            process_definition_version: row.process_definition_version,
            process_definition_id: row.bpmn_process_id.clone(),
            bpmn_process_id: row.bpmn_process_id,
            element_id: row.element_id,
            element_instance_key: Key::new(row.element_instance_key),
            priority: row.priority,
            external_form_reference: row.external_form_reference,
            tenant_id: "<default>".to_owned(),
            custom_headers: Map::new(),
        }
    }
}

/// Search result page metadata.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchPageInfo {
    /// Matches in total, across pages.
    pub total_items: i64,
}

/// `POST /v2/user-tasks/search` result.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserTaskSearchResponse {
    /// The page of matching tasks.
    pub items: Vec<UserTaskView>,
    /// Totals.
    pub page: SearchPageInfo,
}

/// `POST /v2/user-tasks/{userTaskKey}/assignment` body.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssignmentRequest {
    /// The new assignee (required, not blank).
    pub assignee: Option<String>,
    /// Whether a task assigned to someone else may be reassigned (default true).
    pub allow_override: Option<bool>,
    /// Custom action name (accepted for compatibility, not recorded).
    pub action: Option<String>,
}

/// `POST /v2/user-tasks/{userTaskKey}/completion` body (optional).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompletionRequest {
    /// Variables the task completes with (output mappings apply, then propagation); the
    /// task's `completing` listeners see them over the process variables.
    #[schema(value_type = Option<Object>)]
    pub variables: Option<Map<String, Json>>,
    /// Custom action name, handed to `completing` listeners in the `io.camunda.zeebe:action`
    /// header (default `complete`).
    pub action: Option<String>,
}
