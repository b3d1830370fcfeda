//! Bodies and queries of the operator API (`/v1/ops`): process instances with where they wait,
//! and incidents with their cause, so stuck instances are repaired by command, not SQL.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use utoipa::{IntoParams, ToSchema};

use super::key::Key;
use super::user_task_dto::timestamp;
use crate::app::{ActiveElement, InstanceDetail};
use crate::store::incidents::IncidentRow;
use crate::store::instances::InstanceSummaryRow;

/// Process instance states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InstanceState {
    /// Tokens still move or wait.
    Active,
    /// Every token reached an end.
    Completed,
    /// Canceled by command.
    Canceled,
}

impl InstanceState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Completed => "COMPLETED",
            Self::Canceled => "CANCELED",
        }
    }

    fn parse(stored: &str) -> Self {
        match stored {
            "COMPLETED" => Self::Completed,
            "CANCELED" => Self::Canceled,
            _ => Self::Active,
        }
    }
}

/// Incident states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IncidentState {
    /// Holds its element until resolved.
    Active,
    /// Resolved by an operator, or its element/instance ended.
    Resolved,
}

impl IncidentState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Resolved => "RESOLVED",
        }
    }
}

/// `GET /v1/ops/process-instances` query.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InstanceListQuery {
    /// Only instances in this state.
    pub state: Option<InstanceState>,
    /// Only instances of this process.
    pub bpmn_process_id: Option<String>,
    /// Page size (1–500, default 50).
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    pub offset: Option<i64>,
}

/// `GET /v1/ops/incidents` query.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IncidentListQuery {
    /// Only incidents in this state (all when absent).
    pub state: Option<IncidentState>,
    /// Only incidents of this instance.
    #[param(value_type = Option<String>)]
    pub process_instance_key: Option<Key>,
    /// Only incidents of this process.
    pub bpmn_process_id: Option<String>,
    /// Only this Zeebe error type (JOB_NO_RETRIES, CONDITION_ERROR, ...).
    pub error_type: Option<String>,
    /// Page size (1–500, default 50).
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    pub offset: Option<i64>,
}

/// A process instance in a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProcessInstanceView {
    /// Key.
    pub process_instance_key: Key,
    /// Definition key.
    pub process_definition_key: Key,
    /// BPMN process id.
    pub bpmn_process_id: String,
    /// Definition version.
    pub version: i32,
    /// State.
    pub state: InstanceState,
    /// Started at (ISO-8601).
    pub start_date: String,
    /// Completed or canceled at (ISO-8601).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    /// Incidents holding it now.
    pub active_incidents: i64,
}

impl From<InstanceSummaryRow> for ProcessInstanceView {
    fn from(row: InstanceSummaryRow) -> Self {
        Self {
            process_instance_key: Key::new(row.process_instance_key),
            process_definition_key: Key::new(row.process_definition_key),
            bpmn_process_id: row.bpmn_process_id,
            version: row.version,
            state: InstanceState::parse(&row.state),
            start_date: timestamp(row.created_at),
            end_date: row.ended_at.map(timestamp),
            active_incidents: row.active_incidents,
        }
    }
}

/// A service task's job.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    /// Key.
    pub job_key: Key,
    /// Job type workers subscribe to.
    #[serde(rename = "type")]
    pub job_type: String,
    /// ACTIVATABLE, ACTIVATED, FAILED or ERROR_THROWN.
    pub state: String,
    /// Retries left.
    pub retries: i32,
    /// Worker that activated it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
}

/// A timer an element waits for.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimerView {
    /// Key.
    pub timer_key: Key,
    /// The timer event (the catch event or a boundary event).
    pub element_id: String,
    /// Due at (ISO-8601).
    pub due_date: String,
}

/// A message an element waits for.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionView {
    /// The message event (the catch event or a boundary event).
    pub element_id: String,
    /// Message name.
    pub message_name: String,
    /// Correlation key.
    pub correlation_key: String,
}

/// An element a token waits in.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActiveElementView {
    /// Element instance key (SetVariables scope).
    pub element_instance_key: Key,
    /// BPMN element id.
    pub element_id: String,
    /// BPMN element type (`serviceTask`, `userTask`, `intermediateCatchEvent`, ...).
    pub element_type: String,
    /// Waiting since (ISO-8601).
    pub start_date: String,
    /// Its job, for service tasks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<JobView>,
    /// Its open user task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_task_key: Option<Key>,
    /// Timers of the element and its boundary events.
    pub timers: Vec<TimerView>,
    /// Message subscriptions of the element and its boundary events.
    pub message_subscriptions: Vec<SubscriptionView>,
    /// Active incidents holding it.
    pub incident_keys: Vec<Key>,
}

impl From<ActiveElement> for ActiveElementView {
    fn from(e: ActiveElement) -> Self {
        Self {
            element_instance_key: Key::new(e.element_instance_key),
            element_id: e.element_id,
            element_type: e.element_type.to_owned(),
            start_date: timestamp(e.since),
            job: e.job.map(|j| JobView {
                job_key: Key::new(j.key),
                job_type: j.job_type,
                state: j.state,
                retries: j.retries,
                worker: j.worker,
            }),
            user_task_key: e.user_task_key.map(Key::new),
            timers: e
                .timers
                .into_iter()
                .map(|t| TimerView {
                    timer_key: Key::new(t.key),
                    element_id: t.element_id,
                    due_date: timestamp(t.due_at),
                })
                .collect(),
            message_subscriptions: e
                .subscriptions
                .into_iter()
                .map(|s| SubscriptionView {
                    element_id: s.element_id,
                    message_name: s.message_name,
                    correlation_key: s.correlation_key,
                })
                .collect(),
            incident_keys: e.incident_keys.into_iter().map(Key::new).collect(),
        }
    }
}

/// A variable in a scope.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VariableView {
    /// Name.
    pub name: String,
    /// Value (any JSON).
    pub value: Json,
    /// The scope: the instance key, or an element instance key for task-local variables.
    pub scope_key: Key,
}

/// An incident with its cause.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IncidentView {
    /// Key (ResolveIncident, `POST /v1/ops/incidents/{key}/resolve`).
    pub incident_key: Key,
    /// Zeebe error type: JOB_NO_RETRIES, TASK_LISTENER_NO_RETRIES, CONDITION_ERROR,
    /// IO_MAPPING_ERROR, EXTRACT_VALUE_ERROR, UNHANDLED_ERROR_EVENT.
    pub error_type: String,
    /// Why.
    pub error_message: String,
    /// BPMN element id it holds.
    pub element_id: String,
    /// Element instance it holds.
    pub element_instance_key: Key,
    /// The job, for job incidents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_key: Option<Key>,
    /// Process instance.
    pub process_instance_key: Key,
    /// BPMN process id.
    pub bpmn_process_id: String,
    /// State.
    pub state: IncidentState,
    /// Raised at (ISO-8601).
    pub creation_time: String,
    /// Resolved at (ISO-8601).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolution_time: Option<String>,
}

impl From<IncidentRow> for IncidentView {
    fn from(row: IncidentRow) -> Self {
        Self {
            incident_key: Key::new(row.incident_key),
            error_type: row.error_type,
            error_message: row.error_message,
            element_id: row.element_id,
            element_instance_key: Key::new(row.element_instance_key),
            job_key: row.job_key.map(Key::new),
            process_instance_key: Key::new(row.process_instance_key),
            bpmn_process_id: row.bpmn_process_id,
            state: if row.state == "RESOLVED" {
                IncidentState::Resolved
            } else {
                IncidentState::Active
            },
            creation_time: timestamp(row.created_at),
            resolution_time: row.resolved_at.map(timestamp),
        }
    }
}

/// One process instance in full.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProcessInstanceDetailView {
    /// Identity and state.
    #[serde(flatten)]
    pub instance: ProcessInstanceView,
    /// Where its tokens wait.
    pub active_elements: Vec<ActiveElementView>,
    /// Its variables, instance scope first.
    pub variables: Vec<VariableView>,
    /// Its active incidents.
    pub incidents: Vec<IncidentView>,
}

impl From<InstanceDetail> for ProcessInstanceDetailView {
    fn from(d: InstanceDetail) -> Self {
        Self {
            instance: d.summary.into(),
            active_elements: d.elements.into_iter().map(Into::into).collect(),
            variables: d
                .variables
                .into_iter()
                .map(|(scope, name, value)| VariableView {
                    name,
                    value,
                    scope_key: Key::new(scope),
                })
                .collect(),
            incidents: d.incidents.into_iter().map(Into::into).collect(),
        }
    }
}

/// `POST /v1/ops/incidents/{incidentKey}/resolve` body (optional).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResolveIncidentRequest {
    /// For job incidents: set the job's retries (≥ 1) before resolving, in the same step.
    pub retries: Option<i32>,
}
