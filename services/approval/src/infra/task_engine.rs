//! The workflow engine's user tasks over HTTP: the Camunda-8-compatible REST API
//! (`contracts/openapi/workflow-engine-api.json`; the embedded engine and Camunda 8.8 answer the
//! same) behind the application's [`UserTaskEngine`] port, called as this service with its
//! client-credentials token (ADR 0030).
//!
//! Outcomes are told apart with care: no answer, a timeout or a 5xx is
//! [`TaskEngineError::Unknown`] — the engine may have acted — and only a 4xx is a refusal.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use common_kernel::auth::ServiceTokens;
use common_kernel::http::correlation::{self, CORRELATION_HEADER};
use reqwest::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::app::ports::{
    APPROVAL_PROCESS_ID, EngineTask, TaskEngineError, TaskFilter, UserTaskEngine,
};

/// Upper bound of one call to the engine.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest page the API serves.
const MAX_PAGE: usize = 1000;

/// A 5xx answer, kept as the source of an unknown outcome.
#[derive(Debug, thiserror::Error)]
#[error("the workflow engine answered {0}")]
struct ServerError(StatusCode);

/// The engine's REST client: base URL, HTTP client and this service's token source.
#[derive(Debug, Clone)]
pub struct EngineTaskClient {
    base: String,
    http: reqwest::Client,
    service_tokens: Option<Arc<ServiceTokens>>,
}

/// A key as the API writes it: a decimal string (Camunda 8) or, from older engines, a number.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum WireKey {
    Text(String),
    Number(i64),
}

impl WireKey {
    fn get(&self) -> Result<i64, TaskEngineError> {
        match self {
            Self::Number(n) => Ok(*n),
            Self::Text(t) => t
                .parse()
                .map_err(|_| TaskEngineError::Unreadable(format!("key '{t}'"))),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskJson {
    user_task_key: WireKey,
    process_instance_key: WireKey,
    element_id: String,
    #[serde(default)]
    candidate_groups: Option<Vec<String>>,
    #[serde(default)]
    assignee: Option<String>,
    #[serde(default)]
    due_date: Option<String>,
    creation_date: String,
}

#[derive(Debug, Deserialize)]
struct SearchAnswer {
    items: Vec<TaskJson>,
}

#[derive(Debug, Default, Deserialize)]
struct Problem {
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    title: Option<String>,
}

fn instant(value: &str) -> Result<DateTime<Utc>, TaskEngineError> {
    DateTime::parse_from_rfc3339(value)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| TaskEngineError::Unreadable(format!("date '{value}'")))
}

impl TryFrom<TaskJson> for EngineTask {
    type Error = TaskEngineError;

    fn try_from(task: TaskJson) -> Result<Self, TaskEngineError> {
        Ok(Self {
            user_task_key: task.user_task_key.get()?,
            process_instance_key: task.process_instance_key.get()?,
            element_id: task.element_id,
            candidate_groups: task.candidate_groups.unwrap_or_default(),
            assignee: task.assignee.filter(|a| !a.is_empty()),
            due_date: task.due_date.as_deref().map(instant).transpose()?,
            creation_date: instant(&task.creation_date)?,
        })
    }
}

/// The search body: open tasks of the approval process matching `filter`, oldest first.
fn search_body(filter: &TaskFilter, from: usize, limit: usize) -> Value {
    let mut conditions = Map::new();
    conditions.insert("state".into(), json!("CREATED"));
    conditions.insert("processDefinitionId".into(), json!(APPROVAL_PROCESS_ID));
    if let Some(group) = &filter.candidate_group {
        conditions.insert("candidateGroup".into(), json!(group));
    }
    if let Some(assignee) = &filter.assignee {
        conditions.insert("assignee".into(), json!(assignee));
    }
    if let Some(key) = filter.process_instance_key {
        conditions.insert("processInstanceKey".into(), json!(key.to_string()));
    }
    json!({
        "filter": conditions,
        "page": {"from": from, "limit": limit},
        "sort": [{"field": "creationDate", "order": "ASC"}],
    })
}

impl EngineTaskClient {
    /// A client for the engine's REST API at `base_url` (`http://host:port`, no path), calling
    /// with this service's tokens when it has a client (`None`: no `Authorization`, for an
    /// engine behind its own gateway).
    pub fn new(
        base_url: &str,
        service_tokens: Option<Arc<ServiceTokens>>,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(2))
            .build()?;
        Ok(Self {
            base: base_url.trim_end_matches('/').to_owned(),
            http,
            service_tokens,
        })
    }

    /// POSTs `body` to `path` as this service; `Ok` with the answer of a 2xx.
    async fn post(
        &self,
        path: &str,
        body: &Value,
        task: Option<i64>,
    ) -> Result<reqwest::Response, TaskEngineError> {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(id) = correlation::current() {
            request = request.header(CORRELATION_HEADER, id);
        }
        if let Some(tokens) = &self.service_tokens {
            let token = tokens
                .token()
                .await
                .map_err(|e| TaskEngineError::Unknown(Box::new(e)))?;
            request = request.bearer_auth(token.expose());
        }
        let response = request
            .send()
            .await
            .map_err(|e| TaskEngineError::Unknown(Box::new(e)))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        if status.is_server_error() {
            return Err(TaskEngineError::Unknown(Box::new(ServerError(status))));
        }
        if let (StatusCode::NOT_FOUND, Some(key)) = (status, task) {
            return Err(TaskEngineError::NotFound(key));
        }
        let problem: Problem = response.json().await.unwrap_or_default();
        Err(TaskEngineError::Refused {
            status: status.as_u16(),
            detail: problem
                .detail
                .or(problem.title)
                .unwrap_or_else(|| status.to_string()),
        })
    }

    async fn read<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, TaskEngineError> {
        response
            .json()
            .await
            .map_err(|e| TaskEngineError::Unreadable(e.to_string()))
    }
}

#[async_trait]
impl UserTaskEngine for EngineTaskClient {
    #[tracing::instrument(skip_all, err(level = "warn"))]
    async fn search_open(
        &self,
        filter: &TaskFilter,
        limit: usize,
    ) -> Result<Vec<EngineTask>, TaskEngineError> {
        let mut tasks = Vec::new();
        while tasks.len() < limit {
            let page = (limit - tasks.len()).min(MAX_PAGE);
            let body = search_body(filter, tasks.len(), page);
            let response = self.post("/v2/user-tasks/search", &body, None).await?;
            let answer: SearchAnswer = Self::read(response).await?;
            let last = answer.items.len() < page;
            for item in answer.items {
                tasks.push(EngineTask::try_from(item)?);
            }
            if last {
                break;
            }
        }
        tasks.truncate(limit);
        Ok(tasks)
    }

    #[tracing::instrument(skip(self), err(level = "warn"))]
    async fn assign(&self, user_task_key: i64, assignee: &str) -> Result<(), TaskEngineError> {
        let body = json!({"assignee": assignee, "allowOverride": true});
        self.post(
            &format!("/v2/user-tasks/{user_task_key}/assignment"),
            &body,
            Some(user_task_key),
        )
        .await
        .map(drop)
    }

    #[tracing::instrument(skip(self, variables), err(level = "warn"))]
    async fn complete(
        &self,
        user_task_key: i64,
        variables: Map<String, Value>,
    ) -> Result<(), TaskEngineError> {
        let body = json!({"variables": variables});
        self.post(
            &format!("/v2/user-tasks/{user_task_key}/completion"),
            &body,
            Some(user_task_key),
        )
        .await
        .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_bodies_name_the_approval_process_and_every_condition() {
        let body = search_body(
            &TaskFilter {
                candidate_group: Some("approver-manager".into()),
                assignee: Some("manager1".into()),
                process_instance_key: Some(2_251_799_813_685_249),
            },
            100,
            50,
        );
        assert_eq!(
            body,
            json!({
                "filter": {
                    "state": "CREATED",
                    "processDefinitionId": "quote-approval",
                    "candidateGroup": "approver-manager",
                    "assignee": "manager1",
                    "processInstanceKey": "2251799813685249",
                },
                "page": {"from": 100, "limit": 50},
                "sort": [{"field": "creationDate", "order": "ASC"}],
            })
        );
        let bare = search_body(&TaskFilter::default(), 0, 10);
        assert_eq!(
            bare["filter"],
            json!({"state": "CREATED", "processDefinitionId": "quote-approval"})
        );
    }

    #[test]
    fn tasks_read_keys_as_strings_or_numbers() {
        let task: TaskJson = serde_json::from_value(json!({
            "userTaskKey": "42", "processInstanceKey": 7, "elementId": "Task_Approve",
            "candidateGroups": ["approver-manager"], "creationDate": "2030-01-02T09:00:00.000Z",
            "dueDate": "2030-01-03T10:00:00+01:00", "assignee": ""
        }))
        .unwrap();
        let task = EngineTask::try_from(task).unwrap();
        assert_eq!((task.user_task_key, task.process_instance_key), (42, 7));
        assert_eq!(task.assignee, None, "an empty assignee is no assignee");
        assert_eq!(
            task.due_date.map(|d| d.to_rfc3339()),
            Some("2030-01-03T09:00:00+00:00".to_owned())
        );
        let bad: TaskJson = serde_json::from_value(json!({
            "userTaskKey": "x", "processInstanceKey": "1", "elementId": "e", "creationDate": "2030-01-02T09:00:00Z"
        }))
        .unwrap();
        assert!(matches!(
            EngineTask::try_from(bad),
            Err(TaskEngineError::Unreadable(_))
        ));
    }
}
