//! The fulfilment process's external-call workers: one job type per operation
//! (`integration.<system>.<operation>`, workflow/README.md). Each is a thin adapter from the
//! job to [`Executor::execute`] and from its [`Step`] to the engine:
//!
//! | step                         | job command                                                     |
//! |------------------------------|-----------------------------------------------------------------|
//! | `Done`                       | `CompleteJob` with `externalCall` (the core's result)           |
//! | `Refused` (REJECTED_BUSINESS)| `ThrowError` `<SYSTEM>_REJECTED` with the downstream's code     |
//! | `RetryAfter` (FAILED_TECHNICAL) | `FailJob`, retries = the budget left, back-off of the budget  |
//! | `Exhausted`                  | `FailJob`, 0 retries: an incident an operator resolves          |
//! | `AwaitReconciliation`        | `FailJob` with the job's retries unchanged (a wait, not a failure), until the reconciliation deadline; then an incident that says the outcome is unknown |
//!
//! Workers never decide: the aggregate does. The order service learns the outcome from the
//! integration event and stays the only owner of the task's state (ADR 0037).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use common_kernel::context::RequestContext;
use domain_kernel::{ActorId, TenantId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use workflow_runtime::{JobContext, JobError, Registry, WorkerConfig, handler};

use crate::app::{AppError, ExecuteRequest, Executor};
use crate::domain::key::{FulfilmentTaskId, OrderId, OrderItemId};
use crate::domain::{BusinessIdentity, ExternalCommand, IdempotencyKey, Operation, Step};

/// The actor external calls are made as.
pub const WORKER_ACTOR: &str = "integration-worker";

/// How the workers run.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Jobs of one type in progress at once.
    pub concurrency: u32,
    /// How long a job may stay activated before the engine offers it again (longer than a
    /// timeout plus a status query).
    pub job_timeout: Duration,
    /// How long to wait between two status queries of an unknown outcome.
    pub reconcile_interval: Duration,
    /// How long an outcome may stay unknown before an operator is asked to verify it.
    pub reconcile_deadline: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            concurrency: 32,
            job_timeout: Duration::from_secs(60),
            reconcile_interval: Duration::from_secs(2),
            reconcile_deadline: Duration::from_secs(15 * 60),
        }
    }
}

/// The variables every external-call job reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalCallVariables {
    /// The tenant.
    pub tenant_id: String,
    /// The order.
    pub order_id: OrderId,
    /// The item, when the effect serves one.
    #[serde(default)]
    pub order_item_id: Option<OrderItemId>,
    /// The fulfilment task (the order service's id).
    pub task_id: FulfilmentTaskId,
    /// The command in the core's words (the task's input mapping).
    pub request: Value,
}

/// What a completed job tells the process.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalCallOutput {
    /// The call's outcome, in the core's words.
    pub external_call: ExternalCallSummary,
}

/// The core's view of a finished external call.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalCallSummary {
    /// The key the downstream knows the effect by.
    pub idempotency_key: String,
    /// `SUCCEEDED` (a completed job) or `REJECTED_BUSINESS` (the error's variables).
    pub outcome: String,
    /// The downstream's reference of what was created or changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_reference: Option<String>,
    /// The state in the core's words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_state: Option<String>,
    /// The downstream's refusal code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_code: Option<String>,
}

fn context(tenant: TenantId, job: &JobContext) -> Result<RequestContext, JobError> {
    let actor = ActorId::parse(WORKER_ACTOR)
        .map_err(|e| JobError::technical(format!("the worker's actor id: {e}")))?;
    Ok(job.worker_context(tenant, actor, "integration"))
}

/// A failure no retry fixes (bad variables): an incident at once.
fn incident(message: String) -> JobError {
    JobError::technical(message).with_retries(0)
}

/// Maps a step to the job's outcome (the table above).
pub fn job_outcome(
    step: Step,
    operation: Operation,
    task_id: FulfilmentTaskId,
    key: &IdempotencyKey,
    job: &JobContext,
    settings: &WorkerSettings,
) -> Result<ExternalCallOutput, JobError> {
    match step {
        Step::Done(result) => Ok(ExternalCallOutput {
            external_call: ExternalCallSummary {
                idempotency_key: key.to_string(),
                outcome: "SUCCEEDED".into(),
                external_reference: result.external_reference,
                external_state: Some(result.external_state),
                failure_code: None,
            },
        }),
        Step::Refused(rejection) => {
            let variables = serde_json::json!({
                "falloutReason": format!("{}: {}", rejection.code, rejection.message),
                "rejectedTaskId": task_id.to_string(),
                "externalCall": ExternalCallSummary {
                    idempotency_key: key.to_string(),
                    outcome: "REJECTED_BUSINESS".into(),
                    external_reference: None,
                    external_state: None,
                    failure_code: Some(rejection.code.clone()),
                },
            });
            let error = JobError::business(
                operation.system().rejection_error_code(),
                format!(
                    "{operation} refused: {} ({})",
                    rejection.message, rejection.code
                ),
            );
            Err(error
                .with_variables(&variables)
                .map_err(|e| incident(format!("the refusal's variables: {e}")))?)
        }
        Step::RetryAfter {
            remaining,
            wait,
            reason,
        } => Err(JobError::technical(format!(
            "FAILED_TECHNICAL: {operation} not applied ({reason}); {remaining} attempts left"
        ))
        .retry_after(wait)
        .with_retries(i32::try_from(remaining).unwrap_or(i32::MAX))),
        Step::Exhausted { reason } => Err(incident(format!(
            "FAILED_TECHNICAL: {operation} not applied and its retry budget is spent ({reason}); \
             resolve the incident to retry with key {key}"
        ))),
        Step::AwaitReconciliation { since, reason } => {
            let waited = (Utc::now() - since).to_std().unwrap_or_default();
            if waited >= settings.reconcile_deadline {
                Err(incident(format!(
                    "OUTCOME_UNKNOWN: {operation} with key {key} may or may not be applied and the \
                     downstream has not said for {}s ({reason}); verify with the downstream, then \
                     resolve the incident (it asks again before sending anything)",
                    waited.as_secs()
                )))
            } else {
                Err(JobError::technical(format!(
                    "OUTCOME_UNKNOWN: awaiting reconciliation of {operation} with key {key} ({reason})"
                ))
                .retry_after(settings.reconcile_interval)
                .with_retries(job.retries.max(1)))
            }
        }
    }
}

fn app_failure(error: AppError) -> JobError {
    match error {
        AppError::Command(e) => incident(format!("INVALID_EXTERNAL_REQUEST: {e}")),
        AppError::Corrupt(_)
        | AppError::Encoding(_)
        | AppError::Key(_)
        | AppError::Forbidden(_)
        | AppError::NotFound(_) => incident(format!("{}: {error}", error.code())),
        // Another activation holds the operation, or the database blinked: ask again soon
        // without using a retry up (nothing was decided here).
        AppError::Concurrent(_) | AppError::Transition(_) | AppError::Database(_) => {
            JobError::technical(format!("{}: {error}", error.code()))
                .retry_after(Duration::from_secs(1))
        }
    }
}

/// Runs one external-call job of `operation`.
pub async fn run(
    executor: &Executor,
    settings: &WorkerSettings,
    operation: Operation,
    job: &JobContext,
    vars: ExternalCallVariables,
) -> Result<ExternalCallOutput, JobError> {
    let tenant = TenantId::parse(&vars.tenant_id)
        .map_err(|e| incident(format!("tenantId {:?}: {e}", vars.tenant_id)))?;
    let command = ExternalCommand::from_request(operation, &vars.request)
        .map_err(|e| incident(format!("INVALID_EXTERNAL_REQUEST: {e}")))?;
    let identity = BusinessIdentity {
        tenant: tenant.clone(),
        order_id: vars.order_id,
        order_item_id: vars.order_item_id,
        task_id: vars.task_id,
        operation,
    };
    let key = IdempotencyKey::derive(&identity);
    let ctx = context(tenant, job)?;
    let span = tracing::info_span!(
        "external_call",
        job_key = job.job_key,
        operation = %operation,
        idempotency_key = %key,
        order_id = %identity.order_id,
        task_id = %identity.task_id,
        correlation_id = %ctx.correlation_id,
    );
    let vars_task = identity.task_id;
    let request = ExecuteRequest {
        identity,
        command,
        job_key: Some(job.job_key),
    };
    let step = tracing::Instrument::instrument(executor.execute(&ctx, &request), span)
        .await
        .map_err(app_failure)?;
    job_outcome(step, operation, vars_task, &key, job, settings)
}

/// Every external-call job type with its handler.
pub fn registry(executor: Executor, settings: WorkerSettings) -> Registry {
    let shared = Arc::new((executor, settings));
    Operation::ALL
        .into_iter()
        .fold(Registry::new(), |registry, operation| {
            let deps = Arc::clone(&shared);
            let config = WorkerConfig {
                max_concurrent_jobs: deps.1.concurrency,
                job_timeout: deps.1.job_timeout,
                ..WorkerConfig::new(operation.job_type())
            };
            registry.register(
                config,
                handler(move |job: JobContext, vars: ExternalCallVariables| {
                    let deps = Arc::clone(&deps);
                    async move { run(&deps.0, &deps.1, operation, &job, vars).await }
                }),
            )
        })
}
