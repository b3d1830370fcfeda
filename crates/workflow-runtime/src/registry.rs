//! Several job types served by one process.
//!
//! A service registers one handler per job type it implements, each with its own
//! configuration (slots, timeouts, retry policy), and starts them together. Handlers of
//! different input and output types are kept as `Arc<dyn JobHandler>`; the group shuts every
//! worker down concurrently under one deadline, as the service's SIGTERM handling needs.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::RuntimeError;
use crate::gateway::Gateway;
use crate::handler::JobHandler;
use crate::worker::{ShutdownReport, WorkerConfig, WorkerHandle, WorkerStats};

/// The job types a process serves, before they are started.
#[derive(Default)]
pub struct Registry {
    entries: Vec<(WorkerConfig, Arc<dyn JobHandler>)>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|(config, _)| &config.job_type))
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a job type served by `handler` (any [`JobHandler`], typically
    /// [`crate::handler()`] over an async function).
    #[must_use]
    pub fn register(self, config: WorkerConfig, handler: impl JobHandler) -> Self {
        self.register_shared(config, Arc::new(handler))
    }

    /// Adds a job type served by an already shared handler, e.g. one handler serving two
    /// job types.
    #[must_use]
    pub fn register_shared(mut self, config: WorkerConfig, handler: Arc<dyn JobHandler>) -> Self {
        self.entries.push((config, handler));
        self
    }

    /// The registered job types, in registration order.
    pub fn job_types(&self) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .map(|(config, _)| config.job_type.as_str())
    }

    /// Checks every configuration and that no job type is registered twice (two pollers of one
    /// type in one process would split its slots arbitrarily).
    pub fn validate(&self) -> Result<(), RuntimeError> {
        for (index, (config, _)) in self.entries.iter().enumerate() {
            config.validate()?;
            if self.entries[..index]
                .iter()
                .any(|(earlier, _)| earlier.job_type == config.job_type)
            {
                return Err(RuntimeError::DuplicateJobType(config.job_type.clone()));
            }
        }
        Ok(())
    }

    /// Starts one worker per registered job type, or none if any configuration is invalid.
    pub fn start(self, gateway: &Gateway) -> Result<WorkerGroup, RuntimeError> {
        self.validate()?;
        let mut workers = Vec::with_capacity(self.entries.len());
        for (config, handler) in self.entries {
            workers.push(gateway.start_worker(config, handler)?);
        }
        Ok(WorkerGroup { workers })
    }
}

/// The running workers of a [`Registry`].
#[derive(Debug)]
pub struct WorkerGroup {
    workers: Vec<WorkerHandle>,
}

impl WorkerGroup {
    /// Counters per job type.
    pub fn stats(&self) -> Vec<(String, WorkerStats)> {
        self.workers
            .iter()
            .map(|w| (w.job_type().to_owned(), w.stats()))
            .collect()
    }

    /// Shuts every worker down concurrently, each with the same `deadline`, and reports per
    /// job type (registration order).
    pub async fn shutdown(self, deadline: Duration) -> Vec<ShutdownReport> {
        futures::future::join_all(self.workers.into_iter().map(|w| w.shutdown(deadline))).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::JobContext;
    use crate::error::JobError;
    use crate::handler::handler;

    async fn noop(_ctx: JobContext, _input: serde_json::Value) -> Result<(), JobError> {
        Ok(())
    }

    #[test]
    fn duplicate_and_invalid_job_types_are_refused_before_anything_starts() {
        let registry = Registry::new()
            .register(WorkerConfig::new("a"), handler(noop))
            .register(WorkerConfig::new("b"), handler(noop));
        assert!(registry.validate().is_ok());
        assert_eq!(registry.job_types().collect::<Vec<_>>(), vec!["a", "b"]);
        assert_eq!(format!("{registry:?}"), r#"["a", "b"]"#);

        let shared: Arc<dyn JobHandler> = Arc::new(handler(noop));
        let twice = registry.register_shared(WorkerConfig::new("a"), shared);
        assert!(matches!(
            twice.validate(),
            Err(RuntimeError::DuplicateJobType(t)) if t == "a"
        ));
        let invalid = Registry::new().register(
            WorkerConfig {
                max_concurrent_jobs: 0,
                ..WorkerConfig::new("c")
            },
            handler(noop),
        );
        assert!(matches!(invalid.validate(), Err(RuntimeError::Config(_))));
    }
}
