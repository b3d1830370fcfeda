//! The `order-fulfillment` process's `order.*` workers (workflow/README.md). Each is a thin
//! adapter from the job to one [`Fulfilment`] command and from its answer to the engine; none
//! touches the database itself. A step the order refuses throws a BPMN error the process
//! catches into its fallout path; a transient failure (database, catalog) fails the job with a
//! back-off; anything else raises an incident an operator sees.

use std::sync::Arc;
use std::time::Duration;

use common_kernel::context::RequestContext;
use domain_kernel::{ActorId, TenantId};
use serde::{Deserialize, Serialize};
use serde_json::json;
use workflow_runtime::{JobContext, JobError, Registry, WorkerConfig, handler};

use crate::app::fulfilment::{Advance, FalloutReport, StepOutcome, TaskResult};
use crate::app::{AppError, Fulfilment};
use crate::domain::{Failure, FulfilmentTaskId, OrderId};

/// The job types, one per order command.
pub mod job_types {
    /// ACKNOWLEDGED → VALIDATED.
    pub const VALIDATE: &str = "order.validate";
    /// VALIDATED → DECOMPOSED (the plan).
    pub const DECOMPOSE: &str = "order.decompose";
    /// Record the last batch, dispatch the ready tasks.
    pub const ADVANCE: &str = "order.advance";
    /// IN_PROGRESS → COMPLETED.
    pub const COMPLETE: &str = "order.complete";
    /// A caught BPMN error: the order falls out.
    pub const RECORD_FALLOUT: &str = "order.record-fallout";
}

/// The actor the workers act as.
pub const WORKFLOW_ACTOR: &str = "order-workflow";

/// How the workers run.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Jobs of one type in progress at once.
    pub concurrency: u32,
    /// How long a job may stay activated before the engine offers it again.
    pub job_timeout: Duration,
}

/// What every order job reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderVariables {
    /// The tenant.
    pub tenant_id: String,
    /// The order.
    pub order_id: OrderId,
    /// The last batch's results (advance).
    #[serde(default)]
    pub task_results: Option<Vec<Option<TaskResult>>>,
    /// The step that failed (record-fallout).
    #[serde(default)]
    pub fallout_step: Option<String>,
    /// The error code caught (record-fallout).
    #[serde(default)]
    pub fallout_code: Option<String>,
    /// Why (record-fallout).
    #[serde(default)]
    pub fallout_reason: Option<String>,
    /// The task whose external call was refused (record-fallout).
    #[serde(default)]
    pub rejected_task_id: Option<FulfilmentTaskId>,
}

/// What a completed step tells the process.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepDone {
    /// The order's step that ran.
    pub order_step: &'static str,
}

fn context(vars: &OrderVariables, job: &JobContext) -> Result<RequestContext, JobError> {
    let tenant = TenantId::parse(&vars.tenant_id)
        .map_err(|e| incident(format!("tenantId {:?}: {e}", vars.tenant_id)))?;
    let actor = ActorId::parse(WORKFLOW_ACTOR)
        .map_err(|e| incident(format!("the worker's actor id: {e}")))?;
    Ok(job.worker_context(tenant, actor, "order"))
}

fn incident(message: String) -> JobError {
    JobError::technical(message).with_retries(0)
}

fn app_failure(error: AppError) -> JobError {
    if error.is_transient() {
        JobError::technical(format!("{}: {error}", error.code()))
            .retry_after(Duration::from_secs(1))
    } else {
        incident(format!("{}: {error}", error.code()))
    }
}

fn refusal(code: &str, failure: &Failure) -> JobError {
    let error = JobError::business(code, format!("{}: {}", failure.code, failure.reason));
    match error
        .with_variables(&json!({"falloutReason": format!("{}: {}", failure.code, failure.reason)}))
    {
        Ok(error) => error,
        Err(e) => incident(format!("the refusal's variables: {e}")),
    }
}

async fn validate(
    deps: &Fulfilment,
    job: &JobContext,
    vars: OrderVariables,
) -> Result<StepDone, JobError> {
    let ctx = context(&vars, job)?;
    match deps
        .validate(&ctx, vars.order_id)
        .await
        .map_err(app_failure)?
    {
        StepOutcome::Done(()) => Ok(StepDone {
            order_step: "VALIDATED",
        }),
        StepOutcome::Refused(failure) => Err(refusal("VALIDATION_FAILED", &failure)),
    }
}

/// What the decomposition tells the process.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decomposed {
    /// The plan's hash.
    pub plan_hash: String,
}

async fn decompose(
    deps: &Fulfilment,
    job: &JobContext,
    vars: OrderVariables,
) -> Result<Decomposed, JobError> {
    let ctx = context(&vars, job)?;
    match deps
        .decompose(&ctx, vars.order_id)
        .await
        .map_err(app_failure)?
    {
        StepOutcome::Done(plan_hash) => Ok(Decomposed { plan_hash }),
        StepOutcome::Refused(failure) => Err(refusal("DECOMPOSITION_FAILED", &failure)),
    }
}

async fn advance(
    deps: &Fulfilment,
    job: &JobContext,
    vars: OrderVariables,
) -> Result<Advance, JobError> {
    let ctx = context(&vars, job)?;
    let results: Vec<TaskResult> = vars
        .task_results
        .clone()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect();
    deps.advance(&ctx, vars.order_id, &results)
        .await
        .map_err(app_failure)
}

async fn complete(
    deps: &Fulfilment,
    job: &JobContext,
    vars: OrderVariables,
) -> Result<StepDone, JobError> {
    let ctx = context(&vars, job)?;
    match deps
        .complete(&ctx, vars.order_id)
        .await
        .map_err(app_failure)?
    {
        StepOutcome::Done(()) => Ok(StepDone {
            order_step: "COMPLETED",
        }),
        StepOutcome::Refused(failure) => Err(refusal("ORDER_HALTED", &failure)),
    }
}

async fn record_fallout(
    deps: &Fulfilment,
    job: &JobContext,
    vars: OrderVariables,
) -> Result<StepDone, JobError> {
    let ctx = context(&vars, job)?;
    let report = FalloutReport {
        step: vars
            .fallout_step
            .clone()
            .unwrap_or_else(|| "EXECUTE_TASKS".into()),
        code: vars
            .fallout_code
            .clone()
            .unwrap_or_else(|| "FULFILMENT_ERROR".into()),
        reason: vars.fallout_reason.clone().unwrap_or_default(),
        task: vars.rejected_task_id,
    };
    deps.record_fallout(&ctx, vars.order_id, &report)
        .await
        .map_err(app_failure)?;
    Ok(StepDone {
        order_step: "FALLOUT",
    })
}

/// Whether failing the job with `error` leaves it without retries: the engine raises an
/// incident.
fn becomes_incident(error: &JobError, job: &JobContext) -> bool {
    match error {
        JobError::Technical { retries, .. } => {
            retries.is_some_and(|left| left <= 0) || (retries.is_none() && job.is_last_attempt())
        }
        JobError::Business { .. } => false,
    }
}

/// Mirrors the incident a step is about to raise as the order's WORKFLOW fallout
/// (`INCIDENT_<STEP>`), so operators see it in the queue; retrying that fallout starts a new
/// run, which supersedes the stuck instance and so resolves the incident. A failure to record
/// it is logged: the incident itself still shows in the engine.
async fn mirror_incident(
    deps: &Fulfilment,
    job: &JobContext,
    tenant: &str,
    order: OrderId,
    job_type: &str,
    error: &JobError,
) {
    let Ok(ctx) = TenantId::parse(tenant).and_then(|tenant| {
        ActorId::parse(WORKFLOW_ACTOR).map(|actor| job.worker_context(tenant, actor, "order"))
    }) else {
        return;
    };
    if let Err(failed) = deps
        .mirror_incident(&ctx, order, job_type, &error.to_string())
        .await
    {
        tracing::warn!(%order, job_type, error = %failed, "the incident could not be mirrored as fallout");
    }
}

/// Every `order.*` job type with its handler.
pub fn registry(fulfilment: Fulfilment, settings: &WorkerSettings) -> Registry {
    let deps = Arc::new(fulfilment);
    let config = |job_type: &'static str| WorkerConfig {
        max_concurrent_jobs: settings.concurrency,
        job_timeout: settings.job_timeout,
        ..WorkerConfig::new(job_type)
    };
    // One registration per step: the handler clones the shared commands into its future.
    macro_rules! step {
        ($registry:expr, $job_type:expr, $run:ident) => {{
            let deps = Arc::clone(&deps);
            $registry.register(
                config($job_type),
                handler(move |job: JobContext, vars: OrderVariables| {
                    let deps = Arc::clone(&deps);
                    async move {
                        let (tenant, order) = (vars.tenant_id.clone(), vars.order_id);
                        match $run(&deps, &job, vars).await {
                            Err(error) if becomes_incident(&error, &job) => {
                                mirror_incident(&deps, &job, &tenant, order, $job_type, &error)
                                    .await;
                                Err(error)
                            }
                            other => other,
                        }
                    }
                }),
            )
        }};
    }
    let registry = step!(Registry::new(), job_types::VALIDATE, validate);
    let registry = step!(registry, job_types::DECOMPOSE, decompose);
    let registry = step!(registry, job_types::ADVANCE, advance);
    let registry = step!(registry, job_types::COMPLETE, complete);
    step!(registry, job_types::RECORD_FALLOUT, record_fallout)
}
