//! ActivateJobs long polling: try to activate; if nothing is due, wait for a NOTIFY of the job
//! type (or the next back-off/timeout instant, or the request deadline) and try again.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Map, Value as Json};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use super::Engine;
use super::notifier::Wake;
use crate::error::EngineError;
use crate::store;

/// An ActivateJobs request, validated.
#[derive(Debug, Clone)]
pub struct ActivateRequest {
    /// Job type.
    pub job_type: String,
    /// Worker name recorded on the job.
    pub worker: String,
    /// Activation timeout (ms): the job becomes activatable again after it.
    pub timeout_ms: i64,
    /// At most this many jobs.
    pub max_jobs: i32,
    /// Variables to fetch (all when empty).
    pub fetch_variables: Vec<String>,
    /// Long-poll duration: `None` = no long polling (negative requestTimeout).
    pub long_poll: Option<Duration>,
}

/// An activated job with its variables.
#[derive(Debug, Clone)]
pub struct ActivatedJob {
    /// The stored job.
    pub job: store::jobs::JobRow,
    /// Visible variables (instance scope overlaid with a multi-instance body's locals, the
    /// task's locals and, for a task listener's job, the completion's variables), filtered.
    pub variables: Map<String, Json>,
}

impl Engine {
    /// Activates jobs, long-polling until at least one is available or the poll times out.
    #[tracing::instrument(skip_all, fields(job_type = %request.job_type), err)]
    pub async fn activate_jobs(
        &self,
        request: &ActivateRequest,
    ) -> Result<Vec<ActivatedJob>, EngineError> {
        if request.job_type.trim().is_empty() {
            return Err(EngineError::InvalidArgument(
                "Expected type to be present, but it was blank".into(),
            ));
        }
        if request.max_jobs < 1 {
            return Err(EngineError::InvalidArgument(format!(
                "Expected maxJobsToActivate to be greater than zero, but was '{}'",
                request.max_jobs
            )));
        }
        if request.timeout_ms < 1 {
            return Err(EngineError::InvalidArgument(format!(
                "Expected timeout to be greater than zero, but was '{}'",
                request.timeout_ms
            )));
        }
        let deadline = request.long_poll.map(|d| Instant::now() + d);
        let mut wakes = self.notifier.subscribe();
        let mut shutdown = self.notifier.shutdown();
        loop {
            let jobs = self.try_activate(request).await?;
            if !jobs.is_empty() {
                return Ok(jobs);
            }
            let Some(deadline) = deadline else {
                return Ok(jobs);
            };
            let mut conn = self.pool.acquire().await?;
            let next_due = store::jobs::next_due_in_ms(&mut conn, &request.job_type).await?;
            drop(conn);
            let mut wake_at = deadline.min(Instant::now() + self.config.fallback_poll);
            if let Some(ms) = next_due {
                wake_at = wake_at
                    .min(Instant::now() + Duration::from_millis(u64::try_from(ms).unwrap_or(0)));
            }
            if Instant::now() >= deadline {
                return Ok(Vec::new());
            }
            loop {
                tokio::select! {
                    wake = wakes.recv() => match wake {
                        Ok(Wake::Job(t)) if t == request.job_type => break,
                        Ok(Wake::Resync) | Err(RecvError::Lagged(_)) => break,
                        Err(RecvError::Closed) => return Err(EngineError::Unavailable),
                        Ok(_) => {}
                    },
                    () = tokio::time::sleep_until(wake_at) => break,
                    _ = shutdown.changed() => return Ok(Vec::new()),
                }
            }
        }
    }

    async fn try_activate(
        &self,
        request: &ActivateRequest,
    ) -> Result<Vec<ActivatedJob>, EngineError> {
        let mut tx = self.pool.begin().await?;
        let jobs = store::jobs::activate(
            &mut tx,
            &request.job_type,
            &request.worker,
            request.timeout_ms,
            i64::from(request.max_jobs),
        )
        .await?;
        if jobs.is_empty() {
            tx.rollback().await?;
            return Ok(Vec::new());
        }
        // An inner instance of a multi-instance body also sees the body's locals.
        let elements: Vec<i64> = jobs.iter().map(|j| j.element_instance_key).collect();
        let bodies: HashMap<i64, i64> = store::instances::flow_scopes(&mut tx, &elements)
            .await?
            .into_iter()
            .collect();
        let mut scopes: Vec<i64> = jobs
            .iter()
            .flat_map(|j| [j.process_instance_key, j.element_instance_key])
            .chain(bodies.values().copied())
            .collect();
        scopes.sort_unstable();
        scopes.dedup();
        let mut by_scope: HashMap<i64, Map<String, Json>> = HashMap::new();
        for (scope, name, value) in store::variables::scopes(&mut tx, &scopes).await? {
            by_scope.entry(scope).or_default().insert(name, value);
        }
        // A listener job sees the completion's variables over the task's (they win).
        let completions: Vec<i64> = jobs.iter().filter_map(|j| j.completion_key).collect();
        let mut overlays: HashMap<i64, Map<String, Json>> = HashMap::new();
        if !completions.is_empty() {
            for (key, value) in store::completions::variables_of(&mut tx, &completions).await? {
                if let Json::Object(map) = value {
                    overlays.insert(key, map);
                }
            }
        }
        tx.commit().await?;
        Ok(jobs
            .into_iter()
            .map(|job| {
                let mut variables = by_scope
                    .get(&job.process_instance_key)
                    .cloned()
                    .unwrap_or_default();
                if let Some(body) = bodies.get(&job.element_instance_key) {
                    variables.extend(by_scope.get(body).cloned().unwrap_or_default());
                }
                variables.extend(
                    by_scope
                        .get(&job.element_instance_key)
                        .cloned()
                        .unwrap_or_default(),
                );
                if let Some(overlay) = job.completion_key.and_then(|k| overlays.get(&k)) {
                    variables.extend(overlay.clone());
                }
                if !request.fetch_variables.is_empty() {
                    variables.retain(|name, _| request.fetch_variables.contains(name));
                }
                ActivatedJob { job, variables }
            })
            .collect())
    }
}
