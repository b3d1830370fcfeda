//! The process around a service's own router, identical for every bounded context: migrate the
//! schema through the owner's pool, open the app role's pool for request handling and the jobs
//! role's for the work that crosses tenants (ADR 0030), share the cache and the idempotent command runner, mount the platform endpoints (health,
//! metrics, contract, `/ops/messaging`), relay the outbox, run the service's background jobs, and
//! drain everything on shutdown. Services keep their routes, settings and jobs; the lifecycle
//! lives here once.

use std::future::Future;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use axum::Router;
use common_kernel::auth::{AuthSettings, Verifier};
use common_kernel::cache::Cache;
use common_kernel::db::{self, DbError};
use common_kernel::http::health::HealthState;
use common_kernel::http::platform::{self, ServiceRoutes};
use common_kernel::http::server;
use common_kernel::idempotency::CommandRunner;
use common_kernel::rate_limit::RateLimiter;
use common_kernel::settings::{DatabaseSettings, LogFormat, Settings};
use messaging::relay::{self, RelayConfig};
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The event backbone, re-exported so a service's tests reach `messaging::schema` (to migrate a
/// test database as `Foundation::open` does) without depending on it themselves.
pub use messaging;

/// Who the process is: the name in logs, metrics and health answers, and the schema it owns.
#[derive(Debug, Clone, Copy)]
pub struct ServiceIdentity {
    /// Service name.
    pub name: &'static str,
    /// The one schema the service owns.
    pub schema: &'static str,
    /// Its own migrations, embedded at build time (the platform tables come from
    /// `messaging::schema` and are applied first).
    pub migrator: &'static Migrator,
}

/// Why the shared part of a start failed.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
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
    /// A setting every service needs is missing.
    #[error(transparent)]
    Settings(#[from] common_kernel::settings::SettingsError),
    /// The client that reads the issuer's keys could not be built.
    #[error("cannot build the token verifier")]
    Verifier(#[source] reqwest::Error),
}

/// What a service's handlers share: its pools, the cache and the command runner.
#[derive(Debug, Clone)]
pub struct Foundation {
    /// Request handling's pool on the service's schema: the role `<service>_app`, subject to
    /// row-level security. Open every transaction on it with `common_kernel::db::begin_for_tenant`
    /// (or `begin_read_for_tenant`); without a tenant it sees no row.
    pub db: PgPool,
    /// The pool of the work that crosses tenants: the role `<service>_jobs`, which bypasses
    /// row-level security but owns nothing and may run only what its migrations grant. The outbox
    /// relay, `/ops/messaging`, the idempotency purge and the service's own background jobs
    /// (quote expiry) run on it. Never for a request's data.
    pub jobs_db: PgPool,
    /// The schema owner's pool (`DATABASE_URL`), one connection: it ran the migrations, and now
    /// only the relay's vacuum of its queue, the one statement that needs the owner. Kept out of
    /// the services' reach, since the owner can run any DDL.
    owner_db: PgPool,
    /// Redis read-through (a no-op when Redis is disabled or down).
    pub cache: Cache,
    /// Idempotent command execution.
    pub runner: CommandRunner,
}

impl Foundation {
    /// Connects to the service's schema as its owner, applies the platform migrations (outbox,
    /// inbox, idempotency records; owned by `messaging`) and then the service's own (which also
    /// create and grant the app and jobs roles), then opens the app role's and the jobs role's
    /// pools, and prepares cache, metrics recorder and command runner. Refuses to start when a
    /// role would defeat tenant isolation or could do more than its work: an owner that cannot
    /// cross tenants, an app role that bypasses row-level security or can act as the owner, a
    /// jobs role that is a superuser, owns objects, can act as the owner or cannot cross tenants.
    pub async fn open(identity: &ServiceIdentity, settings: &Settings) -> Result<Self, HostError> {
        let owner = DatabaseSettings {
            max_connections: OWNER_MAX_CONNECTIONS,
            ..settings.database.clone()
        };
        let owner_db = db::connect(&owner, identity.schema).await?;
        messaging::schema::migrate(&owner_db, identity.schema, identity.migrator).await?;
        db::check_owner_role(&owner_db).await?;
        let db = db::connect(&settings.app_database(identity.name), identity.schema).await?;
        db::check_app_role(&db, identity.schema).await?;
        let jobs_db = db::connect(&settings.jobs_database(identity.name), identity.schema).await?;
        db::check_jobs_role(&jobs_db, identity.schema).await?;
        common_kernel::http::metrics::recorder();
        Ok(Self {
            runner: CommandRunner::new(db.clone(), settings.idempotency_ttl)
                .with_purge_pool(jobs_db.clone()),
            cache: Cache::new(&settings.redis),
            db,
            jobs_db,
            owner_db,
        })
    }
}

/// The owner's pool size: migrations run on one connection (sqlx's migrator holds one for its
/// advisory lock), and afterwards only the relay's occasional vacuum uses it. Idle, the
/// connection is closed by the pool after its idle timeout and opened again when needed.
const OWNER_MAX_CONNECTIONS: u32 = 1;

/// A service bound to its port, with the platform endpoints mounted around its API.
#[derive(Debug)]
pub struct Host {
    listener: TcpListener,
    router: Router,
    foundation: Foundation,
    relay: Option<RelayConfig>,
}

impl Host {
    /// Mounts `api` with `/ops/messaging` and the platform endpoints, and binds the configured
    /// address (port 0 picks a free port, for tests). The outbox relay is configured unless
    /// `KAFKA_BROKERS=disabled`.
    pub async fn bind(
        identity: &ServiceIdentity,
        settings: &Settings,
        foundation: Foundation,
        api: Router,
        openapi_json: String,
    ) -> Result<Self, HostError> {
        Self::bind_with_open(
            identity,
            settings,
            foundation,
            api,
            Router::new(),
            openapi_json,
        )
        .await
    }

    /// [`Host::bind`] with routes that skip the bearer check (`open`): a browser console that
    /// signs in with a session cookie of its own.
    pub async fn bind_with_open(
        identity: &ServiceIdentity,
        settings: &Settings,
        foundation: Foundation,
        api: Router,
        open: Router,
        openapi_json: String,
    ) -> Result<Self, HostError> {
        let ops = messaging::ops::router(messaging::ops::MessagingOps {
            pool: foundation.jobs_db.clone(),
            consumers: std::sync::Arc::new(Vec::new()),
        });
        let router = platform::assemble(
            ServiceRoutes {
                api: api.merge(ops),
                open,
                openapi_json,
                health: HealthState {
                    service: identity.name,
                    db: foundation.db.clone(),
                    cache: foundation.cache.clone(),
                },
                verifier: std::sync::Arc::new(
                    Verifier::new(
                        settings
                            .auth
                            .as_ref()
                            .ok_or_else(|| HostError::Settings(AuthSettings::missing()))?,
                    )
                    .map_err(HostError::Verifier)?,
                ),
                limiter: RateLimiter::new(&settings.rate_limit, &settings.redis),
            },
            &settings.http,
        );
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener = TcpListener::bind(&address)
            .await
            .map_err(|source| HostError::Bind { address, source })?;
        let relay = settings
            .kafka
            .brokers
            .as_deref()
            .map(|brokers| RelayConfig::new(identity.schema, brokers));
        Ok(Self {
            listener,
            router,
            foundation,
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

    /// The jobs role's pool, for the service's own background jobs that cross tenants (its rows
    /// are every tenant's: never hand it to request handling). A job may run only what the
    /// service's migrations grant `<service>_jobs`; a new job grants its statements there.
    pub fn jobs_db(&self) -> &PgPool {
        &self.foundation.jobs_db
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests, stops `jobs` (the
    /// service's own background tasks), flushes the relay and closes the pools. Meanwhile the
    /// relay publishes committed events and expired idempotency records are purged, both on the
    /// jobs role's pool.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
        jobs: Vec<JoinHandle<()>>,
    ) -> std::io::Result<()> {
        let purger = tokio::spawn(purge_idempotency_records(self.foundation.runner.clone()));
        let relay = match self.relay {
            Some(config) => match relay::spawn_with_vacuum_pool(
                self.foundation.jobs_db.clone(),
                self.foundation.owner_db.clone(),
                config,
            ) {
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
        for job in jobs {
            job.abort();
        }
        if let Some(relay) = relay {
            relay.shutdown().await;
        }
        self.foundation.db.close().await;
        self.foundation.jobs_db.close().await;
        self.foundation.owner_db.close().await;
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

/// A built service the binary can run: what [`run_main`] needs of it.
pub trait Service: Sized {
    /// The bound port (logged when ready).
    fn port(&self) -> u16;
    /// Serves until `shutdown` resolves.
    fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = std::io::Result<()>>;
}

/// A binary's whole life: read settings (`read` reports what is wrong), start telemetry,
/// `build`, serve until SIGINT/SIGTERM; the exit code says whether it went well.
pub async fn run_main<C, S, E, Fut>(
    name: &'static str,
    read: impl FnOnce() -> Result<(C, LogFormat), String>,
    build: impl FnOnce(C) -> Fut,
) -> ExitCode
where
    S: Service,
    E: std::error::Error,
    Fut: Future<Output = Result<S, E>>,
{
    let (config, log_format) = match read() {
        Ok(read) => read,
        Err(error) => {
            eprintln!("{name}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let _telemetry = common_kernel::telemetry::init(name, log_format);
    let started = Instant::now();
    let service = match build(config).await {
        Ok(service) => service,
        Err(error) => {
            tracing::error!(error = %error, cause = ?error, "{name} failed to start");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        port = service.port(),
        startup_ms = started.elapsed().as_millis() as u64,
        "{name} ready"
    );
    match service.run_until(server::shutdown_signal()).await {
        Ok(()) => {
            tracing::info!("{name} stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "{name} server failed");
            ExitCode::FAILURE
        }
    }
}

/// Runs `pass` at once, then again on every notification on `channel` (sent at commit by the
/// transaction that made new work) and at least every `every`: the loop of a background job that
/// must react fast without hammering the database. A lost connection is re-established by the
/// next receive, after a pause; without a listener at all it polls.
pub async fn on_notification_or_every<F, Fut>(
    db: sqlx::PgPool,
    channel: &'static str,
    every: std::time::Duration,
    mut pass: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut listener = match sqlx::postgres::PgListener::connect_with(&db).await {
        Ok(mut listener) => match listener.listen(channel).await {
            Ok(()) => Some(listener),
            Err(error) => {
                tracing::warn!(%error, channel, "cannot listen; polling only");
                None
            }
        },
        Err(error) => {
            tracing::warn!(%error, channel, "cannot listen; polling only");
            None
        }
    };
    loop {
        pass().await;
        match listener.as_mut() {
            Some(listener) => {
                if let Ok(Err(error)) = tokio::time::timeout(every, listener.recv()).await {
                    tracing::warn!(%error, channel, "the notification channel failed");
                    tokio::time::sleep(every).await;
                }
            }
            None => tokio::time::sleep(every).await,
        }
    }
}
