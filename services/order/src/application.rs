//! The running service: HTTP door, the consumer of CPQ's conversions and integration's
//! outcomes, the `order-fulfillment` workers and the process starter, over one foundation
//! (pools, outbox relay, idempotency purge) from the shared host.

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;

use common_kernel::auth::ServiceTokens;
use common_kernel::settings::{Settings, SettingsError};
use messaging::consumer::{self, ConsumerConfig};
use service_host::{Foundation, Host, HostError, ServiceIdentity};
use sqlx::migrate::Migrator;
use workflow_runtime::{Gateway, WorkerGroup, deploy_directory};

use crate::app::Fulfilment;
use crate::infra::catalog::CatalogProfiles;
use crate::infra::events_consumer::{CONSUMER_GROUP, OrderEventHandler, TOPICS};
use crate::infra::process_start;
use crate::settings::OrderSettings;
use crate::workers::{self, WorkerSettings};

/// Service name in logs, metrics and health answers.
pub const SERVICE: &str = "order";
/// Default HTTP port.
pub const DEFAULT_PORT: u16 = 8084;
/// The schema this service owns.
pub const SCHEMA: &str = "order_schema";
/// The order service's migrations, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/order");

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
    /// The HTTP clients for the catalog and the issuer could not be built.
    #[error("cannot build an HTTP client")]
    HttpClient(#[source] reqwest::Error),
    /// The Zeebe gateway refused the connection or the workers' configuration.
    #[error("the workflow gateway: {0}")]
    Workflow(#[from] workflow_runtime::RuntimeError),
    /// The BPMN could not be deployed.
    #[error("deploying the fulfilment process: {0}")]
    Deploy(#[from] workflow_runtime::DeployError),
    /// The event consumer could not start.
    #[error("the event consumer: {0}")]
    Consumer(#[from] rdkafka::error::KafkaError),
}

/// A built service, bound to its port and ready to serve.
pub struct Application {
    host: Host,
    settings: OrderSettings,
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

impl Application {
    /// Connects, migrates, deploys the process, starts the workers and the consumer, binds and
    /// wires the router. Port 0 picks a free port (tests).
    pub async fn build(settings: Settings, order: OrderSettings) -> Result<Self, StartupError> {
        let foundation = Foundation::open(&IDENTITY, &settings).await?;
        let service_tokens = settings
            .auth
            .as_ref()
            .map(ServiceTokens::new)
            .transpose()
            .map_err(StartupError::HttpClient)?
            .flatten()
            .map(Arc::new);
        let catalog =
            CatalogProfiles::new(&order.catalog_url, foundation.cache.clone(), service_tokens)
                .map_err(StartupError::HttpClient)?;
        let fulfilment = Fulfilment {
            db: foundation.db.clone(),
            catalog: Arc::new(catalog),
        };
        let (gateway, workers) = match &order.zeebe_address {
            Some(address) => {
                let gateway = Gateway::connect_address(address).await?;
                let deployed = deploy_directory(gateway.client(), &order.bpmn_dir).await?;
                tracing::info!(processes = deployed.len(), "BPMN deployed");
                let workers = workers::registry(
                    fulfilment.clone(),
                    &WorkerSettings {
                        concurrency: order.worker_concurrency,
                        job_timeout: order.job_timeout,
                    },
                )
                .start(&gateway)?;
                (Some(gateway), Some(workers))
            }
            None => {
                tracing::warn!("ZEEBE_ADDRESS=disabled: no order workers, no process starter");
                (None, None)
            }
        };
        let consumer = match settings.kafka.brokers.clone() {
            Some(brokers) => Some(consumer::spawn(
                foundation.jobs_db.clone(),
                ConsumerConfig::new(
                    CONSUMER_GROUP,
                    TOPICS.iter().map(|t| (*t).to_owned()).collect(),
                    brokers,
                ),
                OrderEventHandler,
            )?),
            None => None,
        };
        let state = crate::http::AppState {
            db: foundation.db.clone(),
            runner: foundation.runner.clone(),
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
            settings: order,
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
        let mut jobs = Vec::new();
        jobs.push(tokio::spawn(crate::infra::watchdog::run(
            jobs_db.clone(),
            self.settings.stuck_call_after,
            self.settings.watchdog_interval,
        )));
        if let Some(gateway) = self.gateway {
            jobs.push(tokio::spawn(process_start::run(
                jobs_db,
                gateway,
                self.settings.start_interval,
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

/// The binary's whole life: settings, telemetry, build, serve until SIGINT/SIGTERM.
pub async fn run_main() -> ExitCode {
    service_host::run_main(
        SERVICE,
        || {
            let settings = Settings::from_env(SERVICE, DEFAULT_PORT).map_err(|e| e.to_string())?;
            let order = OrderSettings::from_env().map_err(|e| e.to_string())?;
            let format = settings.log_format;
            Ok(((settings, order), format))
        },
        |(settings, order)| Application::build(settings, order),
    )
    .await
}
