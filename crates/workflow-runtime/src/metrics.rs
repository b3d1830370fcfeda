//! Metric names and recording, in one place so dashboards have one reference.
//!
//! * `workflow_jobs_activated_total{job_type}`
//! * `workflow_jobs_completed_total{job_type}` / `_failed_total` / `_errored_total` (BPMN error)
//! * `workflow_job_command_errors_total{job_type}`: the engine refused or did not answer the
//!   complete / fail / throw command (the job comes back after its timeout)
//! * `workflow_job_poll_errors_total{job_type}`: `ActivateJobs` failed (engine unreachable…)
//! * `workflow_job_handler_duration_seconds{job_type, outcome}` (histogram)

use std::time::Duration;

pub(crate) fn activated(job_type: &str, count: usize) {
    metrics::counter!("workflow_jobs_activated_total", "job_type" => job_type.to_owned())
        .increment(u64::try_from(count).unwrap_or(u64::MAX));
}

pub(crate) fn finished(job_type: &str, outcome: &'static str, duration: Duration) {
    let name = match outcome {
        "completed" => "workflow_jobs_completed_total",
        "failed" => "workflow_jobs_failed_total",
        _ => "workflow_jobs_errored_total",
    };
    metrics::counter!(name, "job_type" => job_type.to_owned()).increment(1);
    metrics::histogram!(
        "workflow_job_handler_duration_seconds",
        "job_type" => job_type.to_owned(),
        "outcome" => outcome
    )
    .record(duration.as_secs_f64());
}

pub(crate) fn command_error(job_type: &str) {
    metrics::counter!("workflow_job_command_errors_total", "job_type" => job_type.to_owned())
        .increment(1);
}

pub(crate) fn poll_error(job_type: &str) {
    metrics::counter!("workflow_job_poll_errors_total", "job_type" => job_type.to_owned())
        .increment(1);
}
