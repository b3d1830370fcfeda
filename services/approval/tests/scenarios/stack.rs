//! The real stack a quote approval crosses, in this process: a private Kafka-protocol broker,
//! the embedded Zeebe-compatible engine, the catalog, CPQ and the approval service, each on its
//! own fresh database and random port, with the demo identities of the test issuer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use common_kernel::settings::{DatabaseSettings, Secret, Settings};
use sqlx::PgPool;
use test_support::{KafkaProcess, TestDatabase, TestIssuer};
use tokio::sync::oneshot;

/// The demo tenant: the issuer's demo users belong to it.
pub const TENANT: &str = "demo";

/// The issuer of this test process's tokens (one per process: nextest runs each test alone).
pub fn issuer() -> Arc<TestIssuer> {
    static ISSUER: OnceLock<Arc<TestIssuer>> = OnceLock::new();
    Arc::clone(ISSUER.get_or_init(|| Arc::new(TestIssuer::start())))
}

/// A token for a demo user (`sales1`, `manager1`, `director1`, `ops1`, …), or for
/// `manager2`, a second manager of the tenant the demo directory lacks.
pub fn token(user: &str) -> String {
    match user {
        "manager2" => issuer().token_as(TENANT, "manager2", &["approver-manager"], Some("25")),
        demo => issuer().token_for(demo),
    }
}

/// How long an approval level stays open and escalates, for the scenario at hand.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// `APP__APPROVAL__LEVEL_DUE_SECONDS`.
    pub level_due_seconds: u64,
    /// `APP__APPROVAL__ESCALATE_AFTER_DUE_SECONDS`.
    pub escalate_after_due_seconds: u64,
}

impl Timing {
    /// Hours: nothing falls due while a scenario runs.
    pub const RELAXED: Self = Self {
        level_due_seconds: 3600,
        escalate_after_due_seconds: 3600,
    };
}

/// A service running in this process until [`Running::stop`].
pub struct Running {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    _database: TestDatabase,
}

impl Running {
    async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

/// Runs a built service on its own task until [`Running::stop`]. A macro, not a generic
/// function: each service's `run_until` is `Send` for its concrete type, which the shared
/// trait does not promise.
macro_rules! serve {
    ($app:expr, $database:expr, $name:literal) => {{
        let app = $app;
        let port = app.port();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            app.run_until(async {
                let _ = rx.await;
            })
            .await
            .unwrap_or_else(|e| panic!("serve {}: {e}", $name));
        });
        Running {
            base: format!("http://127.0.0.1:{port}"),
            shutdown: Some(tx),
            server: Some(server),
            _database: $database,
        }
    }};
}

fn settings(
    service: &'static str,
    database_url: &str,
    brokers: &str,
    extra: &[(&'static str, String)],
) -> Settings {
    let mut vars: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", database_url.to_owned()),
        ("REDIS_URL", test_support::redis_url()),
        ("APP__SERVER__PORT", "0".to_owned()),
        ("APP__DATABASE__MAX_CONNECTIONS", "8".to_owned()),
        ("OIDC_ISSUER", issuer().issuer_url()),
        ("OIDC_AUDIENCE", issuer().audience().to_owned()),
        ("KAFKA_BROKERS", brokers.to_owned()),
    ]);
    vars.extend(test_support::generous_rate_limits());
    vars.extend(extra.iter().cloned());
    Settings::from_lookup(service, 0, |name| vars.get(name).cloned()).expect("test settings")
}

/// A fresh database migrated with the platform tables and `service`'s migrations.
async fn service_database(
    service: &'static str,
    schema: &'static str,
    migrator: &'static sqlx::migrate::Migrator,
) -> TestDatabase {
    let platform = Path::new(service_host::messaging::schema::MIGRATIONS_DIR);
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations")
        .join(service);
    TestDatabase::from_template_of(service, &[platform, &migrations], |url| async move {
        let settings = settings(service, &url, "disabled", &[]);
        let pool = common_kernel::db::connect(&settings.database, schema)
            .await
            .expect("connect template");
        service_host::messaging::schema::migrate(&pool, schema, migrator)
            .await
            .expect("migrate template");
        pool.close().await;
    })
    .await
}

fn engine_database_settings(url: &str) -> DatabaseSettings {
    DatabaseSettings {
        url: Secret::new(url.to_owned()),
        max_connections: 16,
        acquire_timeout: Duration::from_secs(5),
    }
}

fn bpmn_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workflow/bpmn")
}

/// Everything a scenario talks to.
pub struct Stack {
    /// Plain HTTP client (every call carries its own token).
    pub http: reqwest::Client,
    /// The catalog.
    pub catalog: Running,
    /// CPQ.
    pub cpq: Running,
    /// The approval service.
    pub approval: Running,
    /// The engine's REST root (`/v2/user-tasks`, `/v1/ops`).
    pub engine_rest: String,
    /// Pool on the approval service's database (owner, `approval_schema`).
    pub approval_db: PgPool,
    /// Pool on CPQ's database (owner, `cpq_schema`).
    pub cpq_db: PgPool,
    /// The private broker's bootstrap address.
    pub brokers: String,
    _engine: workflow_engine::Application,
    _engine_db: TestDatabase,
    _kafka: KafkaProcess,
}

impl Stack {
    /// Starts the broker, the engine, the catalog, CPQ and the approval service, in that order.
    pub async fn start(timing: Timing) -> Self {
        let kafka = KafkaProcess::start();
        let brokers = kafka.brokers();
        let topics = messaging::topics::declared().expect("contracts/topics.json");
        messaging::topics::ensure_topics(&brokers, &topics)
            .await
            .expect("topics on the private broker");

        let engine_migrations =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/workflow");
        let engine_db =
            TestDatabase::from_template("approval_wf", &engine_migrations, |url| async move {
                workflow_engine::startup::prepare_database(&engine_database_settings(&url))
                    .await
                    .expect("migrate engine template");
            })
            .await;
        let engine_auth = {
            let issuer = issuer();
            let url = issuer.issuer_url();
            common_kernel::auth::AuthSettings::from_lookup(|name| match name {
                "OIDC_ISSUER" => Some(url.clone()),
                "OIDC_AUDIENCE" => Some(issuer.audience().to_owned()),
                _ => None,
            })
            .expect("engine auth settings")
        };
        // One approval service is one client of the engine's REST API; the scenarios and the
        // bench call it far faster than the production budgets allow.
        let mut listen = workflow_engine::startup::Listen::new("127.0.0.1", 0, 0, engine_auth);
        let generous = common_kernel::settings::ClassLimit {
            per_minute: 60_000_000,
            burst: 1_000_000,
        };
        listen.rate_limit.read = generous;
        listen.rate_limit.command = generous;
        let engine = workflow_engine::Application::start(
            &engine_database_settings(&engine_db.url),
            &listen,
            workflow_engine::EngineConfig::default(),
        )
        .await
        .expect("engine starts");
        let engine_rest = format!("http://127.0.0.1:{}", engine.rest_port());

        let catalog_db =
            service_database(catalog::SERVICE, catalog::SCHEMA, &catalog::MIGRATOR).await;
        let catalog_app = catalog::Application::build(settings(
            catalog::SERVICE,
            &catalog_db.url,
            "disabled",
            &[],
        ))
        .await
        .expect("build catalog");
        let catalog = serve!(catalog_app, catalog_db, "catalog");

        let cpq_db = service_database(cpq::SERVICE, cpq::SCHEMA, &cpq::MIGRATOR).await;
        let cpq_settings = settings(
            cpq::SERVICE,
            &cpq_db.url,
            &brokers,
            &issuer().client_env("cpq-service"),
        );
        let cpq_pool = common_kernel::db::connect(&cpq_settings.database, cpq::SCHEMA)
            .await
            .expect("cpq pool");
        let cpq_app = cpq::Application::build(
            cpq_settings,
            cpq::CpqSettings {
                catalog_url: catalog.base.clone(),
                expiry_interval: Duration::from_secs(30),
                ..cpq::CpqSettings::from_lookup(|_| None).expect("CPQ defaults")
            },
        )
        .await
        .expect("build cpq");
        let cpq = serve!(cpq_app, cpq_db, "cpq");

        let approval_db =
            service_database(approval::SERVICE, approval::SCHEMA, &approval::MIGRATOR).await;
        let mut extra = issuer().client_env("approval-service").to_vec();
        extra.extend([
            (
                "ZEEBE_ADDRESS",
                format!("http://127.0.0.1:{}", engine.port()),
            ),
            ("WORKFLOW_REST_URL", engine_rest.clone()),
            ("WORKFLOW_BPMN_DIR", bpmn_dir().display().to_string()),
            (
                "APP__APPROVAL__LEVEL_DUE_SECONDS",
                timing.level_due_seconds.to_string(),
            ),
            (
                "APP__APPROVAL__ESCALATE_AFTER_DUE_SECONDS",
                timing.escalate_after_due_seconds.to_string(),
            ),
            ("APP__APPROVAL__SYNC_INTERVAL_MS", "200".to_owned()),
        ]);
        let approval_settings = settings(approval::SERVICE, &approval_db.url, &brokers, &extra);
        let approval_pool =
            common_kernel::db::connect(&approval_settings.database, approval::SCHEMA)
                .await
                .expect("approval pool");
        let lookup: HashMap<&str, String> = extra.iter().cloned().collect();
        let approval_app = approval::Application::build(
            approval_settings,
            approval::settings::ApprovalSettings::from_lookup(|name| lookup.get(name).cloned())
                .expect("approval settings"),
        )
        .await
        .expect("build approval");
        let approval = serve!(approval_app, approval_db, "approval");

        Self {
            http: reqwest::Client::new(),
            catalog,
            cpq,
            approval,
            engine_rest,
            approval_db: approval_pool,
            cpq_db: cpq_pool,
            brokers,
            _engine: engine,
            _engine_db: engine_db,
            _kafka: kafka,
        }
    }

    /// Stops the services (the engine and the broker stop when dropped).
    pub async fn stop(mut self) {
        self.approval.stop().await;
        self.cpq.stop().await;
        self.catalog.stop().await;
        self.approval_db.close().await;
        self.cpq_db.close().await;
    }
}
