//! The running service: HTTP door, the consumer of CPQ's quote events, the `quote-approval`
//! job workers, the process sync and the expiry job, over one foundation (pools, outbox relay,
//! idempotency purge) from the shared host.

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;

use common_kernel::auth::ServiceTokens;
use common_kernel::settings::{Settings, SettingsError};
use messaging::consumer::{self, ConsumerConfig};
use service_host::{Foundation, Host, HostError, ServiceIdentity};
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use workflow_runtime::{Gateway, WorkerGroup, deploy_directory};

use crate::app::intake::IntakeRules;
use crate::app::ports::Ports;
use crate::domain::{ApproverRouting, LevelDurations};
use crate::infra::quote_events::{CONSUMER_GROUP, QUOTE_TOPIC, QuoteEventHandler};
use crate::infra::{
    EngineTaskClient, PgApprovalRepository, PgApproverDirectory, expiry, process_sync,
};
use crate::settings::ApprovalSettings;
use crate::workers::{self, WorkerDeps};

/// Service name in logs, metrics and health answers.
pub const SERVICE: &str = "approval";
/// Default HTTP port.
pub const DEFAULT_PORT: u16 = 8083;
/// The schema this service owns.
pub const SCHEMA: &str = "approval_schema";
/// The approval service's migrations, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/approval");

/// Who this process is, for the shared host.
pub const IDENTITY: ServiceIdentity = ServiceIdentity {
    name: SERVICE,
    schema: SCHEMA,
    migrator: &MIGRATOR,
};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Settings were invalid.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// Database or port (the shared host).
    #[error(transparent)]
    Host(#[from] HostError),
    /// The HTTP clients for the engine and the issuer could not be built.
    #[error("cannot build an HTTP client")]
    HttpClient(#[source] reqwest::Error),
    /// The Zeebe gateway refused the connection or the workers' configuration.
    #[error("the workflow gateway: {0}")]
    Workflow(#[from] workflow_runtime::RuntimeError),
    /// The BPMN could not be deployed.
    #[error("deploying the approval process: {0}")]
    Deploy(#[from] workflow_runtime::DeployError),
    /// The consumer of CPQ's quote events could not start.
    #[error("the quote event consumer: {0}")]
    Consumer(#[from] rdkafka::error::KafkaError),
    /// The approver routing could not be built (a bug, never configuration).
    #[error("the approver routing: {0}")]
    Routing(#[from] crate::domain::PolicyMappingError),
}

/// A built service, bound to its port and ready to serve.
pub struct Application {
    host: Host,
    ports: Ports,
    settings: ApprovalSettings,
    gateway: Option<Gateway>,
    workers: Option<WorkerGroup>,
    consumer: Option<consumer::ConsumerHandle>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.host.port())
            .field("workflow", &self.gateway.is_some())
            .field("consumer", &self.consumer.is_some())
            .finish()
    }
}

fn chrono(duration: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

impl Application {
    /// Connects, migrates, deploys the process, starts the workers and the consumer, binds and
    /// wires the router. Port 0 picks a free port (tests).
    pub async fn build(
        settings: Settings,
        approval: ApprovalSettings,
    ) -> Result<Self, StartupError> {
        let foundation = Foundation::open(&IDENTITY, &settings).await?;
        let service_tokens = settings
            .auth
            .as_ref()
            .map(ServiceTokens::new)
            .transpose()
            .map_err(StartupError::HttpClient)?
            .flatten()
            .map(Arc::new);
        let ports = Ports {
            requests: Arc::new(PgApprovalRepository),
            directory: Arc::new(PgApproverDirectory::new(foundation.db.clone())),
        };
        let routing = Arc::new(ApproverRouting::by_role(LevelDurations::uniform(chrono(
            approval.level_due,
        )))?);
        let tasks = EngineTaskClient::new(&approval.workflow_rest_url, service_tokens)
            .map_err(StartupError::HttpClient)?;
        let (gateway, workers) = match &approval.zeebe_address {
            Some(address) => {
                let gateway = Gateway::connect_address(address).await?;
                let deployed = deploy_directory(gateway.client(), &approval.bpmn_dir).await?;
                tracing::info!(processes = deployed.len(), "BPMN deployed");
                let workers = workers::registry(WorkerDeps {
                    db: foundation.db.clone(),
                    ports: ports.clone(),
                    routing: Arc::clone(&routing),
                    escalate_after_due: chrono(approval.escalate_after_due),
                })
                .start(&gateway)?;
                (Some(gateway), Some(workers))
            }
            None => {
                tracing::warn!("ZEEBE_ADDRESS=disabled: no approval workers, no process sync");
                (None, None)
            }
        };
        let consumer = match settings.kafka.brokers.clone() {
            Some(brokers) => Some(consumer::spawn(
                foundation.jobs_db.clone(),
                ConsumerConfig::new(CONSUMER_GROUP, vec![QUOTE_TOPIC.to_owned()], brokers),
                QuoteEventHandler::new(
                    ports.clone(),
                    Arc::new(IntakeRules {
                        routing: ApproverRouting::clone(&routing),
                        request_ttl: chrono(approval.request_ttl),
                    }),
                ),
            )?),
            None => None,
        };
        let state = crate::http::AppState {
            db: foundation.db.clone(),
            runner: foundation.runner.clone(),
            ports: ports.clone(),
            tasks: Arc::new(tasks),
        };
        let host = Host::bind(
            &IDENTITY,
            &settings,
            foundation,
            crate::http::routes(state),
            crate::http::openapi::openapi_json(),
        )
        .await?;
        Ok(Self {
            host,
            ports,
            settings: approval,
            gateway,
            workers,
            consumer,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.host.port()
    }

    /// Serves until `shutdown` resolves, then stops the consumer and the workers after their
    /// current message or job, drains in-flight requests and closes the pools.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let jobs_db = self.host.jobs_db().clone();
        let mut jobs = vec![tokio::spawn(expire_loop(
            jobs_db.clone(),
            self.ports.clone(),
            self.settings.sync_interval,
        ))];
        if let Some(gateway) = self.gateway {
            jobs.push(tokio::spawn(process_sync::run(
                jobs_db,
                gateway,
                self.settings.sync_interval,
            )));
        }
        let served = self.host.run_until(shutdown, jobs).await;
        if let Some(consumer) = self.consumer {
            consumer.shutdown().await;
        }
        if let Some(workers) = self.workers {
            workers.shutdown(std::time::Duration::from_secs(10)).await;
        }
        served
    }
}

impl service_host::Service for Application {
    fn port(&self) -> u16 {
        Application::port(self)
    }

    fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = std::io::Result<()>> {
        Application::run_until(self, shutdown)
    }
}

/// The expiry loop on the jobs role's pool (see [`expiry`]).
async fn expire_loop(db: PgPool, ports: Ports, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match expiry::expire_due(&db, &ports).await {
            Ok(0) => {}
            Ok(expired) => tracing::info!(expired, "approval requests expired"),
            Err(error) => tracing::warn!(%error, "approval expiry failed; retrying later"),
        }
    }
}

/// The binary's whole life: settings, telemetry, build, serve until SIGINT/SIGTERM.
pub async fn run_main() -> ExitCode {
    service_host::run_main(
        SERVICE,
        || {
            let settings = Settings::from_env(SERVICE, DEFAULT_PORT).map_err(|e| e.to_string())?;
            let approval = ApprovalSettings::from_env().map_err(|e| e.to_string())?;
            let format = settings.log_format;
            Ok(((settings, approval), format))
        },
        |(settings, approval)| Application::build(settings, approval),
    )
    .await
}
