//! The job-worker runtime the platform's services use to execute BPMN service tasks, against
//! the embedded engine (`workflow-engine`) or Camunda 8 alike (ADR 0014, issue 5 item 3).
//!
//! zeebe-rs's own worker polls on a fixed 15-second tick and fails jobs with no back-off, which
//! makes every job wait up to 15 s and hammers failing dependencies. This runtime instead:
//!
//! * long-polls `ActivateJobs` (with `requestTimeout`) and re-polls at once after jobs arrive,
//!   asking for exactly as many jobs as it has free handler slots ([`worker`]);
//! * runs handlers written as plain async functions over serde types
//!   (`async fn(JobContext, Input) -> Result<Output, JobError>`), testable without an engine
//!   ([`mod@handler`]);
//! * maps the handler's result to `CompleteJob`, `FailJob` with exponential `retryBackOff`, or
//!   `ThrowError` ([`outcome`], [`backoff`]);
//! * carries correlation fields and `traceparent` from process variables into the handler's
//!   tracing span, and helps services put them into variables ([`correlation`]);
//! * stops gracefully: no new polls, in-flight handlers finish within a deadline ([`WorkerHandle::shutdown`]);
//! * serves several job types from one process through a [`Registry`] of `dyn JobHandler`s;
//! * runs user-task listeners that allow or deny a transition ([`listener()`], [`ListenerVerdict`]);
//! * deploys a service's BPMN files at start-up, idempotently ([`deploy_directory`]).
//!
//! `ActivateJobs` goes through a client generated from zeebe-rs's own `gateway.proto`
//! ([`proto`]), because zeebe-rs keeps that call private; `CompleteJob` (with its `JobResult`
//! for listener denials), `FailJob` and `ThrowError` go through zeebe-rs's public client.

#![warn(missing_docs)]

pub mod backoff;
pub mod context;
pub mod correlation;
pub mod credentials;
pub mod deploy;
pub mod error;
pub mod gateway;
pub mod handler;
pub mod job;
pub mod listener;
mod metrics;
pub mod outcome;
pub mod registry;
pub mod worker;

/// Types generated from zeebe-rs's `gateway.proto` (shared with the engine). Public so that
/// callers can see what the runtime sends; services should not need them.
pub use zeebe_gateway_protocol as proto;

pub use backoff::RetryPolicy;
pub use context::JobContext;
pub use correlation::{Correlation, instance_variables};
pub use credentials::GatewayCredentials;
pub use deploy::{DeployError, DeployedProcess, deploy_directory};
pub use error::{JobError, RuntimeError, VariablesError};
pub use gateway::Gateway;
pub use handler::{JobHandler, TypedHandler, handler};
pub use job::Job;
pub use listener::{ListenedTask, ListenerHandler, ListenerVerdict, listener};
pub use outcome::{Attempt, Outcome, evaluate};
pub use registry::{Registry, WorkerGroup};
pub use worker::{ShutdownReport, WorkerConfig, WorkerHandle, WorkerStats};
