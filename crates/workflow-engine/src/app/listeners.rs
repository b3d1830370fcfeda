//! Completing task listeners (ADR 0034, Camunda 8.8 semantics). A completion of a user task
//! with `completing` listeners does not complete it at once: the task turns COMPLETING, the
//! request's variables wait in a `user_task_completion` row, and the listeners' jobs run one
//! after another through the ordinary job machinery. The last one allowing it completes the
//! task with the stored variables (output mappings, flows) in its job's transaction; a denial
//! returns the task to CREATED and discards them. The REST request waits for that outcome.

use serde_json::{Map, Value as Json};
use sqlx::PgConnection;
use tokio::sync::broadcast::{Receiver, error::RecvError};
use tokio::sync::watch;
use tokio::time::Instant;
use workflow_model::bpmn::{NodeKind, ProcessDefinition, TaskListenerEventType, UserTask};

use super::Engine;
use super::notifier::Wake;
use super::run::Run;
use crate::engine::{IncidentType, ListenedTask, listener_job, nth_listener};
use crate::error::EngineError;
use crate::store::completions::CompletionRow;
use crate::store::instances::{ElementRow, InstanceRow};
use crate::store::jobs::{JobRow, NewJob};
use crate::store::user_tasks::UserTaskRow;
use crate::store::{self, incidents::NewIncident};

/// The action a completion names when the caller gives none (Camunda's default).
pub(super) const DEFAULT_ACTION: &str = "complete";

/// The only variable a denied listener job may carry (this engine's extension: zeebe-rs's
/// gateway protocol has no `deniedReason` field).
pub const DENIED_REASON_VARIABLE: &str = "deniedReason";

const COMPLETING: TaskListenerEventType = TaskListenerEventType::Completing;

/// The user task model of an element, when it has completing listeners.
pub(super) fn listened_task<'a>(
    model: &'a ProcessDefinition,
    element_id: &str,
) -> Option<&'a UserTask> {
    match model.node(element_id).map(|n| &n.kind) {
        Some(NodeKind::UserTask(task)) if nth_listener(task, COMPLETING, 0).is_some() => Some(task),
        _ => None,
    }
}

/// Creates the job of the completion's current listener (type and retries evaluated against the
/// task's variables overlaid with the completion's), or holds the element with an
/// EXTRACT_VALUE_ERROR incident whose resolution tries again. The task stays COMPLETING.
pub(super) async fn create_listener_job(
    conn: &mut PgConnection,
    model: &UserTask,
    instance: &InstanceRow,
    task: &UserTaskRow,
    completion: &CompletionRow,
) -> Result<(), EngineError> {
    let index = usize::try_from(completion.listener_index).unwrap_or(usize::MAX);
    let listener = nth_listener(model, COMPLETING, index).ok_or_else(|| {
        EngineError::FailedPrecondition(format!(
            "user task '{}' has no completing listener at position {index}",
            task.element_id
        ))
    })?;
    let mut context = store::variables::scope(conn, instance.key).await?;
    context.extend(store::variables::scope(conn, task.element_instance_key).await?);
    context.extend(completion.variables.clone());
    let listened = ListenedTask {
        user_task_key: task.user_task_key,
        action: completion.action.clone(),
        assignee: task.assignee.clone(),
        candidate_groups: task.candidate_groups.clone(),
        candidate_users: task.candidate_users.clone(),
        due_date: task.due_date,
        follow_up_date: task.follow_up_date,
        form_key: task.external_form_reference.clone(),
        priority: task.priority,
    };
    match listener_job(model, listener, &listened, &context) {
        Ok(spec) => {
            store::jobs::insert(
                conn,
                NewJob {
                    job_type: &spec.job_type,
                    retries: spec.retries,
                    headers: &spec.headers,
                    process_instance_key: instance.key,
                    element_instance_key: task.element_instance_key,
                    element_id: &task.element_id,
                    bpmn_process_id: &instance.bpmn_process_id,
                    process_definition_key: instance.definition_key,
                    version: instance.version,
                    completion_key: Some(completion.key),
                },
            )
            .await?;
            store::notify(conn, store::JOB_CHANNEL, &spec.job_type).await?;
        }
        Err(message) => {
            store::instances::set_resume(conn, task.element_instance_key, "LISTENER", None).await?;
            store::incidents::insert(
                conn,
                NewIncident {
                    process_instance_key: instance.key,
                    element_instance_key: task.element_instance_key,
                    element_id: &task.element_id,
                    job_key: None,
                    error_type: IncidentType::ExtractValueError.as_str(),
                    error_message: &message,
                },
            )
            .await?;
        }
    }
    Ok(())
}

/// Checks what a listener job is completed with: no variables, except a `deniedReason` string
/// on a denial. Returns the reason. Camunda refuses variables on listener jobs; a silently
/// dropped variable would surprise a worker written for the service-task case.
fn denied_reason(
    job_key: i64,
    variables: &Map<String, Json>,
    denied: bool,
) -> Result<Option<String>, EngineError> {
    let refuse = |what: &str| {
        Err(EngineError::InvalidArgument(format!(
            "Expected to complete task listener job with key '{job_key}' without variables, but {what}; only a denied completion may carry a '{DENIED_REASON_VARIABLE}' string"
        )))
    };
    let mut reason = None;
    for (name, value) in variables {
        match (name.as_str(), value, denied) {
            (DENIED_REASON_VARIABLE, Json::String(text), true) => {
                reason = Some(text.trim().to_owned()).filter(|t| !t.is_empty());
            }
            (DENIED_REASON_VARIABLE, Json::Null, true) => {}
            (DENIED_REASON_VARIABLE, _, true) => {
                return refuse("'deniedReason' is not a string");
            }
            _ => return refuse(&format!("variable '{name}' was given")),
        }
    }
    Ok(reason)
}

fn denied_message(user_task_key: i64, reason: Option<&str>) -> String {
    let mut message = format!(
        "Completion of the User Task with key '{user_task_key}' was denied by Task Listener"
    );
    if let Some(reason) = reason {
        message.push_str(&format!(". Reason to deny: '{reason}'"));
    }
    message
}

impl Engine {
    /// CompleteJob of a listener job, inside the job's transaction (instance and job locked):
    /// a denial reopens the task; an allowal runs the next listener or, after the last one,
    /// completes the task with the stored variables.
    pub(super) async fn complete_listener_job(
        &self,
        conn: &mut PgConnection,
        instance: &InstanceRow,
        job: &JobRow,
        variables: &Map<String, Json>,
        denied: bool,
    ) -> Result<(), EngineError> {
        let reason = denied_reason(job.key, variables, denied)?;
        let gone = || {
            EngineError::NotFound(format!(
                "Expected to complete job with key '{}', but no such job was found",
                job.key
            ))
        };
        let completion_key = job.completion_key.ok_or_else(gone)?;
        let mut completion = store::completions::lock(conn, completion_key)
            .await?
            .filter(|c| c.outcome == "PENDING")
            .ok_or_else(gone)?;
        let task = store::user_tasks::lock(conn, completion.user_task_key)
            .await?
            .ok_or_else(gone)?;
        store::jobs::delete(conn, job.key).await?;
        if denied {
            store::completions::decide(conn, completion.key, "DENIED", reason.as_deref()).await?;
            store::user_tasks::set_state(conn, task.user_task_key, "CREATED").await?;
            return Ok(());
        }
        let model = self.definitions.get(conn, instance.definition_key).await?;
        let user_task = listened_task(&model, &task.element_id).ok_or_else(|| {
            EngineError::FailedPrecondition(format!(
                "element '{}' has no completing listeners in the model",
                task.element_id
            ))
        })?;
        let next = completion.listener_index + 1;
        if nth_listener(
            user_task,
            COMPLETING,
            usize::try_from(next).unwrap_or(usize::MAX),
        )
        .is_some()
        {
            store::completions::advance(conn, completion.key, next).await?;
            completion.listener_index = next;
            return create_listener_job(conn, user_task, instance, &task, &completion).await;
        }
        store::completions::decide(conn, completion.key, "COMPLETED", None).await?;
        store::user_tasks::complete(conn, task.user_task_key).await?;
        let mut run = Run::new(conn, &model, instance).await?;
        run.complete_element(
            task.element_instance_key,
            &task.element_id,
            &completion.variables,
        )
        .await?;
        run.drain().await?;
        Ok(())
    }

    /// Resolving an incident raised while creating a listener job: creates it again.
    pub(super) async fn resume_listener(
        &self,
        conn: &mut PgConnection,
        instance: &InstanceRow,
        element: &ElementRow,
    ) -> Result<(), EngineError> {
        let Some(task_key) = store::user_tasks::of_element(conn, element.key).await? else {
            return Ok(());
        };
        let Some(task) = store::user_tasks::lock(conn, task_key).await? else {
            return Ok(());
        };
        let Some(completion) = store::completions::lock_pending_of(conn, task_key).await? else {
            return Ok(());
        };
        let model = self.definitions.get(conn, instance.definition_key).await?;
        let user_task = listened_task(&model, &task.element_id).ok_or_else(|| {
            EngineError::FailedPrecondition(format!(
                "element '{}' has no completing listeners in the model",
                task.element_id
            ))
        })?;
        create_listener_job(conn, user_task, instance, &task, &completion).await
    }

    /// Waits until the listeners decide the completion (woken by its NOTIFY, re-checking every
    /// fallback poll), at most the configured listener wait.
    pub(super) async fn await_completion(
        &self,
        user_task_key: i64,
        completion_key: i64,
        wakes: &mut Receiver<Wake>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), EngineError> {
        let deadline = Instant::now() + self.config.listener_wait;
        loop {
            let mut conn = self.pool.acquire().await?;
            let completion = store::completions::get(&mut conn, completion_key).await?;
            drop(conn);
            match completion.as_ref().map(|c| c.outcome.as_str()) {
                Some("COMPLETED") => return Ok(()),
                Some("DENIED") => {
                    let reason = completion.as_ref().and_then(|c| c.denied_reason.as_deref());
                    return Err(EngineError::Denied(denied_message(user_task_key, reason)));
                }
                Some("PENDING") => {}
                _ => {
                    return Err(EngineError::FailedPrecondition(format!(
                        "Expected to complete user task with key '{user_task_key}', but it was canceled while its completing listeners ran"
                    )));
                }
            }
            let recheck = deadline.min(Instant::now() + self.config.fallback_poll);
            loop {
                tokio::select! {
                    wake = wakes.recv() => match wake {
                        Ok(Wake::CompletionDecided(key)) if key == completion_key => break,
                        Ok(Wake::Resync) | Err(RecvError::Lagged(_)) => break,
                        Err(RecvError::Closed) => return Err(EngineError::Unavailable),
                        Ok(_) => {}
                    },
                    () = tokio::time::sleep_until(recheck) => {
                        if Instant::now() < deadline {
                            break;
                        }
                        return Err(EngineError::Undecided(format!(
                            "Expected to complete user task with key '{user_task_key}', but its completing task listeners did not decide within {} ms; the task stays COMPLETING and completes, or opens again, when they do: read it with GET /v2/user-tasks/{user_task_key}",
                            self.config.listener_wait.as_millis()
                        )));
                    }
                    _ = shutdown.changed() => return Err(EngineError::Unavailable),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn vars(value: Json) -> Map<String, Json> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn only_a_denial_may_carry_a_reason_and_nothing_else() {
        assert_eq!(denied_reason(1, &Map::new(), false).ok(), Some(None));
        assert_eq!(denied_reason(1, &Map::new(), true).ok(), Some(None));
        assert_eq!(
            denied_reason(1, &vars(json!({"deniedReason": " not yours "})), true).ok(),
            Some(Some("not yours".to_owned()))
        );
        assert_eq!(
            denied_reason(1, &vars(json!({"deniedReason": null})), true).ok(),
            Some(None)
        );
        for (variables, denied) in [
            (json!({"deniedReason": "x"}), false),
            (json!({"deniedReason": 7}), true),
            (json!({"decision": "APPROVE"}), false),
            (json!({"deniedReason": "x", "other": 1}), true),
        ] {
            assert!(
                matches!(
                    denied_reason(9, &vars(variables.clone()), denied),
                    Err(EngineError::InvalidArgument(m)) if m.contains("'9'")
                ),
                "{variables} denied={denied}"
            );
        }
    }

    #[test]
    fn the_denial_message_names_the_task_and_the_reason() {
        assert_eq!(
            denied_message(5, None),
            "Completion of the User Task with key '5' was denied by Task Listener"
        );
        assert_eq!(
            denied_message(5, Some("four eyes")),
            "Completion of the User Task with key '5' was denied by Task Listener. Reason to deny: 'four eyes'"
        );
    }
}
