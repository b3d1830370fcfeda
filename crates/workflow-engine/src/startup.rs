//! Builds and runs the engine: pool + migrations, notifier, gRPC listener (port 0 in tests).

use std::net::SocketAddr;

use common_kernel::settings::DatabaseSettings;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::{Engine, EngineConfig, Notifier};
use crate::grpc::{GatewayService, proto::gateway_server::GatewayServer};

/// The engine's PostgreSQL schema.
pub const SCHEMA: &str = "workflow_schema";

/// Migrations of `workflow_schema`, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/workflow");

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Database connection or migration failed.
    #[error("database")]
    Db(#[from] common_kernel::db::DbError),
    /// The notification listener could not connect.
    #[error("notification listener")]
    Listener(#[source] sqlx::Error),
    /// The gRPC port could not be bound.
    #[error("cannot bind {address}")]
    Bind {
        /// Requested address.
        address: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// A running engine: its port, and a handle to stop it (tests restart it mid-instance).
#[derive(Debug)]
pub struct Application {
    address: SocketAddr,
    engine: Engine,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<Result<(), tonic::transport::Error>>,
    listener: JoinHandle<()>,
    scheduler: JoinHandle<()>,
}

impl Application {
    /// Connects, migrates, binds `host:port` and starts serving.
    pub async fn build(
        database: &DatabaseSettings,
        host: &str,
        port: u16,
        config: EngineConfig,
    ) -> Result<Self, StartupError> {
        let pool = common_kernel::db::connect(database, SCHEMA).await?;
        common_kernel::db::migrate(&pool, SCHEMA, &MIGRATOR).await?;
        let address = format!("{host}:{port}");
        let tcp = TcpListener::bind(&address)
            .await
            .map_err(|source| StartupError::Bind {
                address: address.clone(),
                source,
            })?;
        let address = tcp
            .local_addr()
            .map_err(|source| StartupError::Bind { address, source })?;
        let (shutdown, stop) = watch::channel(false);
        let (notifier, listener) = Notifier::start(&pool, stop.clone())
            .await
            .map_err(StartupError::Listener)?;
        let engine = Engine::new(pool, notifier, config);
        let scheduler = engine.start_scheduler(stop.clone());
        let service = GatewayServer::new(GatewayService::new(engine.clone()))
            .max_decoding_message_size(16 * 1024 * 1024);
        let mut stop_server = stop;
        let incoming = tonic::transport::server::TcpIncoming::from(tcp).with_nodelay(Some(true));
        let server = tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming_shutdown(incoming, async move {
                    let _ = stop_server.changed().await;
                }),
        );
        tracing::info!(%address, "workflow engine listening (Zeebe gateway protocol)");
        Ok(Self {
            address,
            engine,
            shutdown,
            server,
            listener,
            scheduler,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.address.port()
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
