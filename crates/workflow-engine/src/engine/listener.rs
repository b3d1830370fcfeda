//! Task listener jobs: what the job of a user task's `completing` listener looks like — its type
//! and retries evaluated like a service task's, and the headers Camunda 8.8 gives listener jobs
//! (`io.camunda.zeebe:*`, after the task's own `zeebe:taskHeaders`).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value as Json};
use workflow_model::bpmn::{TaskListener, TaskListenerEventType, UserTask};

use super::step::{JobSpec, retries};

/// Header prefix of the user-task data Camunda hands to listener jobs.
const PREFIX: &str = "io.camunda.zeebe:";

/// The user task as a listener sees it: its key, data and the action being attempted.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListenedTask {
    /// The task's key.
    pub user_task_key: i64,
    /// What the caller is doing (`complete`, or the action it named).
    pub action: String,
    /// Current assignee.
    pub assignee: Option<String>,
    /// Candidate groups.
    pub candidate_groups: Vec<String>,
    /// Candidate users.
    pub candidate_users: Vec<String>,
    /// Due date.
    pub due_date: Option<DateTime<Utc>>,
    /// Follow-up date.
    pub follow_up_date: Option<DateTime<Utc>>,
    /// Form reference.
    pub form_key: Option<String>,
    /// 0–100.
    pub priority: i32,
}

/// The `index`-th listener of `event` on `task`, if there is one.
pub fn nth_listener(
    task: &UserTask,
    event: TaskListenerEventType,
    index: usize,
) -> Option<&TaskListener> {
    task.listeners_of(event).nth(index)
}

/// The job of `listener` for `listened`, with type and retries evaluated in `context` (the
/// variables the listener job will see). An error is the EXTRACT_VALUE_ERROR message.
pub fn listener_job(
    task: &UserTask,
    listener: &TaskListener,
    listened: &ListenedTask,
    context: &Map<String, Json>,
) -> Result<JobSpec, String> {
    let job_type = listener
        .job_type
        .evaluate_string(context)
        .map_err(|e| e.to_string())?;
    if job_type.trim().is_empty() {
        return Err(format!(
            "Expected the task listener job type '{}' to be a non-empty string",
            listener.job_type.text()
        ));
    }
    let retries = retries(&listener.retries, context)?;
    Ok(JobSpec {
        job_type,
        retries,
        headers: headers(task, listened),
        locals: Map::new(),
    })
}

/// The task's own headers, then the user-task data under Camunda's header names (winning over
/// a model header of the same name). Empty values are left out, as Camunda does; lists are
/// JSON arrays in a string.
fn headers(task: &UserTask, listened: &ListenedTask) -> Map<String, Json> {
    let mut headers: Map<String, Json> = task
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), Json::String(v.clone())))
        .collect();
    let mut put = |name: &str, value: String| {
        headers.insert(format!("{PREFIX}{name}"), Json::String(value));
    };
    put("userTaskKey", listened.user_task_key.to_string());
    put("action", listened.action.clone());
    if let Some(assignee) = &listened.assignee {
        put("assignee", assignee.clone());
    }
    for (name, list) in [
        ("candidateGroups", &listened.candidate_groups),
        ("candidateUsers", &listened.candidate_users),
    ] {
        if !list.is_empty() {
            put(name, Json::from(list.clone()).to_string());
        }
    }
    for (name, date) in [
        ("dueDate", listened.due_date),
        ("followUpDate", listened.follow_up_date),
    ] {
        if let Some(date) = date {
            put(name, date.to_rfc3339_opts(SecondsFormat::Millis, true));
        }
    }
    if let Some(form) = &listened.form_key {
        put("formKey", form.clone());
    }
    put("priority", listened.priority.to_string());
    headers
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;
    use workflow_model::bpmn::{NodeKind, parse_bpmn};

    use super::*;

    fn approve_task() -> UserTask {
        let def = parse_bpmn(include_str!("../../tests/bpmn/listeners.bpmn"))
            .expect("valid")
            .remove(0);
        match &def.node("Task_Approve").expect("task").kind {
            NodeKind::UserTask(task) => task.clone(),
            other => panic!("{other:?}"),
        }
    }

    fn listened() -> ListenedTask {
        ListenedTask {
            user_task_key: 42,
            action: "complete".into(),
            assignee: Some("ann".into()),
            candidate_groups: vec!["sales-managers".into(), "finance".into()],
            candidate_users: Vec::new(),
            due_date: Utc.with_ymd_and_hms(2030, 1, 2, 9, 0, 0).single(),
            follow_up_date: None,
            form_key: None,
            priority: 50,
        }
    }

    #[test]
    fn listener_jobs_carry_the_task_data_as_camunda_headers() {
        let task = approve_task();
        let first = nth_listener(&task, TaskListenerEventType::Completing, 0).expect("first");
        let context = json!({"checkKind": "sod"});
        let spec = listener_job(&task, first, &listened(), context.as_object().expect("obj"))
            .expect("job");
        assert_eq!((spec.job_type.as_str(), spec.retries), ("listen.check", 3));
        assert_eq!(
            Json::Object(spec.headers),
            json!({
                "level": "MANAGER",
                "io.camunda.zeebe:userTaskKey": "42",
                "io.camunda.zeebe:action": "complete",
                "io.camunda.zeebe:assignee": "ann",
                "io.camunda.zeebe:candidateGroups": "[\"sales-managers\",\"finance\"]",
                "io.camunda.zeebe:dueDate": "2030-01-02T09:00:00.000Z",
                "io.camunda.zeebe:priority": "50",
            })
        );
        let second = nth_listener(&task, TaskListenerEventType::Completing, 1).expect("second");
        let spec = listener_job(
            &task,
            second,
            &listened(),
            context.as_object().expect("obj"),
        )
        .expect("job");
        assert_eq!((spec.job_type.as_str(), spec.retries), ("listen.sod", 2));
        assert!(nth_listener(&task, TaskListenerEventType::Completing, 2).is_none());
    }

    #[test]
    fn a_listener_type_that_is_no_string_is_an_extract_value_error() {
        let task = approve_task();
        let second = nth_listener(&task, TaskListenerEventType::Completing, 1).expect("second");
        let context = json!({"checkKind": 7});
        let error = listener_job(
            &task,
            second,
            &listened(),
            context.as_object().expect("obj"),
        )
        .expect_err("not a string");
        assert!(error.contains("STRING"), "{error}");
    }
}
