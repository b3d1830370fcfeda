//! One function per gRPC command, each in one transaction.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, Postgres, Transaction};
use workflow_model::bpmn::parse_bpmn;

use super::Engine;
use super::notifier::Wake;
use super::run::Run;
use crate::engine::{self, IncidentType};
use crate::error::EngineError;
use crate::store::{self, instances::InstanceRow};

/// One deployed process, as DeployResource reports it.
#[derive(Debug, Clone)]
pub struct Deployed {
    /// Process id.
    pub bpmn_process_id: String,
    /// Version (unchanged when the same content was deployed before).
    pub version: i32,
    /// Definition key.
    pub process_definition_key: i64,
    /// Resource name.
    pub resource_name: String,
}

/// Which definition to instantiate and with what.
#[derive(Debug, Clone)]
pub struct CreateInstance {
    /// Definition key (wins when non-zero).
    pub process_definition_key: Option<i64>,
    /// Process id.
    pub bpmn_process_id: String,
    /// Version; < 1 means latest.
    pub version: i32,
    /// Variables as a JSON object text (empty for none).
    pub variables: String,
}

/// The created instance.
#[derive(Debug, Clone)]
pub struct InstanceCreated {
    /// Definition key.
    pub process_definition_key: i64,
    /// Process id.
    pub bpmn_process_id: String,
    /// Version.
    pub version: i32,
    /// Instance key.
    pub process_instance_key: i64,
}

/// A completed instance with its variables.
#[derive(Debug, Clone)]
pub struct InstanceResult {
    /// The creation data.
    pub created: InstanceCreated,
    /// The instance variables at completion (filtered by `fetchVariables`).
    pub variables: Map<String, Json>,
}

/// Parses a Zeebe variables document: empty means none, otherwise a JSON object.
pub(crate) fn parse_variables(text: &str) -> Result<Map<String, Json>, EngineError> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Json>(text) {
        Ok(Json::Object(map)) => Ok(map),
        Ok(Json::Null) => Ok(Map::new()),
        Ok(_) => Err(EngineError::InvalidArgument(format!(
            "Expected document to be a root level object, but was '{text}'"
        ))),
        Err(e) => Err(EngineError::bad_variables(&e)),
    }
}

impl Engine {
    pub(super) async fn begin(&self) -> Result<Transaction<'static, Postgres>, EngineError> {
        Ok(self.pool.begin().await?)
    }

    /// Deploys BPMN resources: all or nothing; identical content keeps its version and key.
    #[tracing::instrument(skip_all, err)]
    pub async fn deploy(
        &self,
        resources: Vec<(String, Vec<u8>)>,
    ) -> Result<(i64, Vec<Deployed>), EngineError> {
        let mut parsed = Vec::new();
        for (name, content) in resources {
            let xml = String::from_utf8(content).map_err(|_| {
                EngineError::InvalidArgument(format!("resource '{name}' is not UTF-8 text"))
            })?;
            if !name.ends_with(".bpmn") && !name.ends_with(".xml") {
                return Err(EngineError::InvalidArgument(format!(
                    "Expected to deploy new resources, but encountered the following errors:\n'{name}': unsupported resource type (only BPMN processes are supported by the embedded engine)"
                )));
            }
            let processes = parse_bpmn(&xml).map_err(|e| {
                EngineError::InvalidArgument(format!(
                    "Expected to deploy new resources, but encountered the following errors:\n'{name}': {e}"
                ))
            })?;
            let checksum = Sha256::digest(xml.as_bytes()).to_vec();
            parsed.push((name, xml, checksum, processes));
        }
        let mut tx = self.begin().await?;
        let deployment_key = store::definitions::insert_deployment(&mut tx).await?;
        let mut deployed = Vec::new();
        let mut fresh = Vec::new();
        for (name, xml, checksum, processes) in parsed {
            for process in processes {
                let id = process.bpmn_process_id().to_owned();
                store::definitions::lock_process_id(&mut tx, &id).await?;
                let row =
                    match store::definitions::find_by_checksum(&mut tx, &id, &checksum).await? {
                        Some(row) => row,
                        None => {
                            let row = store::definitions::insert_definition(
                                &mut tx,
                                deployment_key,
                                &id,
                                &name,
                                &checksum,
                                &xml,
                            )
                            .await?;
                            fresh.push((row.key, Arc::new(process)));
                            row
                        }
                    };
                deployed.push(Deployed {
                    bpmn_process_id: row.bpmn_process_id,
                    version: row.version,
                    process_definition_key: row.key,
                    resource_name: row.resource_name,
                });
            }
        }
        tx.commit().await?;
        for (key, model) in fresh {
            self.definitions.put(key, model);
        }
        Ok((deployment_key, deployed))
    }

    /// Creates an instance and steps it until its tokens wait.
    #[tracing::instrument(skip_all, fields(bpmn_process_id = %request.bpmn_process_id), err)]
    pub async fn create_instance(
        &self,
        request: &CreateInstance,
    ) -> Result<InstanceCreated, EngineError> {
        let variables = parse_variables(&request.variables)?;
        let mut tx = self.begin().await?;
        let definition = store::definitions::find(
            &mut tx,
            request.process_definition_key,
            &request.bpmn_process_id,
            request.version,
        )
        .await?
        .ok_or_else(|| match request.process_definition_key {
            Some(key) => EngineError::NotFound(format!(
                "Expected to find process definition with key '{key}', but none found"
            )),
            None => EngineError::NotFound(format!(
                "Expected to find process definition with process ID '{}', but none found",
                request.bpmn_process_id
            )),
        })?;
        let model = self.definitions.get(&mut tx, definition.key).await?;
        let key = store::instances::insert(
            &mut tx,
            definition.key,
            &definition.bpmn_process_id,
            definition.version,
        )
        .await?;
        store::variables::put(&mut tx, key, key, &variables).await?;
        let instance = InstanceRow {
            key,
            definition_key: definition.key,
            bpmn_process_id: definition.bpmn_process_id.clone(),
            version: definition.version,
            state: "ACTIVE".to_owned(),
        };
        let mut run = Run::new(&mut tx, &model, &instance).await?;
        run.start();
        run.drain().await?;
        tx.commit().await?;
        Ok(InstanceCreated {
            process_definition_key: definition.key,
            bpmn_process_id: definition.bpmn_process_id,
            version: definition.version,
            process_instance_key: key,
        })
    }

    /// Creates an instance and waits for it to complete (woken by the instance NOTIFY).
    #[tracing::instrument(skip_all, err)]
    pub async fn create_instance_with_result(
        &self,
        request: &CreateInstance,
        timeout: Option<Duration>,
        fetch: &[String],
    ) -> Result<InstanceResult, EngineError> {
        let mut wakes = self.notifier.subscribe();
        let mut shutdown = self.notifier.shutdown();
        let created = self.create_instance(request).await?;
        let key = created.process_instance_key;
        let deadline =
            tokio::time::Instant::now() + timeout.unwrap_or(self.config.default_result_timeout);
        loop {
            let mut conn = self.pool.acquire().await?;
            match store::instances::state(&mut conn, key).await?.as_deref() {
                Some("COMPLETED") => {
                    let mut variables = store::variables::scope(&mut conn, key).await?;
                    if !fetch.is_empty() {
                        variables.retain(|name, _| fetch.contains(name));
                    }
                    return Ok(InstanceResult { created, variables });
                }
                Some("ACTIVE") => {}
                _ => {
                    return Err(EngineError::FailedPrecondition(format!(
                        "Expected to receive the result of process instance '{key}', but it was terminated"
                    )));
                }
            }
            drop(conn);
            loop {
                tokio::select! {
                    wake = wakes.recv() => match wake {
                        Ok(Wake::InstanceEnded(k)) if k == key => break,
                        Ok(Wake::Resync) | Err(_) => break,
                        Ok(_) => {}
                    },
                    () = tokio::time::sleep_until(deadline) => {
                        return Err(EngineError::DeadlineExceeded(format!(
                            "Time out between gateway and broker: process instance '{key}' did not complete in time"
                        )));
                    }
                    _ = shutdown.changed() => return Err(EngineError::Unavailable),
                }
            }
        }
    }

    /// Cancels an active instance: waiting elements terminated, jobs removed, incidents
    /// resolved.
    #[tracing::instrument(skip_all, fields(process_instance_key = key), err)]
    pub async fn cancel_instance(&self, key: i64) -> Result<(), EngineError> {
        let mut tx = self.begin().await?;
        let instance = lock_active(&mut tx, key).await?;
        store::jobs::delete_for_instance(&mut tx, instance.key).await?;
        store::incidents::resolve_for_instance(&mut tx, instance.key).await?;
        store::instances::terminate_all(&mut tx, instance.key).await?;
        store::instances::end(&mut tx, instance.key, "CANCELED").await?;
        store::notify(&mut tx, store::INSTANCE_CHANNEL, &key.to_string()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Completes a job: its task completes with the variables and the tokens move on. A task
    /// listener's job instead allows the user-task transition it holds, or denies it when
    /// `denied` (the gateway's `JobResult.denied`), which only listener jobs may be.
    #[tracing::instrument(skip_all, fields(job_key, denied), err)]
    pub async fn complete_job(
        &self,
        job_key: i64,
        variables: &str,
        denied: bool,
    ) -> Result<(), EngineError> {
        let variables = parse_variables(variables)?;
        let mut tx = self.begin().await?;
        let (instance, job) = lock_job(&mut tx, job_key, "complete").await?;
        if job.state == "FAILED" || job.state == "ERROR_THROWN" {
            return Err(EngineError::FailedPrecondition(format!(
                "Expected to complete job with key '{job_key}', but it is in state '{}'",
                job.state
            )));
        }
        if job.is_listener() {
            self.complete_listener_job(&mut tx, &instance, &job, &variables, denied)
                .await?;
            tx.commit().await?;
            return Ok(());
        }
        if denied {
            return Err(EngineError::InvalidArgument(format!(
                "Expected to complete job with key '{job_key}' with a denied result, but only task listener jobs can be denied"
            )));
        }
        let model = self
            .definitions
            .get(&mut tx, instance.definition_key)
            .await?;
        store::jobs::delete(&mut tx, job_key).await?;
        let mut run = Run::new(&mut tx, &model, &instance).await?;
        run.complete_element(job.element_instance_key, &job.element_id, &variables)
            .await?;
        run.drain().await?;
        tx.commit().await?;
        Ok(())
    }

    /// Fails a job: retried after the back-off while retries remain, else an incident.
    #[tracing::instrument(skip_all, fields(job_key), err)]
    pub async fn fail_job(
        &self,
        job_key: i64,
        retries: i32,
        error_message: &str,
        back_off_ms: i64,
        variables: &str,
    ) -> Result<(), EngineError> {
        let variables = parse_variables(variables)?;
        let mut tx = self.begin().await?;
        let (instance, job) = lock_job(&mut tx, job_key, "fail").await?;
        if job.state != "ACTIVATED" {
            return Err(EngineError::FailedPrecondition(format!(
                "Expected to fail activated job with key '{job_key}', but it is in state '{}'",
                job.state
            )));
        }
        store::variables::put(&mut tx, instance.key, job.element_instance_key, &variables).await?;
        if retries > 0 {
            store::jobs::retry_later(&mut tx, job_key, retries, back_off_ms, error_message).await?;
            store::notify(&mut tx, store::JOB_CHANNEL, &job.job_type).await?;
        } else {
            store::jobs::park(&mut tx, job_key, "FAILED", 0, error_message).await?;
            let message = if error_message.is_empty() {
                "No more retries left."
            } else {
                error_message
            };
            raise_job_incident(&mut tx, &instance, &job, no_retries(&job), message).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A worker reports a BPMN error: caught by an error boundary event on the task (a
    /// specific code before a catch-all; for a multi-instance task the body and every sibling
    /// are terminated), or an UNHANDLED_ERROR_EVENT incident.
    #[tracing::instrument(skip_all, fields(job_key, error_code), err)]
    pub async fn throw_error(
        &self,
        job_key: i64,
        error_code: &str,
        error_message: &str,
        variables: &str,
    ) -> Result<(), EngineError> {
        let variables = parse_variables(variables)?;
        let mut tx = self.begin().await?;
        let (instance, job) = lock_job(&mut tx, job_key, "throw an error for").await?;
        if job.is_listener() {
            return Err(EngineError::FailedPrecondition(format!(
                "Expected to throw an error for job with key '{job_key}', but it is a task listener job; listener jobs are completed (allowing or denying) or failed"
            )));
        }
        if job.state != "ACTIVATED" && job.state != "ACTIVATABLE" {
            return Err(EngineError::FailedPrecondition(format!(
                "Expected to throw an error for job with key '{job_key}', but it is in state '{}'",
                job.state
            )));
        }
        let model = self
            .definitions
            .get(&mut tx, instance.definition_key)
            .await?;
        match engine::catch_error(&model, &job.element_id, error_code) {
            Some(boundary) => {
                store::jobs::delete(&mut tx, job_key).await?;
                let mut run = Run::new(&mut tx, &model, &instance).await?;
                run.catch_error(
                    job.element_instance_key,
                    boundary.id.as_str(),
                    (error_code, error_message),
                    &variables,
                )
                .await?;
                run.drain().await?;
            }
            None => {
                store::jobs::park(&mut tx, job_key, "ERROR_THROWN", job.retries, error_message)
                    .await?;
                let message = crate::engine::uncaught_message(error_code, error_message);
                raise_job_incident(
                    &mut tx,
                    &instance,
                    &job,
                    IncidentType::UnhandledErrorEvent,
                    &message,
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sets a job's retries (at least 1, as Zeebe requires).
    #[tracing::instrument(skip_all, fields(job_key), err)]
    pub async fn update_job_retries(&self, job_key: i64, retries: i32) -> Result<(), EngineError> {
        if retries < 1 {
            return Err(EngineError::InvalidArgument(format!(
                "Expected retries to be greater than zero, but was '{retries}'"
            )));
        }
        let mut tx = self.begin().await?;
        lock_job(&mut tx, job_key, "update retries of").await?;
        store::jobs::set_retries(&mut tx, job_key, retries).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets variables on an instance or element scope; non-local variables propagate to the
    /// nearest scope that already holds them, else the instance scope. Returns a record key.
    #[tracing::instrument(skip_all, fields(element_instance_key = scope_key), err)]
    pub async fn set_variables(
        &self,
        scope_key: i64,
        variables: &str,
        local: bool,
    ) -> Result<i64, EngineError> {
        let variables = parse_variables(variables)?;
        let not_found = || {
            EngineError::NotFound(format!(
                "Expected to update variables for element with key '{scope_key}', but no such element was found"
            ))
        };
        let mut tx = self.begin().await?;
        let instance_key = match store::instances::element(&mut tx, scope_key).await? {
            Some(element) if element.state == "ACTIVE" => element.process_instance_key,
            Some(_) => return Err(not_found()),
            None => scope_key,
        };
        let instance = lock_active(&mut tx, instance_key)
            .await
            .map_err(|_| not_found())?;
        if local || scope_key == instance.key {
            store::variables::put(&mut tx, instance.key, scope_key, &variables).await?;
        } else {
            let locals = store::variables::scope(&mut tx, scope_key).await?;
            let (here, up): (Map<String, Json>, Map<String, Json>) = variables
                .into_iter()
                .partition(|(name, _)| locals.contains_key(name));
            store::variables::put(&mut tx, instance.key, scope_key, &here).await?;
            store::variables::put(&mut tx, instance.key, instance.key, &up).await?;
        }
        let key: i64 = sqlx::query_scalar("SELECT nextval('record_key')")
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(key)
    }
}

/// Locks an ACTIVE instance or reports it NOT_FOUND (ended instances are gone for Zeebe).
pub(crate) async fn lock_active(
    conn: &mut PgConnection,
    key: i64,
) -> Result<InstanceRow, EngineError> {
    match store::instances::lock(conn, key).await? {
        Some(instance) if instance.state == "ACTIVE" => Ok(instance),
        _ => Err(EngineError::NotFound(format!(
            "Expected to find process instance with key '{key}', but none found"
        ))),
    }
}

/// Locks the job's instance, then the job (always in that order, so commands never deadlock).
async fn lock_job(
    conn: &mut PgConnection,
    job_key: i64,
    verb: &str,
) -> Result<(InstanceRow, store::jobs::JobRow), EngineError> {
    let not_found = || {
        EngineError::NotFound(format!(
            "Expected to {verb} job with key '{job_key}', but no such job was found"
        ))
    };
    let instance_key = store::jobs::instance_of(conn, job_key)
        .await?
        .ok_or_else(not_found)?;
    let instance = lock_active(conn, instance_key)
        .await
        .map_err(|_| not_found())?;
    let job = store::jobs::lock(conn, job_key)
        .await?
        .ok_or_else(not_found)?;
    Ok((instance, job))
}

/// The incident type of a job that ran out of retries (Zeebe names listener jobs apart).
pub(super) fn no_retries(job: &store::jobs::JobRow) -> IncidentType {
    if job.is_listener() {
        IncidentType::TaskListenerNoRetries
    } else {
        IncidentType::JobNoRetries
    }
}

pub(super) async fn raise_job_incident(
    conn: &mut PgConnection,
    instance: &InstanceRow,
    job: &store::jobs::JobRow,
    kind: IncidentType,
    message: &str,
) -> Result<i64, EngineError> {
    Ok(store::incidents::insert(
        conn,
        store::incidents::NewIncident {
            process_instance_key: instance.key,
            element_instance_key: job.element_instance_key,
            element_id: &job.element_id,
            job_key: Some(job.key),
            error_type: kind.as_str(),
            error_message: message,
        },
    )
    .await?)
}
