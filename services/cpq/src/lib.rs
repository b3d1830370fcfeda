//! The CPQ service: quotes with revisions, items configured against pinned catalog offering
//! versions, pricing with trace and hash, an approval policy, acceptance and exactly one
//! conversion to an order (ADR 0013). Layers as in the catalog: `http` → `app` → `domain`, with
//! `infra` for storage and the catalog client.

pub mod app;
pub mod domain;
pub mod http;
pub mod infra;

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use axum::Router;
use common_kernel::cache::Cache;
use common_kernel::db::{self, DbError};
use common_kernel::http::health::HealthState;
use common_kernel::http::platform::{self, ServiceRoutes};
use common_kernel::http::server;
use common_kernel::idempotency::CommandRunner;
use common_kernel::settings::{Settings, SettingsError};
use messaging::relay::{self, RelayConfig};
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;

use infra::catalog_client::CatalogClient;

/// Service name in logs, metrics and health answers.
pub const SERVICE: &str = "cpq";
/// Default HTTP port.
pub const DEFAULT_PORT: u16 = 8082;
/// The schema this service owns.
pub const SCHEMA: &str = "cpq_schema";
/// Where the catalog answers unless `CATALOG_URL` says otherwise.
pub const DEFAULT_CATALOG_URL: &str = "http://127.0.0.1:8081";
/// CPQ's migrations, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/cpq");

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Settings were invalid.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The database could not be prepared.
    #[error(transparent)]
    Database(#[from] DbError),
    /// The HTTP client for the catalog could not be built.
    #[error("cannot build the catalog client")]
    CatalogClient(#[source] reqwest::Error),
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

/// CPQ's own settings on top of the platform's.
#[derive(Debug, Clone)]
pub struct CpqSettings {
    /// Base URL of the catalog API (`CATALOG_URL`).
    pub catalog_url: String,
    /// How often the expiry job runs (`APP__CPQ__EXPIRY_INTERVAL_MS`, default 30 s).
    pub expiry_interval: Duration,
}

impl CpqSettings {
    /// Reads CPQ settings through `lookup` (the environment in production, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let catalog_url = lookup("CATALOG_URL")
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_CATALOG_URL.to_owned());
        if !catalog_url.starts_with("http://") {
            return Err(SettingsError {
                name: "CATALOG_URL".into(),
                value: catalog_url,
                reason:
                    "must be an http:// URL (the client carries no TLS; terminate TLS in the mesh)"
                        .into(),
            });
        }
        let expiry_ms =
            match lookup("APP__CPQ__EXPIRY_INTERVAL_MS").filter(|v| !v.trim().is_empty()) {
                None => 30_000,
                Some(raw) => match raw.trim().parse::<u64>() {
                    Ok(ms) if ms > 0 => ms,
                    _ => {
                        return Err(SettingsError {
                            name: "APP__CPQ__EXPIRY_INTERVAL_MS".into(),
                            value: raw,
                            reason: "expected a positive number of milliseconds".into(),
                        });
                    }
                },
            };
        Ok(Self {
            catalog_url,
            expiry_interval: Duration::from_millis(expiry_ms),
        })
    }

    /// Reads CPQ settings from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

/// A built service, bound to its port and ready to serve.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    router: Router,
    db: PgPool,
    runner: CommandRunner,
    relay: Option<RelayConfig>,
    expiry_interval: Duration,
}

impl Application {
    /// Connects, migrates, binds and wires the router. Port 0 picks a free port (tests).
    pub async fn build(settings: Settings, cpq: CpqSettings) -> Result<Self, StartupError> {
        let db = db::connect(&settings.database, SCHEMA).await?;
        db::migrate(&db, SCHEMA, &MIGRATOR).await?;
        let cache = Cache::new(&settings.redis);
        common_kernel::http::metrics::recorder();
        let runner = CommandRunner::new(db.clone(), settings.idempotency_ttl);
        let catalog = CatalogClient::new(&cpq.catalog_url, cache.clone())
            .map_err(StartupError::CatalogClient)?;
        let state = http::AppState {
            db: db.clone(),
            runner: runner.clone(),
            catalog,
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
            expiry_interval: cpq.expiry_interval,
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
    /// Meanwhile the outbox relay publishes committed events (unless `KAFKA_BROKERS=disabled`),
    /// the expiry job expires quotes past their validity and expired idempotency records are
    /// purged.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let purger = tokio::spawn(purge_idempotency_records(self.runner.clone()));
        let expiry = tokio::spawn(expire_quotes(self.db.clone(), self.expiry_interval));
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
        expiry.abort();
        if let Some(relay) = relay {
            relay.shutdown().await;
        }
        self.db.close().await;
        result
    }
}

/// How often expired idempotency records are deleted.
const PURGE_INTERVAL: Duration = Duration::from_secs(15 * 60);

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

async fn expire_quotes(db: PgPool, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match app::expiry::expire_due(&db).await {
            Ok(0) => {}
            Ok(expired) => tracing::info!(expired, "quotes expired"),
            Err(error) => tracing::warn!(%error, "quote expiry failed; retrying later"),
        }
    }
}

/// The binary's whole life: settings, telemetry, build, serve until SIGINT/SIGTERM.
pub async fn run_main() -> ExitCode {
    let settings = match Settings::from_env(SERVICE, DEFAULT_PORT)
        .and_then(|s| Ok((s, CpqSettings::from_env()?)))
    {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("cpq: {error}");
            return ExitCode::FAILURE;
        }
    };
    let (settings, cpq) = settings;
    let _telemetry = common_kernel::telemetry::init(SERVICE, settings.log_format);
    let started = std::time::Instant::now();
    let app = match Application::build(settings, cpq).await {
        Ok(app) => app,
        Err(error) => {
            tracing::error!(error = %error, cause = ?error, "cpq failed to start");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        port = app.port(),
        startup_ms = started.elapsed().as_millis() as u64,
        "cpq ready"
    );
    match app.run_until(server::shutdown_signal()).await {
        Ok(()) => {
            tracing::info!("cpq stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "cpq server failed");
            ExitCode::FAILURE
        }
    }
}
