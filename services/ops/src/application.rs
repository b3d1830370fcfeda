//! The running service: the HTTP door and the projector, over one foundation (pools, outbox
//! relay, idempotency purge) from the shared host.

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;

use common_kernel::settings::{Settings, SettingsError};
use messaging::batch_consumer::{BatchConfig, spawn_batched};
use messaging::consumer::{ConsumerConfig, ConsumerHandle};
use service_host::{Foundation, Host, HostError, ServiceIdentity};
use sqlx::migrate::Migrator;

use common_kernel::auth::{ServiceTokens, Verifier};

use crate::console::ConsoleState;
use crate::console::oidc::Oidc;
use crate::console::sessions::Sessions;
use crate::infra::incidents::IncidentReader;
use crate::infra::projector::{CONSUMER_GROUP, Projector, TOPICS};
use crate::settings::OpsSettings;

/// Service name in logs, metrics and health answers.
pub const SERVICE: &str = "ops";
/// Default HTTP port.
pub const DEFAULT_PORT: u16 = 8087;
/// The schema this service owns.
pub const SCHEMA: &str = "ops_schema";
/// The ops service's migrations, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/ops");

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
    /// The projector could not start.
    #[error("the projector: {0}")]
    Consumer(#[from] rdkafka::error::KafkaError),
    /// The console's HTTP client could not be built.
    #[error("the console: {0}")]
    Console(reqwest::Error),
}

/// A built service, bound to its port and ready to serve.
pub struct Application {
    host: Host,
    projector: Option<ConsumerHandle>,
    jobs_db: sqlx::PgPool,
    metrics_every: std::time::Duration,
    incidents: Option<(IncidentReader, std::time::Duration)>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.host.port())
            .field("projector", &self.projector.is_some())
            .finish()
    }
}

impl Application {
    /// Connects, migrates, starts the projector, binds and wires the router. Port 0 picks a
    /// free port (tests).
    pub async fn build(settings: Settings, ops: OpsSettings) -> Result<Self, StartupError> {
        let foundation = Foundation::open(&IDENTITY, &settings).await?;
        // A rebuild left RUNNING by a process that stopped would block every later one.
        if let Err(error) = crate::infra::rebuild::fail_orphans(&foundation.jobs_db).await {
            tracing::warn!(%error, "orphaned projection rebuilds not checked at start-up");
        }
        let projector = match settings.kafka.brokers.clone() {
            Some(brokers) => Some(spawn_batched(
                foundation.jobs_db.clone(),
                BatchConfig::new(ConsumerConfig::new(
                    CONSUMER_GROUP,
                    TOPICS.iter().map(|t| (*t).to_owned()).collect(),
                    brokers,
                )),
                Projector,
            )?),
            None => None,
        };
        let metrics_every = ops.metrics_every;
        let incidents = match (&ops.workflow_rest_url, settings.auth.as_ref()) {
            (Some(rest), Some(auth)) => {
                match ServiceTokens::new(auth).map_err(StartupError::Console)? {
                    Some(tokens) => Some((
                        IncidentReader::new(
                            reqwest::Client::new(),
                            rest.clone(),
                            Arc::new(tokens),
                            foundation.jobs_db.clone(),
                        ),
                        ops.incident_every,
                    )),
                    None => {
                        tracing::warn!(
                            "APP__OPS__WORKFLOW_REST_URL is set but the service has no OIDC client: incidents are not read"
                        );
                        None
                    }
                }
            }
            _ => None,
        };
        let console_settings = ops.console.clone();
        let state = crate::http::AppState {
            db: foundation.db.clone(),
            settings: Arc::new(ops),
            jobs_db: foundation.jobs_db.clone(),
            brokers: settings.kafka.brokers.clone(),
            lag: projector.as_ref().map(ConsumerHandle::lag_reader),
        };
        let open = match (console_settings, settings.auth.as_ref()) {
            (Some(console), Some(auth)) => {
                let http = reqwest::Client::builder()
                    .timeout(std::time::Duration::from_secs(30))
                    .build()
                    .map_err(StartupError::Console)?;
                let console_state = ConsoleState {
                    settings: Arc::new(console.clone()),
                    sessions: Sessions::default(),
                    verifier: Arc::new(Verifier::new(auth).map_err(StartupError::Console)?),
                    oidc: Arc::new(Oidc::new(http.clone(), auth.discovery_url.clone(), console)),
                    http,
                };
                crate::console::routes(console_state, crate::http::routes(state.clone()))
            }
            _ => axum::Router::new(),
        };
        let jobs_db = foundation.jobs_db.clone();
        let host = Host::bind_with_open(
            &IDENTITY,
            &settings,
            foundation,
            crate::http::routes(state),
            open,
            crate::http::openapi::openapi_json(),
        )
        .await?;
        Ok(Self {
            host,
            projector,
            jobs_db,
            metrics_every,
            incidents,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.host.port()
    }

    /// Serves until `shutdown` resolves, then stops the projector after its current batch.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let exporter = tokio::spawn(crate::infra::metrics_exporter::run(
            self.jobs_db.clone(),
            self.metrics_every,
        ));
        let mut jobs = vec![exporter];
        if let Some((reader, every)) = self.incidents {
            jobs.push(tokio::spawn(reader.run(every)));
        }
        let served = self.host.run_until(shutdown, jobs).await;
        if let Some(projector) = self.projector {
            projector.shutdown().await;
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
            let ops = OpsSettings::from_env().map_err(|e| e.to_string())?;
            let format = settings.log_format;
            Ok(((settings, ops), format))
        },
        |(settings, ops)| Application::build(settings, ops),
    )
    .await
}
