//! The job workers of `quote-approval` (workflow/README.md): every job type the process uses is
//! served here, each a thin adapter from job variables to one application command or query on
//! the request's tenant (the app role's pool, under row-level security). Workers never decide:
//! the aggregate does; a worker only reports what it decided back to the engine.

mod check_decision;
mod levels;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use common_kernel::context::RequestContext;
use domain_kernel::{ActorId, TenantId};
use serde::Deserialize;
use sqlx::PgPool;
use workflow_runtime::{JobContext, JobError, Registry, WorkerConfig, handler};

use crate::app::error::AppError;
use crate::app::ports::Ports;
use crate::domain::{ApprovalRequestId, ApproverRouting};

pub use check_decision::{CompletionVariables, DecisionCheck, check_decision};
pub use levels::{LevelOffer, open_level};

/// Job types, as the BPMN names them.
pub mod job_types {
    /// Reads the request's open level for the next user task.
    pub const OPEN_LEVEL: &str = "approval.open-level";
    /// The user task's completing listener: records the decision or denies the completion.
    pub const CHECK_DECISION: &str = "approval.check-decision";
    /// The due date passed: remind the assigned groups.
    pub const SEND_REMINDER: &str = "approval.send-reminder";
    /// Still undecided after the grace: hand the level to the next group.
    pub const ESCALATE: &str = "approval.escalate";
}

/// What the workers share.
#[derive(Debug, Clone)]
pub struct WorkerDeps {
    /// The app role's pool: every command runs in the request's tenant.
    pub db: PgPool,
    /// Request storage and the approver directory.
    pub ports: Ports,
    /// Who decides each level and how long they have (an escalated level's new due date).
    pub routing: Arc<ApproverRouting>,
    /// How long after its due date an undecided level escalates.
    pub escalate_after_due: Duration,
}

/// The variables every approval job reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestVariables {
    /// The request the instance runs for.
    pub approval_request_id: ApprovalRequestId,
    /// Its tenant.
    pub tenant_id: String,
}

impl RequestVariables {
    /// The tenant, checked.
    pub fn tenant(&self) -> Result<TenantId, JobError> {
        TenantId::parse(&self.tenant_id).map_err(|e| {
            JobError::technical(format!(
                "tenantId {:?} is not a tenant: {e}",
                self.tenant_id
            ))
        })
    }
}

/// The actor the workflow's own steps act as.
pub const WORKFLOW_ACTOR: &str = "approval-workflow";

/// The context a worker's command runs in: the workflow acting on its own, in `tenant`.
pub fn worker_context(tenant: TenantId, job: &JobContext) -> Result<RequestContext, JobError> {
    let actor = ActorId::parse(WORKFLOW_ACTOR)
        .map_err(|e| JobError::technical(format!("the workflow's actor id: {e}")))?;
    Ok(job.worker_context(tenant, actor, "approval"))
}

/// A failure worth retrying (the database, a concurrent change), or one the operator must
/// look at (anything else becomes an incident after the retries).
pub fn technical(error: AppError) -> JobError {
    JobError::technical(format!("{}: {error}", error.code()))
}

fn worker(job_type: &str, concurrency: u32) -> WorkerConfig {
    WorkerConfig {
        max_concurrent_jobs: concurrency,
        job_timeout: StdDuration::from_secs(30),
        ..WorkerConfig::new(job_type)
    }
}

/// Every approval job type with its handler.
pub fn registry(deps: WorkerDeps) -> Registry {
    let deps = Arc::new(deps);
    let open = Arc::clone(&deps);
    let check = Arc::clone(&deps);
    let remind = Arc::clone(&deps);
    let escalate = Arc::clone(&deps);
    Registry::new()
        .register(
            worker(job_types::OPEN_LEVEL, 8),
            handler(move |job: JobContext, vars: RequestVariables| {
                let deps = Arc::clone(&open);
                async move { open_level(&deps, &job, vars).await }
            }),
        )
        .register(
            worker(job_types::CHECK_DECISION, 8),
            check_decision::handler(check),
        )
        .register(
            worker(job_types::SEND_REMINDER, 2),
            handler(move |job: JobContext, vars: RequestVariables| {
                let deps = Arc::clone(&remind);
                async move { levels::send_reminder(&deps, &job, vars).await }
            }),
        )
        .register(
            worker(job_types::ESCALATE, 2),
            handler(move |job: JobContext, vars: RequestVariables| {
                let deps = Arc::clone(&escalate);
                async move { levels::escalate(&deps, &job, vars).await }
            }),
        )
}
