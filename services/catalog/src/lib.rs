//! The catalog service: product specifications, versioned product offerings with relationship
//! rules and a lifecycle, and versioned price books — the reference slice every other service
//! copies (layers: `http` → `app` → `domain`, with `infra` for storage).

pub mod app;
pub mod domain;
pub mod http;
pub mod infra;

use std::future::Future;
use std::process::ExitCode;

use axum::Router;
use common_kernel::cache::Cache;
use common_kernel::db::{self, DbError};
use common_kernel::http::health::HealthState;
use common_kernel::http::platform::{self, ServiceRoutes};
use common_kernel::http::server;
use common_kernel::idempotency::CommandRunner;
use common_kernel::settings::Settings;
use messaging::relay::{self, RelayConfig};
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;

/// Service name in logs, metrics and health answers.
pub const SERVICE: &str = "catalog";
/// Default HTTP port.
pub const DEFAULT_PORT: u16 = 8081;
/// The schema this service owns.
pub const SCHEMA: &str = "catalog_schema";
/// The catalog's migrations, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/catalog");

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Settings were invalid.
    #[error(transparent)]
    Settings(#[from] common_kernel::settings::SettingsError),
    /// The database could not be prepared.
    #[error(transparent)]
    Database(#[from] DbError),
    /// The port could not be bound.
    #[error("cannot listen on {address}")]
    Bind {
        /// Address tried.
        address: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// A built service, bound to its port and ready to serve.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    router: Router,
    db: PgPool,
    runner: CommandRunner,
    relay: Option<RelayConfig>,
}

impl Application {
    /// Connects, migrates, binds and wires the router. Port 0 picks a free port (tests).
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let db = db::connect(&settings.database, SCHEMA).await?;
        db::migrate(&db, SCHEMA, &MIGRATOR).await?;
        let cache = Cache::new(&settings.redis);
        common_kernel::http::metrics::recorder();
        let runner = CommandRunner::new(db.clone(), settings.idempotency_ttl);
        let state = http::AppState {
            db: db.clone(),
            cache: cache.clone(),
            runner: runner.clone(),
        };
        let router = platform::assemble(
            ServiceRoutes {
                api: http::routes(state).merge(messaging::ops::router(
                    messaging::ops::MessagingOps {
                        pool: db.clone(),
                        consumers: std::sync::Arc::new(Vec::new()),
                    },
                )),
                openapi_json: http::openapi::openapi_json(),
                health: HealthState {
                    service: SERVICE,
                    db: db.clone(),
                    cache,
                },
            },
            &settings.http,
        );
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener = TcpListener::bind(&address)
            .await
            .map_err(|source| StartupError::Bind { address, source })?;
        let relay = settings
            .kafka
            .brokers
            .as_deref()
            .map(|brokers| RelayConfig::new(SCHEMA, brokers));
        Ok(Self {
            listener,
            router,
            db,
            runner,
            relay,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests and closes the pool.
    /// Meanwhile the outbox relay publishes committed events (unless `KAFKA_BROKERS=disabled`)
    /// and expired idempotency records are purged.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let purger = tokio::spawn(purge_idempotency_records(self.runner.clone()));
        let relay = match self.relay {
            Some(config) => match relay::spawn(self.db.clone(), config) {
                Ok(handle) => Some(handle),
                Err(error) => {
                    tracing::error!(%error, "outbox relay not started; events stay in the outbox");
                    None
                }
            },
            None => None,
        };
        let result = server::serve(self.listener, self.router, shutdown).await;
        purger.abort();
        if let Some(relay) = relay {
            relay.shutdown().await;
        }
        self.db.close().await;
        result
    }
}

/// How often expired idempotency records are deleted.
const PURGE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

async fn purge_idempotency_records(runner: CommandRunner) {
    let mut tick = tokio::time::interval(PURGE_INTERVAL);
    loop {
        tick.tick().await;
        match runner.purge_expired().await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "expired idempotency records deleted"),
            Err(error) => tracing::warn!(%error, "idempotency purge failed; retrying later"),
        }
    }
}

/// The binary's whole life: settings, telemetry, build, serve until SIGINT/SIGTERM.
pub async fn run_main() -> ExitCode {
    let settings = match Settings::from_env(SERVICE, DEFAULT_PORT) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("catalog: {error}");
            return ExitCode::FAILURE;
        }
    };
    let _telemetry = common_kernel::telemetry::init(SERVICE, settings.log_format);
    let started = std::time::Instant::now();
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(error) => {
            tracing::error!(error = %error, cause = ?error, "catalog failed to start");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        port = app.port(),
        startup_ms = started.elapsed().as_millis() as u64,
        "catalog ready"
    );
    match app.run_until(server::shutdown_signal()).await {
        Ok(()) => {
            tracing::info!("catalog stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "catalog server failed");
            ExitCode::FAILURE
        }
    }
}
