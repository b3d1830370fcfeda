//! The catalog service: product specifications, versioned product offerings with relationship
//! rules and a lifecycle, and versioned price books — the reference slice every other service
//! copies (layers: `http` → `app` → `domain`, with `infra` for storage).

pub mod app;
pub mod domain;
pub mod http;
pub mod infra;

use std::future::Future;
use std::process::ExitCode;

use common_kernel::settings::Settings;
use service_host::{Foundation, Host, HostError, ServiceIdentity};
use sqlx::migrate::Migrator;

/// Service name in logs, metrics and health answers.
pub const SERVICE: &str = "catalog";
/// Default HTTP port.
pub const DEFAULT_PORT: u16 = 8081;
/// The schema this service owns.
pub const SCHEMA: &str = "catalog_schema";
/// The catalog's migrations, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/catalog");

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
    Settings(#[from] common_kernel::settings::SettingsError),
    /// Database or port (the shared host).
    #[error(transparent)]
    Host(#[from] HostError),
}

/// A built service, bound to its port and ready to serve.
#[derive(Debug)]
pub struct Application {
    host: Host,
}

impl Application {
    /// Connects, migrates, binds and wires the router. Port 0 picks a free port (tests).
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let foundation = Foundation::open(&IDENTITY, &settings).await?;
        let state = http::AppState {
            db: foundation.db.clone(),
            cache: foundation.cache.clone(),
            runner: foundation.runner.clone(),
        };
        let host = Host::bind(
            &IDENTITY,
            &settings,
            foundation,
            http::routes(state),
            http::openapi::openapi_json(),
        )
        .await?;
        Ok(Self { host })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.host.port()
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests and closes the pool.
    /// Meanwhile the outbox relay publishes committed events (unless `KAFKA_BROKERS=disabled`)
    /// and expired idempotency records are purged.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        self.host.run_until(shutdown, Vec::new()).await
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
            Settings::from_env(SERVICE, DEFAULT_PORT)
                .map(|settings| {
                    let format = settings.log_format;
                    (settings, format)
                })
                .map_err(|e| e.to_string())
        },
        Application::build,
    )
    .await
}
