//! The whole stack a quote-to-cash crosses, in this process: a private Kafka-protocol broker,
//! the embedded Zeebe-compatible engine, the downstream simulator (its own process), and the
//! catalog, CPQ, approval, integration and order services, each on its own fresh database and
//! random port, with the demo identities of the test issuer. The order service can also run as
//! its own process ([`Stack::spawn_order_process`]) so a test can kill it with SIGKILL.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use common_kernel::settings::{DatabaseSettings, Secret, Settings};
use downstream_sim::harness::SimProcess;
use sqlx::PgPool;
use test_support::{KafkaProcess, ServiceProcess, TestDatabase, TestIssuer};
use tokio::sync::oneshot;

/// The demo tenant: the issuer's demo users belong to it.
pub const TENANT: &str = "demo";

/// The issuer of this test process's tokens.
pub fn issuer() -> Arc<TestIssuer> {
    static ISSUER: OnceLock<Arc<TestIssuer>> = OnceLock::new();
    Arc::clone(ISSUER.get_or_init(|| Arc::new(TestIssuer::start())))
}

/// A token for a demo user (`sales1`, `catalog1`, `ops1`, …).
pub fn token(user: &str) -> String {
    issuer().token_for(user)
}

/// A service running in this process until [`Running::stop`].
pub struct Running {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(15), server).await;
        }
    }
}

macro_rules! serve {
    ($app:expr, $name:expr) => {{
        let app = $app;
        let port = app.port();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            app.run_until(async move {
                let _ = rx.await;
            })
            .await
            .unwrap_or_else(|e| panic!("serve {}: {e}", $name));
        });
        Running {
            base: format!("http://127.0.0.1:{port}"),
            shutdown: Some(tx),
            server: Some(server),
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
        ("APP__DATABASE__MAX_CONNECTIONS", "6".to_owned()),
        ("OIDC_ISSUER", issuer().issuer_url()),
        ("OIDC_AUDIENCE", issuer().audience().to_owned()),
        ("KAFKA_BROKERS", brokers.to_owned()),
        ("APP__OUTBOX__POLL_INTERVAL_MS", "20".to_owned()),
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
        max_connections: 12,
        acquire_timeout: Duration::from_secs(5),
    }
}

/// A port free a moment ago (the console's redirect URI names its port before it binds).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// The BPMN every service deploys.
pub fn bpmn_dir() -> PathBuf {
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
    /// The order service, when it runs in this process.
    pub order: Option<Running>,
    /// The order service's base URL (in this process or its own).
    pub order_base: String,
    /// The order database (owner, `order_schema`).
    pub order_db: PgPool,
    /// The order database's URL (for a separate order process).
    pub order_db_url: String,
    /// The integration database (owner, `integration_schema`).
    pub integration_db: PgPool,
    /// The CPQ database's URL (a test counts quotes there independently).
    pub cpq_db_url: String,
    /// The approval database's URL.
    pub approval_db_url: String,
    /// The simulator.
    pub sim: SimProcess,
    /// The private broker's bootstrap address.
    pub brokers: String,
    /// `http://127.0.0.1:<grpc port>` of the engine.
    pub zeebe_address: String,
    integration: Running,
    _databases: Vec<TestDatabase>,
    _engine: workflow_engine::Application,
    _engine_db: TestDatabase,
    _kafka: KafkaProcess,
    _serial: tokio::sync::OwnedMutexGuard<()>,
    /// Settings of the order service that differ from [`Stack::order_env`]'s for one scenario.
    order_overrides: Vec<(&'static str, String)>,
}

/// One stack at a time per test process: a stack holds ~80 of PostgreSQL's default 100
/// connections, and the test harness runs a binary's tests on parallel threads.
fn serial() -> Arc<tokio::sync::Mutex<()>> {
    static SERIAL: OnceLock<Arc<tokio::sync::Mutex<()>>> = OnceLock::new();
    Arc::clone(SERIAL.get_or_init(|| Arc::new(tokio::sync::Mutex::new(()))))
}

impl Stack {
    /// Starts the broker, the engine, the simulator and every service; the order service in
    /// this process unless `order_in_process` is false (then [`Stack::spawn_order_process`]).
    pub async fn start(order_in_process: bool) -> Self {
        Self::start_with(order_in_process, Vec::new()).await
    }

    /// [`Stack::start`] with some of the order service's settings changed for one scenario.
    pub async fn start_with(
        order_in_process: bool,
        order_overrides: Vec<(&'static str, String)>,
    ) -> Self {
        let serial = serial().lock_owned().await;
        if std::env::var("E2E_LOG").is_ok() {
            std::mem::forget(common_kernel::telemetry::init(
                "e2e",
                common_kernel::settings::LogFormat::Pretty,
            ));
        }
        let kafka = KafkaProcess::start();
        let brokers = kafka.brokers();
        let topics = messaging::topics::declared().expect("contracts/topics.json");
        messaging::topics::ensure_topics(&brokers, &topics)
            .await
            .expect("topics on the private broker");

        let engine_migrations =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/workflow");
        let engine_db =
            TestDatabase::from_template("order_wf", &engine_migrations, |url| async move {
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
        let zeebe_address = format!("http://127.0.0.1:{}", engine.port());
        let engine_rest = format!("http://127.0.0.1:{}", engine.rest_port());
        let sim = SimProcess::start_default().await;
        let mut databases = Vec::new();

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
        let catalog = serve!(catalog_app, "catalog");
        databases.push(catalog_db);

        let cpq_db = service_database(cpq::SERVICE, cpq::SCHEMA, &cpq::MIGRATOR).await;
        let cpq_app = cpq::Application::build(
            settings(
                cpq::SERVICE,
                &cpq_db.url,
                &brokers,
                &issuer().client_env("cpq-service"),
            ),
            cpq::CpqSettings {
                catalog_url: catalog.base.clone(),
                expiry_interval: Duration::from_secs(30),
                ..cpq::CpqSettings::from_lookup(|_| None).expect("CPQ defaults")
            },
        )
        .await
        .expect("build cpq");
        let cpq = serve!(cpq_app, "cpq");
        let cpq_db_url = cpq_db.url.clone();
        databases.push(cpq_db);

        let approval_db =
            service_database(approval::SERVICE, approval::SCHEMA, &approval::MIGRATOR).await;
        let mut extra = issuer().client_env("approval-service").to_vec();
        extra.extend([
            ("ZEEBE_ADDRESS", zeebe_address.clone()),
            ("WORKFLOW_REST_URL", engine_rest.clone()),
            ("WORKFLOW_BPMN_DIR", bpmn_dir().display().to_string()),
            ("APP__APPROVAL__SYNC_INTERVAL_MS", "200".to_owned()),
        ]);
        let lookup: HashMap<&str, String> = extra.iter().cloned().collect();
        let approval_app = approval::Application::build(
            settings(approval::SERVICE, &approval_db.url, &brokers, &extra),
            approval::settings::ApprovalSettings::from_lookup(|name| lookup.get(name).cloned())
                .expect("approval settings"),
        )
        .await
        .expect("build approval");
        let approval = serve!(approval_app, "approval");
        let approval_db_url = approval_db.url.clone();
        databases.push(approval_db);

        let integration_db = service_database(
            integration::SERVICE,
            integration::SCHEMA,
            &integration::MIGRATOR,
        )
        .await;
        let mut extra: Vec<(&'static str, String)> = vec![
            ("ZEEBE_ADDRESS", zeebe_address.clone()),
            ("APP__INTEGRATION__RECONCILE_INTERVAL_MS", "200".to_owned()),
            (
                "APP__INTEGRATION__INVENTORY__BASE_URL",
                sim.system_url("inventory"),
            ),
            (
                "APP__INTEGRATION__PROVISIONING__BASE_URL",
                sim.system_url("provisioning"),
            ),
            (
                "APP__INTEGRATION__BILLING__BASE_URL",
                sim.system_url("billing"),
            ),
            ("APP__INTEGRATION__CRM__BASE_URL", sim.system_url("crm")),
            (
                "APP__INTEGRATION__CONTRACT__BASE_URL",
                sim.system_url("contract"),
            ),
            (
                "APP__INTEGRATION__NOTIFICATION__BASE_URL",
                sim.system_url("notification"),
            ),
            (
                "APP__INTEGRATION__PROVISIONING__MAX_ATTEMPTS",
                "3".to_owned(),
            ),
            (
                "APP__INTEGRATION__PROVISIONING__BACKOFF_MS",
                "100".to_owned(),
            ),
            (
                "APP__INTEGRATION__PROVISIONING__BACKOFF_MAX_MS",
                "200".to_owned(),
            ),
        ];
        extra.extend(issuer().client_env("integration-service"));
        let lookup: HashMap<&str, String> = extra.iter().cloned().collect();
        let integration_settings =
            settings(integration::SERVICE, &integration_db.url, &brokers, &extra);
        let integration_pool =
            common_kernel::db::connect(&integration_settings.database, integration::SCHEMA)
                .await
                .expect("integration pool");
        let integration_app = integration::Application::build(
            integration_settings,
            integration::settings::IntegrationSettings::from_lookup(|name| {
                lookup.get(name).cloned()
            })
            .expect("integration settings"),
        )
        .await
        .expect("build integration");
        let integration = serve!(integration_app, "integration");
        databases.push(integration_db);

        let order_db = service_database(order::SERVICE, order::SCHEMA, &order::MIGRATOR).await;
        let order_url = order_db.url.clone();
        let order_pool = common_kernel::db::connect(
            &settings(order::SERVICE, &order_url, "disabled", &[]).database,
            order::SCHEMA,
        )
        .await
        .expect("order pool");
        databases.push(order_db);
        let mut stack = Self {
            http: reqwest::Client::new(),
            catalog,
            cpq,
            approval,
            order: None,
            order_base: String::new(),
            order_db: order_pool,
            order_db_url: order_url,
            integration_db: integration_pool,
            cpq_db_url,
            approval_db_url,
            sim,
            brokers,
            zeebe_address,
            integration,
            _databases: databases,
            _engine: engine,
            _engine_db: engine_db,
            _kafka: kafka,
            _serial: serial,
            order_overrides,
        };
        if order_in_process {
            let env = stack.order_env();
            let lookup: HashMap<&str, String> = env.iter().cloned().collect();
            let app = order::Application::build(
                settings(order::SERVICE, &stack.order_db_url, &stack.brokers, &env),
                order::settings::OrderSettings::from_lookup(|name| lookup.get(name).cloned())
                    .expect("order settings"),
            )
            .await
            .expect("build order");
            let running = serve!(app, "order");
            stack.order_base = running.base.clone();
            stack.order = Some(running);
        }
        stack
    }

    /// Starts the audit service on its own database, consuming this stack's evidence.
    pub async fn start_audit(&self) -> (Running, TestDatabase) {
        let db = service_database(audit::SERVICE, audit::SCHEMA, &audit::MIGRATOR).await;
        let extra = [
            (
                "APP__AUDIT__SIGNING_KEY",
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_owned(),
            ),
            ("APP__AUDIT__CHECKPOINT_INTERVAL_MS", "500".to_owned()),
        ];
        let lookup: HashMap<&str, String> = extra.iter().cloned().collect();
        let app = audit::Application::build(
            settings(audit::SERVICE, &db.url, &self.brokers, &extra),
            audit::settings::AuditSettings::from_lookup(|name| lookup.get(name).cloned())
                .expect("audit settings"),
        )
        .await
        .expect("build audit");
        (serve!(app, "audit"), db)
    }

    /// Starts the ops service on its own database, projecting this stack's events, with its
    /// console sending repairs to this stack's order service; `own` are ops settings.
    pub async fn start_ops(&self, own: &[(&'static str, String)]) -> (Running, TestDatabase) {
        let db = service_database(ops::SERVICE, ops::SCHEMA, &ops::MIGRATOR).await;
        let port = free_port();
        let mut lookup: HashMap<&str, String> = own.iter().cloned().collect();
        lookup.insert("APP__OPS__CONSOLE_ORDER_URL", self.order_base.clone());
        lookup.insert(
            "APP__OPS__CONSOLE_PUBLIC_URL",
            format!("http://127.0.0.1:{port}"),
        );
        let app = ops::Application::build(
            settings(
                ops::SERVICE,
                &db.url,
                &self.brokers,
                &[("APP__SERVER__PORT", port.to_string())],
            ),
            ops::settings::OpsSettings::from_lookup(|name| lookup.get(name).cloned())
                .expect("ops settings"),
        )
        .await
        .expect("build ops");
        (serve!(app, "ops"), db)
    }

    /// The order service's own settings in this stack.
    pub fn order_env(&self) -> Vec<(&'static str, String)> {
        let mut env = issuer().client_env("order-service").to_vec();
        env.extend([
            ("ZEEBE_ADDRESS", self.zeebe_address.clone()),
            ("WORKFLOW_BPMN_DIR", bpmn_dir().display().to_string()),
            ("CATALOG_URL", self.catalog.base.clone()),
            ("APP__ORDER__START_INTERVAL_MS", "200".to_owned()),
            ("APP__ORDER__JOB_TIMEOUT_MS", "5000".to_owned()),
            // The watchdog raises calls in flight for longer than 4 s (a slow scenario's
            // deliberate delays stay under it).
            ("APP__ORDER__STUCK_CALL_AFTER_SECONDS", "4".to_owned()),
            ("APP__ORDER__WATCHDOG_INTERVAL_MS", "200".to_owned()),
        ]);
        for (name, value) in &self.order_overrides {
            env.retain(|(key, _)| key != name);
            env.push((name, value.clone()));
        }
        env
    }

    /// Starts the order service as its own process (the built `order` binary) on `port`.
    pub fn spawn_order_process(&mut self, port: u16) -> ServiceProcess {
        let binary = env!("CARGO_BIN_EXE_order");
        let mut env: Vec<(&str, String)> = vec![
            ("DATABASE_URL", self.order_db_url.clone()),
            ("REDIS_URL", test_support::redis_url()),
            ("APP__SERVER__PORT", port.to_string()),
            ("OIDC_ISSUER", issuer().issuer_url()),
            ("OIDC_AUDIENCE", issuer().audience().to_owned()),
            ("KAFKA_BROKERS", self.brokers.clone()),
            ("APP__OUTBOX__POLL_INTERVAL_MS", "20".to_owned()),
        ];
        env.extend(test_support::generous_rate_limits());
        env.extend(self.order_env());
        self.order_base = format!("http://127.0.0.1:{port}");
        ServiceProcess::start(binary, &env, &format!("{}/health/ready", self.order_base))
    }

    /// Stops the services (the engine, the simulator and the broker stop when dropped).
    pub async fn stop(mut self) {
        if let Some(mut order) = self.order.take() {
            order.stop().await;
        }
        self.integration.stop().await;
        self.approval.stop().await;
        self.cpq.stop().await;
        self.catalog.stop().await;
    }
}
