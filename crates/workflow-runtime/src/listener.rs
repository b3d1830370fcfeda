//! User-task listener handlers: a job handler that allows or denies a user-task transition
//! (Camunda 8.8 `completing` task listeners, ADR 0034).
//!
//! A service writes `async fn check(ctx: JobContext, input: Decision) -> Result<ListenerVerdict,
//! JobError>` and registers [`listener`]`(check)` for the listener's job type like any handler.
//! [`ListenerVerdict::Allow`] lets the completion through (`CompleteJob` without variables);
//! [`ListenerVerdict::deny`] sends `CompleteJob` with `result.denied = true` and the reason as
//! the `deniedReason` variable, which the embedded engine reports to whoever tried to complete
//! the task. Camunda 8.8 refuses variables on listener jobs: there the worker denies again
//! without the reason (see [`crate::outcome`]). The task's data comes with the job as headers,
//! read with [`JobContext::listened_task`].

use std::future::Future;
use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::context::JobContext;
use crate::error::JobError;
use crate::handler::{JobHandler, panic_message};
use crate::outcome::Attempt;

/// The variable carrying a denial's reason (the embedded engine's extension of `JobResult`).
pub const DENIED_REASON_VARIABLE: &str = "deniedReason";

/// Header prefix of the user-task data on listener jobs.
const HEADER: &str = "io.camunda.zeebe:";

/// What a task listener decides about the transition it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenerVerdict {
    /// Let the transition (e.g. the completion) go on.
    Allow,
    /// Refuse it: the task stays as it was; the reason reaches the caller when given.
    Deny {
        /// Why, for the person whose completion was refused.
        reason: Option<String>,
    },
}

impl ListenerVerdict {
    /// A denial with a reason.
    pub fn deny(reason: impl Into<String>) -> Self {
        Self::Deny {
            reason: Some(reason.into()),
        }
    }
}

/// The user task a listener job is about, from the `io.camunda.zeebe:*` headers Camunda 8.8
/// (and the embedded engine) put on listener jobs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListenedTask {
    /// The task's key (for `/v2/user-tasks/{userTaskKey}`).
    pub user_task_key: i64,
    /// What is being done: `complete`, or the action the caller named.
    pub action: String,
    /// The task's assignee, if any.
    pub assignee: Option<String>,
    /// Candidate groups.
    pub candidate_groups: Vec<String>,
    /// Candidate users.
    pub candidate_users: Vec<String>,
    /// Due date (ISO-8601), if any.
    pub due_date: Option<String>,
}

impl JobContext {
    /// The user task of a task listener's job; `None` for a service task's job (no
    /// `io.camunda.zeebe:userTaskKey` header).
    pub fn listened_task(&self) -> Option<ListenedTask> {
        let header = |name: &str| self.header(&format!("{HEADER}{name}"));
        let list = |name: &str| {
            header(name)
                .and_then(|text| serde_json::from_str::<Vec<String>>(text).ok())
                .unwrap_or_default()
        };
        Some(ListenedTask {
            user_task_key: header("userTaskKey")?.trim().parse().ok()?,
            action: header("action").unwrap_or("complete").to_owned(),
            assignee: header("assignee").map(str::to_owned),
            candidate_groups: list("candidateGroups"),
            candidate_users: list("candidateUsers"),
            due_date: header("dueDate").map(str::to_owned),
        })
    }
}

/// An async function `(JobContext, I) -> Result<ListenerVerdict, JobError>` as a
/// [`JobHandler`] for a task listener's job type.
pub struct ListenerHandler<F, I> {
    function: Arc<F>,
    input: PhantomData<fn(I)>,
}

impl<F, I> std::fmt::Debug for ListenerHandler<F, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListenerHandler")
            .field("input", &std::any::type_name::<I>())
            .finish()
    }
}

/// Wraps a listener function as a handler. `I` is read from the job's variables: the process
/// variables at the task with the completion's variables over them. A technical error fails
/// the job like any handler's (retries, then an incident that holds the task COMPLETING); a
/// business error cannot be thrown from a listener and raises an incident at once.
pub fn listener<F, Fut, I>(function: F) -> ListenerHandler<F, I>
where
    F: Fn(JobContext, I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ListenerVerdict, JobError>> + Send + 'static,
    I: DeserializeOwned + Send + 'static,
{
    ListenerHandler {
        function: Arc::new(function),
        input: PhantomData,
    }
}

impl<F, Fut, I> JobHandler for ListenerHandler<F, I>
where
    F: Fn(JobContext, I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ListenerVerdict, JobError>> + Send + 'static,
    I: DeserializeOwned + Send + 'static,
{
    fn run(&self, ctx: JobContext, variables: &Value) -> BoxFuture<'static, Attempt> {
        let input: I = match serde_path_to_error::deserialize(variables) {
            Ok(input) => input,
            Err(error) => {
                let path = error.path().to_string();
                let message = format!("at `{path}`: {}", error.into_inner());
                return futures::future::ready(Attempt::InvalidInput(message)).boxed();
            }
        };
        let function = Arc::clone(&self.function);
        let call = async move { function(ctx, input).await };
        AssertUnwindSafe(call)
            .catch_unwind()
            .map(|result| match result {
                Ok(Ok(verdict)) => Attempt::Verdict(verdict),
                Ok(Err(JobError::Business { code, message, .. })) => Attempt::InvalidOutput(
                    format!(
                        "a task listener cannot throw BPMN error {code} ({message}); deny the transition instead"
                    ),
                ),
                Ok(Err(error)) => Attempt::Failed(error),
                Err(panic) => Attempt::Panicked(panic_message(panic.as_ref())),
            })
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Decision {
        decision: String,
        decided_by: String,
    }

    async fn check(_ctx: JobContext, input: Decision) -> Result<ListenerVerdict, JobError> {
        match (input.decision.as_str(), input.decided_by.as_str()) {
            (_, "down") => Err(JobError::technical("authority service down")),
            (_, "odd") => Err(JobError::business("ODD", "odd approver")),
            ("REJECT", "bad") => Ok(ListenerVerdict::deny("bad may not reject")),
            _ => Ok(ListenerVerdict::Allow),
        }
    }

    async fn run(variables: Value) -> Attempt {
        listener(check).run(JobContext::default(), &variables).await
    }

    #[tokio::test]
    async fn verdicts_and_failures_become_attempts() {
        assert!(matches!(
            run(json!({"decision": "APPROVE", "decidedBy": "ann"})).await,
            Attempt::Verdict(ListenerVerdict::Allow)
        ));
        assert!(matches!(
            run(json!({"decision": "REJECT", "decidedBy": "bad"})).await,
            Attempt::Verdict(ListenerVerdict::Deny { reason: Some(r) }) if r == "bad may not reject"
        ));
        assert!(matches!(
            run(json!({"decision": "APPROVE", "decidedBy": "down"})).await,
            Attempt::Failed(JobError::Technical { .. })
        ));
        assert!(matches!(
            run(json!({"decision": "APPROVE", "decidedBy": "odd"})).await,
            Attempt::InvalidOutput(m) if m.contains("ODD")
        ));
        assert!(matches!(
            run(json!({"decision": "APPROVE"})).await,
            Attempt::InvalidInput(m) if m.contains("decidedBy")
        ));
    }

    #[test]
    fn the_listened_task_is_read_from_the_headers() {
        let headers: BTreeMap<String, String> = [
            ("io.camunda.zeebe:userTaskKey", "2251799813685300"),
            ("io.camunda.zeebe:action", "complete"),
            ("io.camunda.zeebe:assignee", "ann"),
            ("io.camunda.zeebe:candidateGroups", "[\"sales-managers\"]"),
            ("io.camunda.zeebe:dueDate", "2030-01-02T09:00:00.000Z"),
            ("level", "MANAGER"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let ctx = JobContext {
            custom_headers: headers,
            ..JobContext::default()
        };
        assert_eq!(
            ctx.listened_task(),
            Some(ListenedTask {
                user_task_key: 2_251_799_813_685_300,
                action: "complete".into(),
                assignee: Some("ann".into()),
                candidate_groups: vec!["sales-managers".into()],
                candidate_users: Vec::new(),
                due_date: Some("2030-01-02T09:00:00.000Z".into()),
            })
        );
        assert_eq!(JobContext::default().listened_task(), None);
    }
}
