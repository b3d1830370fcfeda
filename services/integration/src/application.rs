//! The running service: the HTTP door (the call log and operations), the external-call workers,
//! over one foundation (pools, outbox relay, idempotency purge) from the shared host.

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;

use common_kernel::settings::{Settings, SettingsError};
use service_host::{Foundation, Host, HostError, ServiceIdentity};
use sqlx::migrate::Migrator;
use workflow_runtime::{Gateway, WorkerGroup};

use crate::app::Executor;
use crate::infra::HttpDownstream;
use crate::settings::IntegrationSettings;
use crate::workers;

/// Service name in logs, metrics and health answers.
pub const SERVICE: &str = "integration";
/// Default HTTP port.
pub const DEFAULT_PORT: u16 = 8085;
/// The schema this service owns.
pub const SCHEMA: &str = "integration_schema";
/// The integration service's migrations, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/integration");

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
    /// The downstream HTTP client could not be built.
    #[error("cannot build the downstream HTTP client")]
    HttpClient(#[source] reqwest::Error),
    /// The Zeebe gateway refused the connection or the workers' configuration.
    #[error("the workflow gateway: {0}")]
    Workflow(#[from] workflow_runtime::RuntimeError),
}

/// A built service, bound to its port and ready to serve.
pub struct Application {
    host: Host,
    workers: Option<WorkerGroup>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.host.port())
            .field("workers", &self.workers.is_some())
            .finish()
    }
}

impl Application {
    /// Connects, migrates, starts the workers, binds and wires the router. Port 0 picks a free
    /// port (tests).
    pub async fn build(
        settings: Settings,
        integration: IntegrationSettings,
    ) -> Result<Self, StartupError> {
        let foundation = Foundation::open(&IDENTITY, &settings).await?;
        let downstream =
            HttpDownstream::new(integration.systems.clone()).map_err(StartupError::HttpClient)?;
        let executor = Executor::new(foundation.db.clone(), Arc::new(downstream));
        let workers = match &integration.zeebe_address {
            Some(address) => {
                let gateway = Gateway::connect_address(address).await?;
                Some(workers::registry(executor, integration.workers.clone()).start(&gateway)?)
            }
            None => {
                tracing::warn!("ZEEBE_ADDRESS=disabled: no external-call workers");
                None
            }
        };
        let state = crate::http::AppState {
            db: foundation.db.clone(),
        };
        let host = Host::bind(
            &IDENTITY,
            &settings,
            foundation,
            crate::http::routes(state),
            crate::http::openapi::openapi_json(),
        )
        .await?;
        Ok(Self { host, workers })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.host.port()
    }

    /// Serves until `shutdown` resolves, then stops the workers after their current job,
    /// drains in-flight requests and closes the pools.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let served = self.host.run_until(shutdown, Vec::new()).await;
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
            let integration = IntegrationSettings::from_env().map_err(|e| e.to_string())?;
            let format = settings.log_format;
            Ok(((settings, integration), format))
        },
        |(settings, integration)| Application::build(settings, integration),
    )
    .await
}
