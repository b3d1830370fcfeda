//! `Gateway` trait implementation; RPCs not listed here answer UNIMPLEMENTED (generated stubs).

use std::pin::Pin;
use std::time::Duration;

use futures::Stream;
use serde_json::{Map, Value as Json};
use tonic::{Request, Response, Status};

use super::proto::{self, gateway_server::Gateway};
use crate::app::{ActivateRequest, CreateInstance, Engine, InstanceCreated, PublishMessage};

/// The gRPC service over an [`Engine`].
#[derive(Debug, Clone)]
pub struct GatewayService {
    engine: Engine,
}

impl GatewayService {
    /// Serves `engine` over the Zeebe gateway protocol.
    pub fn new(engine: Engine) -> Self {
        Self { engine }
    }
}

type JobStream = Pin<Box<dyn Stream<Item = Result<proto::ActivateJobsResponse, Status>> + Send>>;

fn to_json(map: &Map<String, Json>) -> String {
    Json::Object(map.clone()).to_string()
}

fn create_request(request: proto::CreateProcessInstanceRequest) -> Result<CreateInstance, Status> {
    if !request.start_instructions.is_empty() {
        return Err(Status::unimplemented(
            "start instructions are not supported by the embedded engine",
        ));
    }
    Ok(CreateInstance {
        process_definition_key: (request.process_definition_key > 0)
            .then_some(request.process_definition_key),
        bpmn_process_id: request.bpmn_process_id,
        version: request.version,
        variables: request.variables,
    })
}

fn created(c: InstanceCreated) -> proto::CreateProcessInstanceResponse {
    proto::CreateProcessInstanceResponse {
        process_definition_key: c.process_definition_key,
        bpmn_process_id: c.bpmn_process_id,
        version: c.version,
        process_instance_key: c.process_instance_key,
        tenant_id: "<default>".to_owned(),
    }
}

#[tonic::async_trait]
impl Gateway for GatewayService {
    async fn topology(
        &self,
        _: Request<proto::TopologyRequest>,
    ) -> Result<Response<proto::TopologyResponse>, Status> {
        let version = format!("{}-embedded", env!("CARGO_PKG_VERSION"));
        Ok(Response::new(proto::TopologyResponse {
            brokers: vec![proto::BrokerInfo {
                node_id: 0,
                host: "embedded".to_owned(),
                port: 0,
                partitions: vec![proto::Partition {
                    partition_id: 1,
                    role: proto::partition::PartitionBrokerRole::Leader.into(),
                    health: proto::partition::PartitionBrokerHealth::Healthy.into(),
                }],
                version: version.clone(),
            }],
            cluster_size: 1,
            partitions_count: 1,
            replication_factor: 1,
            gateway_version: version,
        }))
    }

    async fn deploy_resource(
        &self,
        request: Request<proto::DeployResourceRequest>,
    ) -> Result<Response<proto::DeployResourceResponse>, Status> {
        let resources = request
            .into_inner()
            .resources
            .into_iter()
            .map(|r| (r.name, r.content))
            .collect();
        let (key, deployed) = self.engine.deploy(resources).await?;
        Ok(Response::new(proto::DeployResourceResponse {
            key,
            deployments: deployed
                .into_iter()
                .map(|d| proto::Deployment {
                    metadata: Some(proto::deployment::Metadata::Process(
                        proto::ProcessMetadata {
                            bpmn_process_id: d.bpmn_process_id,
                            version: d.version,
                            process_definition_key: d.process_definition_key,
                            resource_name: d.resource_name,
                            tenant_id: "<default>".to_owned(),
                        },
                    )),
                })
                .collect(),
            tenant_id: "<default>".to_owned(),
        }))
    }

    async fn create_process_instance(
        &self,
        request: Request<proto::CreateProcessInstanceRequest>,
    ) -> Result<Response<proto::CreateProcessInstanceResponse>, Status> {
        let request = create_request(request.into_inner())?;
        Ok(Response::new(created(
            self.engine.create_instance(&request).await?,
        )))
    }

    async fn create_process_instance_with_result(
        &self,
        request: Request<proto::CreateProcessInstanceWithResultRequest>,
    ) -> Result<Response<proto::CreateProcessInstanceWithResultResponse>, Status> {
        let request = request.into_inner();
        let create = create_request(request.request.unwrap_or_default())?;
        let timeout = u64::try_from(request.request_timeout)
            .ok()
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis);
        let result = self
            .engine
            .create_instance_with_result(&create, timeout, &request.fetch_variables)
            .await?;
        let c = result.created;
        Ok(Response::new(
            proto::CreateProcessInstanceWithResultResponse {
                process_definition_key: c.process_definition_key,
                bpmn_process_id: c.bpmn_process_id,
                version: c.version,
                process_instance_key: c.process_instance_key,
                variables: to_json(&result.variables),
                tenant_id: "<default>".to_owned(),
            },
        ))
    }

    async fn cancel_process_instance(
        &self,
        request: Request<proto::CancelProcessInstanceRequest>,
    ) -> Result<Response<proto::CancelProcessInstanceResponse>, Status> {
        self.engine
            .cancel_instance(request.into_inner().process_instance_key)
            .await?;
        Ok(Response::new(proto::CancelProcessInstanceResponse {}))
    }

    async fn activate_jobs(
        &self,
        request: Request<proto::ActivateJobsRequest>,
    ) -> Result<Response<JobStream>, Status> {
        let r = request.into_inner();
        let long_poll = match r.request_timeout {
            t if t < 0 => None,
            0 => Some(self.engine_default_long_poll()),
            // Answer a little before the client's own deadline so the empty reply arrives.
            t => Some(Duration::from_millis(u64::try_from(t).unwrap_or(0)).mul_f64(0.95)),
        };
        let jobs = self
            .engine
            .activate_jobs(&ActivateRequest {
                job_type: r.r#type,
                worker: r.worker,
                timeout_ms: r.timeout,
                max_jobs: r.max_jobs_to_activate,
                fetch_variables: r.fetch_variable,
                long_poll,
            })
            .await?;
        let response = proto::ActivateJobsResponse {
            jobs: jobs
                .into_iter()
                .map(|a| proto::ActivatedJob {
                    key: a.job.key,
                    r#type: a.job.job_type,
                    process_instance_key: a.job.process_instance_key,
                    bpmn_process_id: a.job.bpmn_process_id,
                    process_definition_version: a.job.process_definition_version,
                    process_definition_key: a.job.process_definition_key,
                    element_id: a.job.element_id,
                    element_instance_key: a.job.element_instance_key,
                    custom_headers: a.job.custom_headers.to_string(),
                    worker: a.job.worker.unwrap_or_default(),
                    retries: a.job.retries,
                    deadline: a.job.deadline_ms,
                    variables: to_json(&a.variables),
                    tenant_id: "<default>".to_owned(),
                })
                .collect(),
        };
        let stream: JobStream = Box::pin(futures::stream::iter([Ok(response)]));
        Ok(Response::new(stream))
    }

    async fn complete_job(
        &self,
        request: Request<proto::CompleteJobRequest>,
    ) -> Result<Response<proto::CompleteJobResponse>, Status> {
        let r = request.into_inner();
        // Corrections (assignee, dates, candidates, priority) are not applied (ADR 0034).
        let denied = r.result.and_then(|result| result.denied).unwrap_or(false);
        self.engine
            .complete_job(r.job_key, &r.variables, denied)
            .await?;
        Ok(Response::new(proto::CompleteJobResponse {}))
    }

    async fn fail_job(
        &self,
        request: Request<proto::FailJobRequest>,
    ) -> Result<Response<proto::FailJobResponse>, Status> {
        let r = request.into_inner();
        self.engine
            .fail_job(
                r.job_key,
                r.retries,
                &r.error_message,
                r.retry_back_off,
                &r.variables,
            )
            .await?;
        Ok(Response::new(proto::FailJobResponse {}))
    }

    async fn throw_error(
        &self,
        request: Request<proto::ThrowErrorRequest>,
    ) -> Result<Response<proto::ThrowErrorResponse>, Status> {
        let r = request.into_inner();
        self.engine
            .throw_error(r.job_key, &r.error_code, &r.error_message, &r.variables)
            .await?;
        Ok(Response::new(proto::ThrowErrorResponse {}))
    }

    async fn update_job_retries(
        &self,
        request: Request<proto::UpdateJobRetriesRequest>,
    ) -> Result<Response<proto::UpdateJobRetriesResponse>, Status> {
        let r = request.into_inner();
        self.engine.update_job_retries(r.job_key, r.retries).await?;
        Ok(Response::new(proto::UpdateJobRetriesResponse {}))
    }

    async fn resolve_incident(
        &self,
        request: Request<proto::ResolveIncidentRequest>,
    ) -> Result<Response<proto::ResolveIncidentResponse>, Status> {
        self.engine
            .resolve_incident(request.into_inner().incident_key)
            .await?;
        Ok(Response::new(proto::ResolveIncidentResponse {}))
    }

    async fn publish_message(
        &self,
        request: Request<proto::PublishMessageRequest>,
    ) -> Result<Response<proto::PublishMessageResponse>, Status> {
        let r = request.into_inner();
        let key = self
            .engine
            .publish_message(&PublishMessage {
                name: r.name,
                correlation_key: r.correlation_key,
                time_to_live_ms: r.time_to_live,
                message_id: r.message_id,
                variables: r.variables,
            })
            .await?;
        Ok(Response::new(proto::PublishMessageResponse {
            key,
            tenant_id: "<default>".to_owned(),
        }))
    }

    async fn set_variables(
        &self,
        request: Request<proto::SetVariablesRequest>,
    ) -> Result<Response<proto::SetVariablesResponse>, Status> {
        let r = request.into_inner();
        let key = self
            .engine
            .set_variables(r.element_instance_key, &r.variables, r.local)
            .await?;
        Ok(Response::new(proto::SetVariablesResponse { key }))
    }
}

impl GatewayService {
    fn engine_default_long_poll(&self) -> Duration {
        self.engine.config().default_long_poll
    }
}
