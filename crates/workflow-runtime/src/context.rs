//! What a handler knows about the job it runs besides its typed input.

use std::collections::BTreeMap;

use common_kernel::access::{Authority, Role};
use common_kernel::context::{ActorType, RequestContext};
use common_kernel::ids::{ActorId, TenantId};

use crate::correlation::Correlation;
use crate::job::Job;

/// The job's identity, process position, task headers and correlation. Plain data with public
/// fields and `Default`, so handler tests build one with struct-update syntax.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobContext {
    /// Job key (also the idempotency key of side effects: a job may be delivered twice).
    pub job_key: i64,
    /// Job type.
    pub job_type: String,
    /// Retries left when activated; `1` means this is the last attempt.
    pub retries: i32,
    /// Task headers (`zeebe:taskHeaders`), static configuration of the task.
    pub custom_headers: BTreeMap<String, String>,
    /// Owning process instance.
    pub process_instance_key: i64,
    /// BPMN process id.
    pub bpmn_process_id: String,
    /// Process definition key.
    pub process_definition_key: i64,
    /// BPMN element id of the service task.
    pub element_id: String,
    /// Element instance key.
    pub element_instance_key: i64,
    /// Correlation fields read from the variables.
    pub correlation: Correlation,
}

impl JobContext {
    /// Builds the context of an activated job; unreadable headers become empty (logged),
    /// because headers are configuration and the handler decides whether it needs them.
    pub fn new(job: &Job, correlation: Correlation) -> Self {
        let custom_headers = if job.custom_headers.trim().is_empty() {
            BTreeMap::new()
        } else {
            serde_json::from_str(&job.custom_headers).unwrap_or_else(|error| {
                tracing::warn!(job_key = job.key, %error, "custom headers are not a string map");
                BTreeMap::new()
            })
        };
        Self {
            job_key: job.key,
            job_type: job.job_type.clone(),
            retries: job.retries,
            custom_headers,
            process_instance_key: job.process_instance_key,
            bpmn_process_id: job.bpmn_process_id.clone(),
            process_definition_key: job.process_definition_key,
            element_id: job.element_id.clone(),
            element_instance_key: job.element_instance_key,
            correlation,
        }
    }

    /// A task header by name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.custom_headers.get(name).map(String::as_str)
    }

    /// The context a worker's command runs in: `actor`, a workflow worker of the service
    /// `client`, acting on its own in `tenant`, with the job's correlation fields and the job
    /// as the cause. The inverse of [`Correlation::from_request`].
    pub fn worker_context(&self, tenant: TenantId, actor: ActorId, client: &str) -> RequestContext {
        let mut ctx = RequestContext::system(
            tenant,
            actor,
            ActorType::WorkflowWorker,
            "workflow",
            Authority {
                roles: vec![Role::WorkflowWorker],
                client: client.to_owned(),
                ..Authority::default()
            },
        );
        if let Some(id) = &self.correlation.correlation_id {
            ctx.correlation_id = id.clone();
        }
        if let Some(id) = &self.correlation.business_transaction_id {
            ctx.business_transaction_id = id.clone();
        }
        ctx.causation_id = Some(format!("job:{}", self.job_key));
        ctx.traceparent = self.correlation.traceparent.clone();
        ctx
    }

    /// Whether a failure now leaves no retries (the next failure raises an incident).
    pub fn is_last_attempt(&self) -> bool {
        self.retries <= 1
    }
}
