//! An activated job as the runtime sees it, independent of the generated protocol types so
//! that handler tests can build one by hand.

use crate::proto;

/// A job handed to this worker by `ActivateJobs`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Job {
    /// Job key: the handle for complete / fail / throw error.
    pub key: i64,
    /// Job type (`zeebe:taskDefinition type`).
    pub job_type: String,
    /// Retries left (Zeebe decrements only when the worker says so in `FailJob`).
    pub retries: i32,
    /// Task headers as a JSON object text.
    pub custom_headers: String,
    /// Variables as a JSON object text.
    pub variables: String,
    /// Owning process instance.
    pub process_instance_key: i64,
    /// BPMN process id of the instance's definition.
    pub bpmn_process_id: String,
    /// Process definition key.
    pub process_definition_key: i64,
    /// Process definition version.
    pub process_definition_version: i32,
    /// BPMN element id of the service task.
    pub element_id: String,
    /// Element instance key of the service task.
    pub element_instance_key: i64,
    /// Activation deadline (epoch milliseconds): the job is given to another worker after it.
    pub deadline: i64,
    /// Tenant id (empty or `<default>` outside multi-tenancy).
    pub tenant_id: String,
}

impl From<proto::ActivatedJob> for Job {
    fn from(job: proto::ActivatedJob) -> Self {
        Self {
            key: job.key,
            job_type: job.r#type,
            retries: job.retries,
            custom_headers: job.custom_headers,
            variables: job.variables,
            process_instance_key: job.process_instance_key,
            bpmn_process_id: job.bpmn_process_id,
            process_definition_key: job.process_definition_key,
            process_definition_version: job.process_definition_version,
            element_id: job.element_id,
            element_instance_key: job.element_instance_key,
            deadline: job.deadline,
            tenant_id: job.tenant_id,
        }
    }
}
