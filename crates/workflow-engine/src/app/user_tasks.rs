//! User-task commands behind the REST API: search, assign, complete. Completion runs like a job
//! completion (output mappings, then the outgoing flows) in the instance's transaction, or, when
//! the task has `completing` listeners, once they allowed it (see `listeners`).

use serde_json::{Map, Value as Json};

use super::Engine;
use super::listeners::{DEFAULT_ACTION, create_listener_job, listened_task};
use super::run::Run;
use crate::error::EngineError;
use crate::store::{self, completions::CompletionRow, user_tasks::UserTaskRow};

pub use crate::store::user_tasks::{SearchPage, SortColumn, UserTaskFilter};

fn not_found(verb: &str, key: i64) -> EngineError {
    EngineError::NotFound(format!(
        "Expected to {verb} user task with key '{key}', but no such user task was found"
    ))
}

fn invalid_state(verb: &str, task: &UserTaskRow) -> EngineError {
    EngineError::FailedPrecondition(format!(
        "Expected to {verb} user task with key '{}', but it is in state '{}'",
        task.user_task_key, task.state
    ))
}

impl Engine {
    /// One page of user tasks matching `filter`, with the total number of matches.
    #[tracing::instrument(skip_all, err)]
    pub async fn search_user_tasks(
        &self,
        filter: &UserTaskFilter,
        page: &SearchPage,
    ) -> Result<(Vec<UserTaskRow>, i64), EngineError> {
        let mut tx = super::snapshot(&self.pool).await?;
        let found = store::user_tasks::search(&mut tx, filter, page).await?;
        tx.commit().await?;
        Ok(found)
    }

    /// One user task.
    pub async fn user_task(&self, key: i64) -> Result<UserTaskRow, EngineError> {
        let mut conn = self.pool.acquire().await?;
        store::user_tasks::get(&mut conn, key)
            .await?
            .ok_or_else(|| not_found("get", key))
    }

    /// Assigns (or, with `None`, unassigns) an open task. With `allow_override` false a task
    /// already assigned to someone else is refused, as Camunda's `allowOverride: false`.
    #[tracing::instrument(skip_all, fields(user_task_key = key), err)]
    pub async fn assign_user_task(
        &self,
        key: i64,
        assignee: Option<&str>,
        allow_override: bool,
    ) -> Result<(), EngineError> {
        let verb = if assignee.is_some() {
            "assign"
        } else {
            "unassign"
        };
        let mut tx = self.pool.begin().await?;
        let task = store::user_tasks::lock(&mut tx, key)
            .await?
            .ok_or_else(|| not_found(verb, key))?;
        if task.state != "CREATED" {
            return Err(invalid_state(verb, &task));
        }
        if !allow_override
            && let (Some(current), Some(wanted)) = (task.assignee.as_deref(), assignee)
            && current != wanted
        {
            return Err(EngineError::FailedPrecondition(format!(
                "Expected to assign user task with key '{key}' to '{wanted}', but it is already assigned to '{current}'"
            )));
        }
        store::user_tasks::set_assignee(&mut tx, key, assignee).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Completes an open task with `variables`: the task becomes COMPLETED and its element
    /// completes (output mappings, propagation, outgoing flows) in the same transaction.
    ///
    /// A task with `completing` listeners turns COMPLETING instead and its first listener's job
    /// is created; this call then waits (at most [`super::EngineConfig::listener_wait`]) until
    /// the last listener allowed it (`Ok`, the task completed as above), one denied it
    /// ([`EngineError::Denied`], the task is CREATED again and the variables are discarded) or
    /// the wait ran out ([`EngineError::Undecided`], the task stays COMPLETING). `action` is
    /// handed to the listeners (`complete` when `None`).
    #[tracing::instrument(skip_all, fields(user_task_key = key), err)]
    pub async fn complete_user_task(
        &self,
        key: i64,
        variables: &Map<String, Json>,
        action: Option<&str>,
    ) -> Result<(), EngineError> {
        // Subscribed before anything is written, so the listeners' decision cannot be missed.
        let mut wakes = self.notifier.subscribe();
        let mut shutdown = self.notifier.shutdown();
        let action = action
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .unwrap_or(DEFAULT_ACTION);
        let mut tx = self.pool.begin().await?;
        let seen = store::user_tasks::get(&mut tx, key)
            .await?
            .ok_or_else(|| not_found("complete", key))?;
        if seen.state != "CREATED" {
            return Err(invalid_state("complete", &seen));
        }
        // Instance first, then the task: the order every command locks in.
        let instance = store::instances::lock(&mut tx, seen.process_instance_key)
            .await?
            .ok_or_else(|| not_found("complete", key))?;
        let task = store::user_tasks::lock(&mut tx, key)
            .await?
            .ok_or_else(|| not_found("complete", key))?;
        if task.state != "CREATED" || instance.state != "ACTIVE" {
            return Err(invalid_state("complete", &task));
        }
        let model = self
            .definitions
            .get(&mut tx, instance.definition_key)
            .await?;
        if let Some(listened) = listened_task(&model, &task.element_id) {
            let completion = CompletionRow {
                key: store::completions::insert(&mut tx, key, instance.key, variables, action)
                    .await?,
                user_task_key: key,
                variables: variables.clone(),
                action: action.to_owned(),
                listener_index: 0,
                outcome: "PENDING".to_owned(),
                denied_reason: None,
            };
            store::user_tasks::set_state(&mut tx, key, "COMPLETING").await?;
            create_listener_job(&mut tx, listened, &instance, &task, &completion).await?;
            tx.commit().await?;
            return self
                .await_completion(key, completion.key, &mut wakes, &mut shutdown)
                .await;
        }
        store::user_tasks::complete(&mut tx, key).await?;
        let mut run = Run::new(&mut tx, &model, &instance).await?;
        run.complete_element(task.element_instance_key, &task.element_id, variables)
            .await?;
        run.drain().await?;
        tx.commit().await?;
        Ok(())
    }
}
