//! ResolveIncident (gRPC and the operator view): a job incident makes the job activatable
//! again; an element incident re-runs what failed (activation, completion, or the creation of a
//! task listener's job).

use serde_json::{Map, Value as Json};

use super::Engine;
use super::commands::{lock_active, no_retries, raise_job_incident};
use super::run::Run;
use crate::error::EngineError;
use crate::store;

impl Engine {
    /// Resolves an incident: a job incident makes the job activatable again (a new incident if
    /// it still has no retries); an element incident re-runs what failed.
    pub async fn resolve_incident(&self, incident_key: i64) -> Result<(), EngineError> {
        self.resolve_incident_with(incident_key, None).await
    }

    /// Resolves an incident, first setting its job's retries when `retries` is given (the
    /// operator's one-step "retry"), in one transaction.
    #[tracing::instrument(skip_all, fields(incident_key), err)]
    pub async fn resolve_incident_with(
        &self,
        incident_key: i64,
        retries: Option<i32>,
    ) -> Result<(), EngineError> {
        if let Some(r) = retries
            && r < 1
        {
            return Err(EngineError::InvalidArgument(format!(
                "Expected retries to be greater than zero, but was '{r}'"
            )));
        }
        let not_found = || {
            EngineError::NotFound(format!(
                "Expected to resolve incident with key '{incident_key}', but no such incident was found"
            ))
        };
        let mut tx = self.begin().await?;
        let instance_key = store::incidents::instance_of(&mut tx, incident_key)
            .await?
            .ok_or_else(not_found)?;
        let instance = lock_active(&mut tx, instance_key).await?;
        let incident = store::incidents::take(&mut tx, incident_key)
            .await?
            .ok_or_else(not_found)?;
        let model = self
            .definitions
            .get(&mut tx, instance.definition_key)
            .await?;
        if let Some(job_key) = incident.job_key {
            let mut job = store::jobs::lock(&mut tx, job_key)
                .await?
                .ok_or_else(not_found)?;
            if let Some(retries) = retries {
                store::jobs::set_retries(&mut tx, job_key, retries).await?;
                job.retries = retries;
            }
            if job.retries > 0 {
                store::jobs::reactivate(&mut tx, job_key).await?;
                store::notify(&mut tx, store::JOB_CHANNEL, &job.job_type).await?;
            } else {
                let kind = no_retries(&job);
                raise_job_incident(&mut tx, &instance, &job, kind, &incident.error_message).await?;
            }
        } else {
            if retries.is_some() {
                return Err(EngineError::InvalidArgument(format!(
                    "Incident '{incident_key}' ({}) has no job whose retries could be set; resolve it without retries",
                    incident.error_type
                )));
            }
            let element = store::instances::element(&mut tx, incident.element_instance_key)
                .await?
                .ok_or_else(not_found)?;
            if element.resume == "LISTENER" {
                self.resume_listener(&mut tx, &instance, &element).await?;
                tx.commit().await?;
                return Ok(());
            }
            let mut run = Run::new(&mut tx, &model, &instance).await?;
            if element.resume == "COMPLETE" {
                let variables = match element.completion_variables {
                    Some(Json::Object(map)) => map,
                    _ => Map::new(),
                };
                run.complete_element(element.key, &element.element_id, &variables)
                    .await?;
            } else if let Some(body) = element.flow_scope_key {
                run.reenter_inner(body, element.key);
            } else {
                run.reenter(&element.element_id, element.key)?;
            }
            run.drain().await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
