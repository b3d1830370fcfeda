//! Builds and runs the engine: pool + migrations, notifier, timer scheduler, the gRPC gateway
//! and the REST API, each on its own port (port 0 in tests).

use std::net::SocketAddr;
use std::time::Duration;

use common_kernel::auth::{AuthSettings, Verifier};
use common_kernel::cache::Cache;
use common_kernel::http::health::HealthState;
use common_kernel::http::platform::{self, ServiceRoutes};
use common_kernel::rate_limit::RateLimiter;
use common_kernel::settings::{CorsSettings, DatabaseSettings, HttpSettings, RateLimitSettings};
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::{Engine, EngineConfig, Notifier};
use crate::grpc::{GatewayService, RequireToken, proto::gateway_server::GatewayServer};

/// Service name reported by the health endpoints.
pub const SERVICE: &str = "workflow-engine";

/// The engine's PostgreSQL schema.
pub const SCHEMA: &str = "workflow_schema";

/// Migrations of `workflow_schema`, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/workflow");

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The client that reads the issuer's keys could not be built.
    #[error("cannot build the token verifier")]
    Verifier(#[source] reqwest::Error),
    /// Database connection or migration failed.
    #[error("database")]
    Db(#[from] common_kernel::db::DbError),
    /// The notification listener could not connect.
    #[error("notification listener")]
    Listener(#[source] sqlx::Error),
    /// A port could not be bound.
    #[error("cannot bind {address}")]
    Bind {
        /// Requested address.
        address: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// Where the engine listens.
#[derive(Debug, Clone)]
pub struct Listen {
    /// Interface for both ports.
    pub host: String,
    /// Zeebe gateway (gRPC) port; Zeebe's is 26500.
    pub grpc_port: u16,
    /// REST API port (`WORKFLOW_REST_PORT`, default 8090).
    pub rest_port: u16,
    /// Body size and request time limits of the REST API.
    pub http: HttpSettings,
    /// The issuer whose tokens the REST API requires (ADR 0030). The gRPC gateway serves the
    /// local stack without tokens unless [`Listen::grpc_requires_token`]; in production Camunda
    /// 8's own identity protects Zeebe.
    pub auth: AuthSettings,
    /// Whether the gRPC gateway, too, refuses calls without a valid token of `auth`'s issuer
    /// (`WORKFLOW_GRPC_REQUIRE_TOKEN=true`), for an engine reachable beyond one machine.
    pub grpc_requires_token: bool,
    /// Rate limits of the REST API per tenant and client, kept in this process: the engine is
    /// one process and uses no Redis.
    pub rate_limit: RateLimitSettings,
}

impl Listen {
    /// Both ports on `host`, with the platform's default HTTP limits (1 MiB, 30 s) and no
    /// cross-origin access, accepting tokens of `auth`'s issuer on the REST API.
    pub fn new(host: &str, grpc_port: u16, rest_port: u16, auth: AuthSettings) -> Self {
        Self {
            host: host.to_owned(),
            grpc_port,
            rest_port,
            http: HttpSettings {
                max_body_bytes: 1024 * 1024,
                request_timeout: Duration::from_secs(30),
                cors: CorsSettings::default(),
            },
            auth,
            grpc_requires_token: false,
            rate_limit: RateLimitSettings::default(),
        }
    }
}

/// A running engine: its ports, and a handle to stop it (tests restart it mid-instance).
#[derive(Debug)]
pub struct Application {
    address: SocketAddr,
    rest_address: SocketAddr,
    engine: Engine,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<Result<(), tonic::transport::Error>>,
    rest: JoinHandle<std::io::Result<()>>,
    listener: JoinHandle<()>,
    scheduler: JoinHandle<()>,
}

async fn bind(host: &str, port: u16) -> Result<(TcpListener, SocketAddr), StartupError> {
    let address = format!("{host}:{port}");
    let tcp = TcpListener::bind(&address)
        .await
        .map_err(|source| StartupError::Bind {
            address: address.clone(),
            source,
        })?;
    let bound = tcp
        .local_addr()
        .map_err(|source| StartupError::Bind { address, source })?;
    Ok((tcp, bound))
}

/// Creates `workflow_schema` and applies the engine's migrations on the database at
/// `database` without starting anything: for tools and test templates that prepare a database
/// the engine will later start on.
pub async fn prepare_database(database: &DatabaseSettings) -> Result<(), StartupError> {
    let pool = common_kernel::db::connect(database, SCHEMA).await?;
    let migrated = common_kernel::db::migrate(&pool, SCHEMA, &MIGRATOR).await;
    pool.close().await;
    Ok(migrated?)
}

impl Application {
    /// Connects, migrates, serves the gateway on `host:port` and the REST API on a free port of
    /// the same host (see [`Application::rest_port`]); for embedders that choose only the
    /// gateway port, like the tests.
    pub async fn build(
        database: &DatabaseSettings,
        host: &str,
        port: u16,
        auth: AuthSettings,
        config: EngineConfig,
    ) -> Result<Self, StartupError> {
        Self::start(database, &Listen::new(host, port, 0, auth), config).await
    }

    /// Connects, migrates, binds both ports and starts serving, the timer scheduler and the
    /// notification listener.
    pub async fn start(
        database: &DatabaseSettings,
        listen: &Listen,
        config: EngineConfig,
    ) -> Result<Self, StartupError> {
        let pool = common_kernel::db::connect(database, SCHEMA).await?;
        common_kernel::db::migrate(&pool, SCHEMA, &MIGRATOR).await?;
        let (tcp, address) = bind(&listen.host, listen.grpc_port).await?;
        let (rest_tcp, rest_address) = bind(&listen.host, listen.rest_port).await?;
        let (shutdown, stop) = watch::channel(false);
        let (notifier, listener) = Notifier::start(&pool, stop.clone())
            .await
            .map_err(StartupError::Listener)?;
        let engine = Engine::new(pool.clone(), notifier, config);
        let scheduler = engine.start_scheduler(stop.clone());
        let service = GatewayServer::new(GatewayService::new(engine.clone()))
            .max_decoding_message_size(16 * 1024 * 1024);
        let verifier =
            std::sync::Arc::new(Verifier::new(&listen.auth).map_err(StartupError::Verifier)?);
        let mut stop_server = stop.clone();
        let incoming = tonic::transport::server::TcpIncoming::from(tcp).with_nodelay(Some(true));
        let shutdown_signal = async move {
            let _ = stop_server.changed().await;
        };
        let server = if listen.grpc_requires_token {
            tokio::spawn(
                tonic::transport::Server::builder()
                    .layer(RequireToken::new(verifier.clone()))
                    .add_service(service)
                    .serve_with_incoming_shutdown(incoming, shutdown_signal),
            )
        } else {
            tokio::spawn(
                tonic::transport::Server::builder()
                    .add_service(service)
                    .serve_with_incoming_shutdown(incoming, shutdown_signal),
            )
        };
        common_kernel::http::metrics::recorder();
        let router = platform::assemble(
            ServiceRoutes {
                api: crate::http::routes(engine.clone()),
                open: axum::Router::new(),
                openapi_json: crate::http::openapi::openapi_json(),
                health: HealthState {
                    service: SERVICE,
                    db: pool,
                    cache: Cache::disabled(),
                },
                verifier,
                limiter: RateLimiter::local_only(&listen.rate_limit),
            },
            &listen.http,
        );
        let mut stop_rest = stop;
        let rest = tokio::spawn(common_kernel::http::server::serve(
            rest_tcp,
            router,
            async move {
                let _ = stop_rest.changed().await;
            },
        ));
        tracing::info!(%address, %rest_address, "workflow engine listening (Zeebe gateway gRPC, REST)");
        Ok(Self {
            address,
            rest_address,
            engine,
            shutdown,
            server,
            rest,
            listener,
            scheduler,
        })
    }

    /// The bound gateway (gRPC) port.
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The bound REST API port.
    pub fn rest_port(&self) -> u16 {
        self.rest_address.port()
    }

    /// The engine (operator views and tests).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Stops accepting, ends long polls, lets the scheduler finish the timer it is firing,
    /// waits for in-flight requests, closes the pool.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.server.await;
        let _ = self.rest.await;
        let _ = self.scheduler.await;
        let _ = self.listener.await;
        self.engine.pool().close().await;
    }

    /// Serves until SIGINT/SIGTERM, then stops gracefully.
    pub async fn run_until_signal(self) {
        shutdown_signal().await;
        tracing::info!("shutdown requested");
        self.stop().await;
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}
