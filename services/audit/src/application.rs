//! The running service: the HTTP door, the consumer of submitted evidence and the checkpoint
//! job, over one foundation (pools, outbox relay, idempotency purge) from the shared host.

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use common_kernel::settings::{Settings, SettingsError};
use messaging::batch_consumer::{BatchConfig, spawn_batched};
use messaging::consumer::{self, ConsumerConfig};
use service_host::{Foundation, Host, HostError, ServiceIdentity};
use sqlx::PgPool;
use sqlx::migrate::Migrator;

use crate::app::{Keyring, checkpoints};
use crate::infra::evidence_consumer::{CONSUMER_GROUP, EVIDENCE_TOPIC, EvidenceHandler};
use crate::settings::AuditSettings;

/// Service name in logs, metrics and health answers.
pub const SERVICE: &str = "audit";
/// Default HTTP port.
pub const DEFAULT_PORT: u16 = 8086;
/// The schema this service owns.
pub const SCHEMA: &str = "audit_schema";
/// The audit service's migrations, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/audit");

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
    /// The consumer of submitted evidence could not start.
    #[error("the evidence consumer: {0}")]
    Consumer(#[from] rdkafka::error::KafkaError),
}

/// A built service, bound to its port and ready to serve.
pub struct Application {
    host: Host,
    keys: Arc<Keyring>,
    checkpoint_interval: Duration,
    consumer: Option<consumer::ConsumerHandle>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.host.port())
            .field("consumer", &self.consumer.is_some())
            .finish()
    }
}

impl Application {
    /// Connects, migrates, starts the evidence consumer, binds and wires the router. Port 0
    /// picks a free port (tests).
    pub async fn build(settings: Settings, audit: AuditSettings) -> Result<Self, StartupError> {
        let foundation = Foundation::open(&IDENTITY, &settings).await?;
        let keys = Arc::new(Keyring::new(audit.signing_key, audit.retired_public_keys));
        tracing::info!(
            key_id = keys.active().key_id(),
            "checkpoint signing key loaded"
        );
        let consumer = match settings.kafka.brokers.clone() {
            Some(brokers) => {
                // Several pieces of evidence may name one resource version: every one is kept
                // (batches never apply the version guard).
                let config = BatchConfig::new(ConsumerConfig::new(
                    CONSUMER_GROUP,
                    vec![EVIDENCE_TOPIC.to_owned()],
                    brokers,
                ));
                Some(spawn_batched(
                    foundation.jobs_db.clone(),
                    config,
                    EvidenceHandler,
                )?)
            }
            None => None,
        };
        let state = crate::http::AppState {
            db: foundation.db.clone(),
            keys: Arc::clone(&keys),
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
            keys,
            checkpoint_interval: audit.checkpoint_interval,
            consumer,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.host.port()
    }

    /// Serves until `shutdown` resolves, then stops the consumer after its current message,
    /// drains in-flight requests and closes the pools.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let jobs = vec![tokio::spawn(checkpoint_loop(
            self.host.jobs_db().clone(),
            Arc::clone(&self.keys),
            self.checkpoint_interval,
        ))];
        let served = self.host.run_until(shutdown, jobs).await;
        if let Some(consumer) = self.consumer {
            consumer.shutdown().await;
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

/// The checkpoint job on the jobs role's pool (see [`checkpoints::publish_grown`]).
async fn checkpoint_loop(db: PgPool, keys: Arc<Keyring>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match checkpoints::publish_grown(&db, &keys).await {
            Ok(0) => {}
            Ok(published) => tracing::debug!(published, "checkpoints published"),
            Err(error) => tracing::warn!(%error, "checkpoint job failed; retrying next round"),
        }
    }
}

/// The binary's whole life: settings, telemetry, build, serve until SIGINT/SIGTERM.
pub async fn run_main() -> ExitCode {
    service_host::run_main(
        SERVICE,
        || {
            let settings = Settings::from_env(SERVICE, DEFAULT_PORT).map_err(|e| e.to_string())?;
            let audit = AuditSettings::from_env().map_err(|e| e.to_string())?;
            let format = settings.log_format;
            Ok(((settings, audit), format))
        },
        |(settings, audit)| Application::build(settings, audit),
    )
    .await
}
