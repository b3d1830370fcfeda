//! The CPQ service: quotes with revisions, items configured against pinned catalog offering
//! versions, pricing with trace and hash, approval by the approval service (whose events CPQ
//! follows, ADR 0035), acceptance and exactly one conversion to an order (ADR 0013). Layers:
//! `http` → `app` → `domain`; `infra` implements the ports `app` owns (quote storage, approval
//! evidence, the catalog client) and the approval consumer, and this file wires them.

pub mod app;
pub mod domain;
pub mod http;
pub mod infra;

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use common_kernel::auth::ServiceTokens;
use common_kernel::settings::{Settings, SettingsError};
use service_host::{Foundation, Host, HostError, ServiceIdentity};
use sqlx::PgPool;
use sqlx::migrate::Migrator;

use app::ports::Ports;
use infra::approval_consumer::ApprovalOutcomes;
use infra::approval_evidence::PgApprovalEvidence;
use infra::catalog_client::CatalogClient;
use infra::quotes::PgQuoteRepository;
use service_host::messaging::consumer::{self, ConsumerConfig, ConsumerHandle};

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
    #[error("cannot build the catalog client")]
    CatalogClient(#[source] reqwest::Error),
}

/// CPQ's own settings on top of the platform's.
#[derive(Debug, Clone)]
pub struct CpqSettings {
    /// Base URL of the catalog API (`CATALOG_URL`).
    pub catalog_url: String,
    /// How often the expiry job runs (`APP__CPQ__EXPIRY_INTERVAL_MS`, default 30 s).
    pub expiry_interval: Duration,
    /// The approval service's topic (`APP__CPQ__APPROVAL_EVENTS_TOPIC`, default
    /// `cpq.approval.events.v1`; tests give each run its own).
    pub approval_topic: String,
    /// The consumer group reading it (`APP__CPQ__APPROVAL_CONSUMER_GROUP`, default
    /// `cpq.approval-outcomes`).
    pub approval_group: String,
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
        let named = |name: &str, default: &str| -> Result<String, SettingsError> {
            match lookup(name).filter(|v| !v.trim().is_empty()) {
                None => Ok(default.to_owned()),
                Some(value) if is_kafka_name(value.trim()) => Ok(value.trim().to_owned()),
                Some(value) => Err(SettingsError {
                    name: name.into(),
                    value,
                    reason: "1-249 characters of a-z, A-Z, 0-9, '.', '_' and '-'".into(),
                }),
            }
        };
        Ok(Self {
            catalog_url,
            expiry_interval: Duration::from_millis(expiry_ms),
            approval_topic: named(
                "APP__CPQ__APPROVAL_EVENTS_TOPIC",
                app::approval_outcomes::APPROVAL_TOPIC,
            )?,
            approval_group: named(
                "APP__CPQ__APPROVAL_CONSUMER_GROUP",
                app::approval_outcomes::CONSUMER_GROUP,
            )?,
        })
    }

    /// Reads CPQ settings from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

/// Whether `name` is a legal Kafka topic or group name.
fn is_kafka_name(name: &str) -> bool {
    (1..=249).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// A built service, bound to its port and ready to serve.
#[derive(Debug)]
pub struct Application {
    host: Host,
    ports: Ports,
    expiry_interval: Duration,
    /// Where the approval consumer reads; `None` with `KAFKA_BROKERS=disabled`.
    approvals: Option<ConsumerConfig>,
}

impl Application {
    /// Connects, migrates, binds and wires the router. Port 0 picks a free port (tests).
    pub async fn build(settings: Settings, cpq: CpqSettings) -> Result<Self, StartupError> {
        let foundation = Foundation::open(&IDENTITY, &settings).await?;
        let service_tokens = settings
            .auth
            .as_ref()
            .map(ServiceTokens::new)
            .transpose()
            .map_err(StartupError::CatalogClient)?
            .flatten()
            .map(Arc::new);
        let catalog =
            CatalogClient::new(&cpq.catalog_url, foundation.cache.clone(), service_tokens)
                .map_err(StartupError::CatalogClient)?;
        let ports = Ports {
            catalog: Arc::new(catalog),
            quotes: Arc::new(PgQuoteRepository),
            approvals: Arc::new(PgApprovalEvidence),
        };
        // Off with `KAFKA_BROKERS=disabled`, like the relay: quotes then wait in SUBMITTED.
        let approvals = settings.kafka.brokers.as_deref().map(|brokers| {
            ConsumerConfig::new(
                cpq.approval_group.clone(),
                vec![cpq.approval_topic.clone()],
                brokers,
            )
        });
        let state = http::AppState {
            db: foundation.db.clone(),
            runner: foundation.runner.clone(),
            ports: ports.clone(),
        };
        let host = Host::bind(
            &IDENTITY,
            &settings,
            foundation,
            http::routes(state),
            http::openapi::openapi_json(),
        )
        .await?;
        Ok(Self {
            host,
            ports,
            expiry_interval: cpq.expiry_interval,
            approvals,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.host.port()
    }

    /// The handler the approval consumer runs, over this service's ports: tests and tools
    /// deliver approval events through it without a broker, in a transaction of their own on
    /// the jobs role's pool (ADR 0035).
    pub fn approval_outcomes(&self) -> ApprovalOutcomes {
        ApprovalOutcomes::new(self.ports.clone())
    }

    /// Serves until `shutdown` resolves, then stops the approval consumer after its current
    /// event, drains in-flight requests and closes the pools. Meanwhile the outbox relay
    /// publishes committed events and the approval consumer follows the approval service
    /// (both unless `KAFKA_BROKERS=disabled`), the expiry job expires quotes past their validity
    /// and expired idempotency records are purged.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let consumer = self
            .approvals
            .and_then(|config| approval_consumer(self.host.jobs_db(), &self.ports, config));
        let expiry = tokio::spawn(expire_quotes(
            self.host.jobs_db().clone(),
            self.ports,
            self.expiry_interval,
        ));
        // The consumer stops before the host closes the pools it writes through.
        let shutdown = async move {
            shutdown.await;
            if let Some(consumer) = consumer {
                consumer.shutdown().await;
            }
        };
        self.host.run_until(shutdown, vec![expiry]).await
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

/// Starts the consumer of the approval service's events on the jobs role's pool (`cpq_jobs`:
/// events of every tenant, and only what `migrations/cpq/20261216000001_approval_outcomes.sql`
/// grants). A broker that cannot be reached at start is not fatal: the client keeps trying.
fn approval_consumer(
    jobs_db: &PgPool,
    ports: &Ports,
    config: ConsumerConfig,
) -> Option<ConsumerHandle> {
    let group = config.group_id.clone();
    match consumer::spawn(
        jobs_db.clone(),
        config,
        ApprovalOutcomes::new(ports.clone()),
    ) {
        Ok(handle) => {
            tracing::info!(%group, "approval consumer started");
            Some(handle)
        }
        Err(error) => {
            tracing::error!(%error, %group, "approval consumer not started; submitted quotes wait");
            None
        }
    }
}

/// The expiry loop, on the jobs role's pool (`cpq_jobs`): the job finds due quotes of every
/// tenant in one batch, which row-level security would hide from the app role, and may run only
/// what `migrations/cpq/20261208000001_jobs_role.sql` grants (docs/runbooks/cpq.md).
async fn expire_quotes(db: PgPool, ports: Ports, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match app::expire_quotes::expire_due(&db, &ports).await {
            Ok(0) => {}
            Ok(expired) => tracing::info!(expired, "quotes expired"),
            Err(error) => tracing::warn!(%error, "quote expiry failed; retrying later"),
        }
    }
}

/// The binary's whole life: settings, telemetry, build, serve until SIGINT/SIGTERM.
pub async fn run_main() -> ExitCode {
    service_host::run_main(
        SERVICE,
        || {
            let settings = Settings::from_env(SERVICE, DEFAULT_PORT).map_err(|e| e.to_string())?;
            let cpq = CpqSettings::from_env().map_err(|e| e.to_string())?;
            let format = settings.log_format;
            Ok(((settings, cpq), format))
        },
        |(settings, cpq)| Application::build(settings, cpq),
    )
    .await
}
