//! User-task commands behind the REST API: search, assign, complete. Completion runs like a job
//! completion (output mappings, then the outgoing flows) in the instance's transaction.

use serde_json::{Map, Value as Json};

use super::Engine;
use super::run::Run;
use crate::error::EngineError;
use crate::store::{self, user_tasks::UserTaskRow};

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
    #[tracing::instrument(skip_all, fields(user_task_key = key), err)]
    pub async fn complete_user_task(
        &self,
        key: i64,
        variables: &Map<String, Json>,
    ) -> Result<(), EngineError> {
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
        store::user_tasks::complete(&mut tx, key).await?;
        let model = self
            .definitions
            .get(&mut tx, instance.definition_key)
            .await?;
        let mut run = Run::new(&mut tx, &model, &instance).await?;
        run.complete_element(task.element_instance_key, &task.element_id, variables)
            .await?;
        run.drain().await?;
        tx.commit().await?;
        Ok(())
    }
}
