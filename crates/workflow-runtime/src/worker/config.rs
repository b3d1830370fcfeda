//! What a worker is configured with, checked before its poll loop starts.

use std::time::Duration;

use crate::backoff::RetryPolicy;
use crate::error::RuntimeError;

/// How one job type is polled and run. Public fields with a [`WorkerConfig::new`] holding the
/// defaults, so a service overrides what it needs with struct-update syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerConfig {
    /// Job type (`zeebe:taskDefinition type`) this worker serves.
    pub job_type: String,
    /// Name recorded on activated jobs, so operators see which process holds a job.
    pub worker_name: String,
    /// Handler slots: at most this many jobs of this type run at once in this process.
    pub max_concurrent_jobs: u32,
    /// Activation timeout: a job not completed / failed within it is offered to another worker.
    /// Must exceed the slowest handler, or jobs run twice.
    pub job_timeout: Duration,
    /// Long-poll duration of one `ActivateJobs` request when no job is available.
    pub request_timeout: Duration,
    /// Variables to fetch (all visible variables when empty). Correlation fields are only
    /// propagated when fetched, so a filtered list should include them.
    pub fetch_variables: Vec<String>,
    /// Tenants to activate jobs for (empty outside multi-tenancy).
    pub tenant_ids: Vec<String>,
    /// Back-off of technical failures ([`crate::backoff`]).
    pub retry: RetryPolicy,
    /// First delay after a failed poll; doubles per consecutive failure.
    pub poll_backoff_min: Duration,
    /// Cap of the poll back-off, so a worker notices a recovered engine within this time.
    pub poll_backoff_max: Duration,
}

impl WorkerConfig {
    /// Defaults close to the Zeebe Java client's: 32 slots, 5 min job timeout, 20 s long poll.
    pub fn new(job_type: impl Into<String>) -> Self {
        let job_type = job_type.into();
        Self {
            worker_name: format!("{job_type}@{}", std::process::id()),
            job_type,
            max_concurrent_jobs: 32,
            job_timeout: Duration::from_secs(300),
            request_timeout: Duration::from_secs(20),
            fetch_variables: Vec::new(),
            tenant_ids: Vec::new(),
            retry: RetryPolicy::default(),
            poll_backoff_min: Duration::from_millis(100),
            poll_backoff_max: Duration::from_secs(5),
        }
    }

    /// Refuses configurations the engine would reject on every poll, at start-up instead.
    pub fn validate(&self) -> Result<(), RuntimeError> {
        if self.job_type.trim().is_empty() {
            return Err(RuntimeError::Config("job type is blank"));
        }
        if self.max_concurrent_jobs == 0 || i32::try_from(self.max_concurrent_jobs).is_err() {
            return Err(RuntimeError::Config(
                "max_concurrent_jobs must be between 1 and i32::MAX",
            ));
        }
        if self.job_timeout < Duration::from_millis(1) {
            return Err(RuntimeError::Config("job_timeout must be at least 1 ms"));
        }
        if self.request_timeout < Duration::from_millis(1) {
            return Err(RuntimeError::Config(
                "request_timeout must be at least 1 ms (0 would mean the engine's default)",
            ));
        }
        if self.poll_backoff_min.is_zero() || self.poll_backoff_min > self.poll_backoff_max {
            return Err(RuntimeError::Config(
                "poll back-off needs 0 < poll_backoff_min <= poll_backoff_max",
            ));
        }
        Ok(())
    }

    pub(super) fn poll_backoff(&self, consecutive_failures: u32) -> Duration {
        let factor = 2u32
            .checked_pow(consecutive_failures.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.poll_backoff_min
            .saturating_mul(factor)
            .min(self.poll_backoff_max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_refused_at_start() {
        let ok = WorkerConfig::new("charge");
        assert!(ok.validate().is_ok());
        assert!(ok.worker_name.starts_with("charge@"));
        let refused = [
            WorkerConfig::new("  "),
            WorkerConfig {
                max_concurrent_jobs: 0,
                ..WorkerConfig::new("t")
            },
            WorkerConfig {
                max_concurrent_jobs: u32::MAX,
                ..WorkerConfig::new("t")
            },
            WorkerConfig {
                job_timeout: Duration::ZERO,
                ..WorkerConfig::new("t")
            },
            WorkerConfig {
                request_timeout: Duration::from_micros(10),
                ..WorkerConfig::new("t")
            },
            WorkerConfig {
                poll_backoff_min: Duration::from_secs(10),
                poll_backoff_max: Duration::from_secs(1),
                ..WorkerConfig::new("t")
            },
        ];
        for config in refused {
            assert!(
                matches!(config.validate(), Err(RuntimeError::Config(_))),
                "{config:?}"
            );
        }
    }

    #[test]
    fn poll_backoff_doubles_up_to_the_cap() {
        let config = WorkerConfig {
            poll_backoff_min: Duration::from_millis(100),
            poll_backoff_max: Duration::from_millis(500),
            ..WorkerConfig::new("t")
        };
        let delays: Vec<u128> = (1..=5)
            .map(|n| config.poll_backoff(n).as_millis())
            .collect();
        assert_eq!(delays, vec![100, 200, 400, 500, 500]);
        assert_eq!(config.poll_backoff(u32::MAX), Duration::from_millis(500));
    }
}
