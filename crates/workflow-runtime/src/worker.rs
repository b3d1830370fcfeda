//! The poll loop of one job type and the handle that stops it.
//!
//! One task per worker long-polls `ActivateJobs`. Before each poll it waits for at least one
//! free handler slot, takes every slot that is free, and asks for exactly that many jobs, so
//! the engine never hands out a job that would wait here for a slot while another worker could
//! run it. Each job runs on its own task holding one slot; the loop re-polls as soon as the
//! response has been dispatched (a long poll that ends empty is re-issued at once too). Poll
//! errors (engine down, network) back off exponentially between `poll_backoff_min` and
//! `poll_backoff_max`.
//!
//! [`WorkerHandle::shutdown`] stops polling at once (an outstanding long poll is cancelled),
//! waits for the in-flight handlers — including their complete / fail / throw command — until
//! the deadline, then aborts the rest and reports their job keys: the engine offers those jobs
//! again when their activation timeout (`job_timeout`) expires.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures::FutureExt;
use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tonic::transport::Channel;
use tracing::{Instrument, Span};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::backoff::RetryPolicy;
use crate::context::JobContext;
use crate::correlation::{Correlation, remote_parent};
use crate::credentials::GatewayToken;
use crate::handler::{JobHandler, panic_message};
use crate::job::Job;
use crate::metrics;
use crate::outcome::{Attempt, Outcome};
use crate::proto;
use crate::proto::gateway_client::GatewayClient;

mod command;
mod config;

use command::{log_outcome, send};
pub use config::WorkerConfig;

/// How long past `request_timeout` the worker waits for an `ActivateJobs` answer before it
/// treats the connection as dead and polls again.
const POLL_GRACE: Duration = Duration::from_secs(10);

/// After the shutdown deadline, how long aborted handlers get to unwind before they are
/// reported as abandoned without confirmation.
const ABORT_GRACE: Duration = Duration::from_secs(1);

/// Counters of one worker since it started, for health checks and tests (the same events are
/// also exported as metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerStats {
    /// Jobs received from `ActivateJobs`.
    pub activated: u64,
    /// Jobs the engine accepted a `CompleteJob` for.
    pub completed: u64,
    /// Task listener jobs the engine accepted a denying `CompleteJob` for.
    pub denied: u64,
    /// Jobs the engine accepted a `FailJob` for.
    pub failed: u64,
    /// Jobs the engine accepted a `ThrowError` for.
    pub errored: u64,
    /// Complete / fail / throw commands the engine refused or did not answer.
    pub command_errors: u64,
    /// `ActivateJobs` calls that failed.
    pub poll_errors: u64,
    /// Handlers running now.
    pub in_flight: usize,
}

/// What a graceful shutdown did, so a service can log it and an operator knows which jobs
/// will come back after their activation timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Job type of the worker.
    pub job_type: String,
    /// Handlers running when polling stopped.
    pub in_flight_at_stop: usize,
    /// Of those, how many finished (command sent) before the deadline.
    pub finished: usize,
    /// Job keys whose handlers were aborted at the deadline; the engine re-offers them after
    /// `job_timeout`.
    pub abandoned: Vec<i64>,
    /// Time from the shutdown request until the report.
    pub waited: Duration,
    /// Final counters.
    pub stats: WorkerStats,
}

impl ShutdownReport {
    /// Whether every in-flight handler finished (nothing left for the activation timeout).
    pub fn is_clean(&self) -> bool {
        self.abandoned.is_empty()
    }
}

/// A running worker. Polls until [`WorkerHandle::shutdown`]; dropping the handle stops polling
/// too, but lets in-flight handlers run to completion unobserved.
#[derive(Debug)]
pub struct WorkerHandle {
    job_type: String,
    slots: u32,
    stop: watch::Sender<bool>,
    poller: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
}

impl WorkerHandle {
    /// The job type this worker serves.
    pub fn job_type(&self) -> &str {
        &self.job_type
    }

    /// Counters so far.
    pub fn stats(&self) -> WorkerStats {
        self.shared.stats()
    }

    /// Stops polling, waits up to `deadline` (from now) for in-flight handlers and their
    /// commands, aborts what is still running, and reports.
    #[tracing::instrument(skip_all, fields(job_type = %self.job_type))]
    pub async fn shutdown(mut self, deadline: Duration) -> ShutdownReport {
        let started = Instant::now();
        let until = started + deadline;
        self.stop.send_replace(true);
        if let Some(poller) = self.poller.take()
            && let Err(error) = poller.await
        {
            tracing::error!(%error, "poll loop ended abnormally");
        }
        let in_flight_at_stop = self.shared.lock_in_flight().len();
        tracing::info!(
            in_flight = in_flight_at_stop,
            "polling stopped; waiting for handlers"
        );

        // Every slot free again means every handler task has ended.
        let drained =
            tokio::time::timeout_at(until, self.shared.slots.acquire_many(self.slots)).await;
        let mut abandoned = Vec::new();
        if drained.is_err() {
            let running: Vec<(i64, JoinHandle<()>)> = self
                .shared
                .lock_in_flight()
                .drain()
                .map(|(_, run)| run)
                .collect();
            for (_, task) in &running {
                task.abort();
            }
            for (job_key, task) in running {
                match tokio::time::timeout(ABORT_GRACE, task).await {
                    // It finished between the deadline and the abort: its command went out.
                    Ok(Ok(())) => {}
                    Ok(Err(_)) | Err(_) => abandoned.push(job_key),
                }
            }
            abandoned.sort_unstable();
            tracing::warn!(
                ?abandoned,
                "shutdown deadline passed; aborted handlers' jobs return after their timeout"
            );
        }
        let report = ShutdownReport {
            job_type: self.job_type.clone(),
            in_flight_at_stop,
            finished: in_flight_at_stop.saturating_sub(abandoned.len()),
            abandoned,
            waited: started.elapsed(),
            stats: self.shared.stats(),
        };
        tracing::info!(
            finished = report.finished,
            abandoned = report.abandoned.len(),
            waited_ms = u64::try_from(report.waited.as_millis()).unwrap_or(u64::MAX),
            "worker stopped"
        );
        report
    }
}

/// State shared by the poll loop, the job tasks and the handle.
#[derive(Debug)]
struct Shared {
    slots: Arc<Semaphore>,
    /// Running job tasks by run id (not job key: a job whose timeout passed can be
    /// delivered again while its first run is still going).
    in_flight: Mutex<HashMap<u64, (i64, JoinHandle<()>)>>,
    next_run: AtomicU64,
    activated: AtomicU64,
    completed: AtomicU64,
    denied: AtomicU64,
    failed: AtomicU64,
    errored: AtomicU64,
    command_errors: AtomicU64,
    poll_errors: AtomicU64,
}

impl Shared {
    fn new(slots: u32) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(usize::try_from(slots).unwrap_or(usize::MAX))),
            in_flight: Mutex::new(HashMap::new()),
            next_run: AtomicU64::new(0),
            activated: AtomicU64::new(0),
            completed: AtomicU64::new(0),
            denied: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            errored: AtomicU64::new(0),
            command_errors: AtomicU64::new(0),
            poll_errors: AtomicU64::new(0),
        }
    }

    /// The map only holds join handles, so a panic while it was locked cannot leave it
    /// inconsistent: a poisoned lock is simply taken over.
    fn lock_in_flight(&self) -> MutexGuard<'_, HashMap<u64, (i64, JoinHandle<()>)>> {
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn stats(&self) -> WorkerStats {
        WorkerStats {
            activated: self.activated.load(Ordering::Relaxed),
            completed: self.completed.load(Ordering::Relaxed),
            denied: self.denied.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            errored: self.errored.load(Ordering::Relaxed),
            command_errors: self.command_errors.load(Ordering::Relaxed),
            poll_errors: self.poll_errors.load(Ordering::Relaxed),
            in_flight: self.lock_in_flight().len(),
        }
    }
}

/// Starts the poll loop of a validated configuration.
pub(crate) fn spawn(
    zeebe: zeebe_rs::Client,
    activation: GatewayClient<Channel>,
    token: Option<Arc<GatewayToken>>,
    config: WorkerConfig,
    handler: impl JobHandler,
) -> WorkerHandle {
    let slots = config.max_concurrent_jobs;
    let shared = Arc::new(Shared::new(slots));
    let (stop, stopping) = watch::channel(false);
    let job_type = config.job_type.clone();
    let poller = Poller {
        zeebe,
        activation,
        token,
        config: Arc::new(config),
        handler: Arc::new(handler),
        shared: Arc::clone(&shared),
    };
    let span = tracing::info_span!("workflow_worker", job_type = %job_type);
    let poller = tokio::spawn(poller.run(stopping).instrument(span));
    WorkerHandle {
        job_type,
        slots,
        stop,
        poller: Some(poller),
        shared,
    }
}

/// Resolves once a stop is requested or the handle is gone.
async fn stopped(stopping: &mut watch::Receiver<bool>) {
    // An error means the sender (the handle) was dropped: stop as well.
    let _ = stopping.wait_for(|stop| *stop).await;
}

struct Poller {
    zeebe: zeebe_rs::Client,
    activation: GatewayClient<Channel>,
    token: Option<Arc<GatewayToken>>,
    config: Arc<WorkerConfig>,
    handler: Arc<dyn JobHandler>,
    shared: Arc<Shared>,
}

impl Poller {
    async fn run(self, mut stopping: watch::Receiver<bool>) {
        tracing::info!(
            slots = self.config.max_concurrent_jobs,
            request_timeout_ms = millis(self.config.request_timeout),
            "worker polling"
        );
        let mut failures = 0u32;
        loop {
            let permits = tokio::select! {
                biased;
                () = stopped(&mut stopping) => break,
                permits = self.free_slots() => permits,
            };
            let Some(permits) = permits else { break };
            // Dropping the poll on stop cancels the RPC; jobs the engine activated for it in
            // that instant come back after their timeout.
            let polled = tokio::select! {
                biased;
                () = stopped(&mut stopping) => break,
                polled = self.poll(permits) => polled,
            };
            match polled {
                Ok(_) => failures = 0,
                Err(status) => {
                    failures = failures.saturating_add(1);
                    self.shared.poll_errors.fetch_add(1, Ordering::Relaxed);
                    metrics::poll_error(&self.config.job_type);
                    let delay = self.config.poll_backoff(failures);
                    tracing::warn!(
                        code = ?status.code(),
                        message = status.message(),
                        failures,
                        retry_in_ms = millis(delay),
                        "ActivateJobs failed"
                    );
                    tokio::select! {
                        biased;
                        () = stopped(&mut stopping) => break,
                        () = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
        tracing::debug!("poll loop stopped");
    }

    /// Waits for one free slot, then takes every other free one without waiting. `None` only
    /// if the semaphore was closed, which this crate never does.
    async fn free_slots(&self) -> Option<Vec<OwnedSemaphorePermit>> {
        let first = Arc::clone(&self.shared.slots).acquire_owned().await.ok()?;
        let mut permits = vec![first];
        while let Ok(more) = Arc::clone(&self.shared.slots).try_acquire_owned() {
            permits.push(more);
        }
        Some(permits)
    }

    /// One `ActivateJobs` long poll for `permits.len()` jobs; dispatches jobs as the response
    /// stream delivers them and returns how many arrived.
    #[tracing::instrument(level = "debug", skip_all, fields(max_jobs = permits.len()))]
    async fn poll(&self, mut permits: Vec<OwnedSemaphorePermit>) -> Result<usize, tonic::Status> {
        let config = &self.config;
        let request = proto::ActivateJobsRequest {
            r#type: config.job_type.clone(),
            worker: config.worker_name.clone(),
            timeout: millis(config.job_timeout),
            max_jobs_to_activate: i32::try_from(permits.len()).unwrap_or(i32::MAX),
            fetch_variable: config.fetch_variables.clone(),
            request_timeout: millis(config.request_timeout),
            tenant_ids: config.tenant_ids.clone(),
        };
        let mut request = tonic::Request::new(request);
        if let Some(token) = &self.token {
            request
                .metadata_mut()
                .insert("authorization", token.authorization().await?);
        }
        let mut client = self.activation.clone();
        let call = async {
            let mut stream = client.activate_jobs(request).await?.into_inner();
            let mut received = 0usize;
            while let Some(response) = stream.message().await? {
                if response.jobs.is_empty() {
                    continue;
                }
                metrics::activated(&config.job_type, response.jobs.len());
                for job in response.jobs {
                    received += 1;
                    self.dispatch(Job::from(job), permits.pop());
                }
            }
            Ok(received)
        };
        match tokio::time::timeout(config.request_timeout + POLL_GRACE, call).await {
            Ok(result) => result,
            Err(_) => Err(tonic::Status::deadline_exceeded(
                "no ActivateJobs answer within request_timeout + 10 s",
            )),
        }
    }

    /// Starts the task running one job. `permit` is `None` only if the gateway sent more jobs
    /// than asked for; such a job still runs rather than waiting for its timeout.
    fn dispatch(&self, job: Job, permit: Option<OwnedSemaphorePermit>) {
        self.shared.activated.fetch_add(1, Ordering::Relaxed);
        if permit.is_none() {
            tracing::warn!(
                job_key = job.key,
                "gateway sent more jobs than requested; running it beyond the slot limit"
            );
        }
        let (variables, unreadable) = parse_variables(&job.variables);
        let correlation = Correlation::from_variables(&variables);
        let span = job_span(&job, &correlation);
        let ctx = JobContext::new(&job, correlation);
        let run_id = self.shared.next_run.fetch_add(1, Ordering::Relaxed);
        let job_key = job.key;
        let run = JobRun {
            zeebe: self.zeebe.clone(),
            handler: Arc::clone(&self.handler),
            policy: self.config.retry,
            shared: Arc::clone(&self.shared),
            run_id,
            job_key,
            job_type: job.job_type,
        };
        // The task removes itself from the map when it ends; holding the lock across the
        // spawn makes sure it is in the map before it can try.
        let mut in_flight = self.shared.lock_in_flight();
        let task = tokio::spawn(
            run.execute(ctx, variables, unreadable, permit)
                .instrument(span),
        );
        in_flight.insert(run_id, (job_key, task));
    }
}

/// Job variables as JSON (`{}` for empty text), or the reason they cannot be read.
fn parse_variables(text: &str) -> (Value, Option<String>) {
    if text.trim().is_empty() {
        return (Value::Object(serde_json::Map::new()), None);
    }
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Object(_)) => (value, None),
        Ok(_) => (
            Value::Object(serde_json::Map::new()),
            Some("(variables are not a JSON object)".to_owned()),
        ),
        Err(error) => (
            Value::Object(serde_json::Map::new()),
            Some(format!("(variables are not JSON: {error})")),
        ),
    }
}

/// The span every log line of a job's handler runs under: job identity plus the instance's
/// correlation fields, and — when a tracing-opentelemetry layer is installed — the caller's
/// trace as OpenTelemetry parent, so the job's spans join the request's trace.
fn job_span(job: &Job, correlation: &Correlation) -> Span {
    let span = tracing::info_span!(
        "workflow_job",
        job_type = %job.job_type,
        job_key = job.key,
        process_instance_key = job.process_instance_key,
        bpmn_process_id = %job.bpmn_process_id,
        element_id = %job.element_id,
        retries = job.retries,
        correlation_id = tracing::field::Empty,
        causation_id = tracing::field::Empty,
        business_transaction_id = tracing::field::Empty,
        traceparent = tracing::field::Empty,
        outcome = tracing::field::Empty,
    );
    let fields = [
        ("correlation_id", &correlation.correlation_id),
        ("causation_id", &correlation.causation_id),
        (
            "business_transaction_id",
            &correlation.business_transaction_id,
        ),
        ("traceparent", &correlation.traceparent),
    ];
    for (name, value) in fields {
        if let Some(value) = value {
            span.record(name, value.as_str());
        }
    }
    if let Some(parent) = correlation.traceparent.as_deref().and_then(remote_parent) {
        // Fails only without an OpenTelemetry layer (nothing to join) or if the span was
        // already started, which cannot happen for a span created just above.
        if let Err(error) = span.set_parent(parent) {
            tracing::trace!(%error, "trace parent not set");
        }
    }
    span
}

/// Everything one job's task needs.
struct JobRun {
    zeebe: zeebe_rs::Client,
    handler: Arc<dyn JobHandler>,
    policy: RetryPolicy,
    shared: Arc<Shared>,
    run_id: u64,
    job_key: i64,
    job_type: String,
}

/// Removes the job from the in-flight map and frees its slot when the task ends, whether it
/// returned, panicked or was aborted.
struct Slot {
    shared: Arc<Shared>,
    run_id: u64,
    _permit: Option<OwnedSemaphorePermit>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.shared.lock_in_flight().remove(&self.run_id);
        // `_permit` is dropped after this, so a free slot implies the map entry is gone.
    }
}

impl JobRun {
    async fn execute(
        self,
        ctx: JobContext,
        variables: Value,
        unreadable: Option<String>,
        permit: Option<OwnedSemaphorePermit>,
    ) {
        let _slot = Slot {
            shared: Arc::clone(&self.shared),
            run_id: self.run_id,
            _permit: permit,
        };
        let retries = ctx.retries;
        let started = Instant::now();
        let attempt = match unreadable {
            Some(reason) => Attempt::InvalidInput(reason),
            None => run_guarded(self.handler.as_ref(), ctx, &variables).await,
        };
        let elapsed = started.elapsed();
        let outcome = Outcome::from_attempt(attempt, retries, &self.policy);
        let kind = outcome.kind();
        Span::current().record("outcome", kind);
        metrics::finished(&self.job_type, kind, elapsed);
        log_outcome(&outcome, elapsed);
        match send(&self.zeebe, self.job_key, &outcome).await {
            Ok(()) => {
                let counter = match outcome {
                    Outcome::Complete { .. } => &self.shared.completed,
                    Outcome::Deny { .. } => &self.shared.denied,
                    Outcome::Fail { .. } => &self.shared.failed,
                    Outcome::ThrowError { .. } => &self.shared.errored,
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => {
                self.shared.command_errors.fetch_add(1, Ordering::Relaxed);
                metrics::command_error(&self.job_type);
                tracing::error!(
                    error = &error as &dyn std::error::Error,
                    command = kind,
                    "engine did not accept the job command; the job returns after its timeout"
                );
            }
        }
    }
}

/// Runs any handler with panics caught, including a panic while creating its future, so a
/// hand-written [`JobHandler`] gets the same treatment as a [`crate::TypedHandler`].
async fn run_guarded(handler: &dyn JobHandler, ctx: JobContext, variables: &Value) -> Attempt {
    match std::panic::catch_unwind(AssertUnwindSafe(|| handler.run(ctx, variables))) {
        Ok(future) => AssertUnwindSafe(future)
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| Attempt::Panicked(panic_message(panic.as_ref()))),
        Err(panic) => Attempt::Panicked(panic_message(panic.as_ref())),
    }
}

/// A duration as the protocol's milliseconds.
pub(crate) fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_that_are_not_an_object_become_invalid_input() {
        let (value, problem) = parse_variables(r#"{"a":1}"#);
        assert_eq!(value["a"], 1);
        assert!(problem.is_none());
        assert!(parse_variables("").1.is_none());
        assert!(
            parse_variables("[1]")
                .1
                .is_some_and(|p| p.contains("not a JSON object"))
        );
        assert!(
            parse_variables("{")
                .1
                .is_some_and(|p| p.contains("not JSON"))
        );
    }

    #[tokio::test]
    async fn a_panicking_raw_handler_is_caught() {
        struct Raw;
        impl JobHandler for Raw {
            fn run(
                &self,
                _ctx: JobContext,
                _variables: &Value,
            ) -> futures::future::BoxFuture<'static, Attempt> {
                panic!("before any future")
            }
        }
        let attempt = run_guarded(&Raw, JobContext::default(), &Value::Null).await;
        assert!(matches!(attempt, Attempt::Panicked(ref m) if m == "before any future"));
    }
}
