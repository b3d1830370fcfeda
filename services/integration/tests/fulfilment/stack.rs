//! The stack an external call crosses: engine, integration service, simulator, databases.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use common_kernel::settings::{DatabaseSettings, Secret, Settings};
use downstream_sim::harness::SimProcess;
use integration::domain::{ExternalSystem, IdempotencyKey};
use integration::settings::IntegrationSettings;
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::{TestDatabase, TestIssuer};
use tokio::sync::oneshot;
use workflow_runtime::Gateway;

/// The tenant of every instance.
pub const TENANT: &str = "acme";

/// The issuer of this test process's tokens.
pub fn issuer() -> Arc<TestIssuer> {
    static ISSUER: OnceLock<Arc<TestIssuer>> = OnceLock::new();
    Arc::clone(ISSUER.get_or_init(|| Arc::new(TestIssuer::start())))
}

fn database_settings(url: &str) -> DatabaseSettings {
    DatabaseSettings {
        url: Secret::new(url.to_owned()),
        max_connections: 8,
        acquire_timeout: Duration::from_secs(10),
    }
}

/// The engine, its gateway, the simulator and a migrated integration database.
pub struct Stack {
    _engine: workflow_engine::Application,
    _engine_db: TestDatabase,
    /// The engine's database (instance states, job retries).
    pub engine_pool: PgPool,
    /// The gateway the test creates instances through.
    pub gateway: Gateway,
    /// `http://127.0.0.1:<grpc port>`.
    pub zeebe_address: String,
    /// The simulator.
    pub sim: SimProcess,
    /// The integration database.
    pub integration_db: TestDatabase,
    /// Its owner's pool.
    pub integration_pool: PgPool,
}

impl Stack {
    /// Starts the engine (with the probe process deployed), the simulator and the database.
    pub async fn start() -> Self {
        let engine_migrations =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/workflow");
        let engine_db =
            TestDatabase::from_template("integration_wf", &engine_migrations, |url| async move {
                workflow_engine::startup::prepare_database(&database_settings(&url))
                    .await
                    .expect("migrate engine template");
            })
            .await;
        let auth = {
            let issuer = issuer();
            let url = issuer.issuer_url();
            common_kernel::auth::AuthSettings::from_lookup(|name| match name {
                "OIDC_ISSUER" => Some(url.clone()),
                "OIDC_AUDIENCE" => Some(issuer.audience().to_owned()),
                _ => None,
            })
            .expect("engine auth settings")
        };
        let engine = workflow_engine::Application::build(
            &database_settings(&engine_db.url),
            "127.0.0.1",
            0,
            auth,
            workflow_engine::EngineConfig::default(),
        )
        .await
        .expect("engine starts");
        let zeebe_address = format!("http://127.0.0.1:{}", engine.port());
        let gateway = Gateway::connect_address(&zeebe_address)
            .await
            .expect("gateway");
        let probe = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fulfilment");
        workflow_runtime::deploy_directory(gateway.client(), &probe)
            .await
            .expect("probe deploys");
        let engine_pool = common_kernel::db::connect(
            &database_settings(&engine_db.url),
            workflow_engine::startup::SCHEMA,
        )
        .await
        .expect("engine pool");

        let platform = Path::new(messaging::schema::MIGRATIONS_DIR);
        let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/integration");
        let integration_db = TestDatabase::from_template_of(
            "integration",
            &[platform, &migrations],
            |url| async move {
                let pool =
                    common_kernel::db::connect(&database_settings(&url), integration::SCHEMA)
                        .await
                        .expect("pool");
                messaging::schema::migrate(&pool, integration::SCHEMA, &integration::MIGRATOR)
                    .await
                    .expect("migrate template");
                pool.close().await;
            },
        )
        .await;
        let integration_pool = common_kernel::db::connect(
            &database_settings(&integration_db.url),
            integration::SCHEMA,
        )
        .await
        .expect("integration pool");
        Self {
            _engine: engine,
            _engine_db: engine_db,
            engine_pool,
            gateway,
            zeebe_address,
            sim: SimProcess::start_default().await,
            integration_db,
            integration_pool,
        }
    }

    /// The integration service's environment: this stack's database, engine and simulator.
    pub fn integration_env(&self, extra: &[(&str, String)]) -> Vec<(String, String)> {
        let issuer = issuer();
        let mut env: Vec<(String, String)> = vec![
            ("DATABASE_URL".into(), self.integration_db.url.clone()),
            ("REDIS_URL".into(), test_support::redis_url()),
            ("OIDC_ISSUER".into(), issuer.issuer_url()),
            ("OIDC_AUDIENCE".into(), issuer.audience().to_owned()),
            ("KAFKA_BROKERS".into(), "disabled".into()),
            ("ZEEBE_ADDRESS".into(), self.zeebe_address.clone()),
            (
                "APP__INTEGRATION__RECONCILE_INTERVAL_MS".into(),
                "200".into(),
            ),
        ];
        for system in ExternalSystem::ALL {
            env.push((
                format!("APP__INTEGRATION__{}__BASE_URL", system.as_str()),
                self.sim.system_url(system.slug()),
            ));
        }
        env.extend(
            test_support::generous_rate_limits()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v)),
        );
        env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        env
    }

    /// Runs the integration service in this process until the returned sender is dropped.
    pub async fn serve_integration(&self, extra: &[(&str, String)]) -> oneshot::Sender<()> {
        let mut env: HashMap<String, String> = self.integration_env(extra).into_iter().collect();
        env.insert("APP__SERVER__PORT".into(), "0".into());
        let settings =
            Settings::from_lookup(integration::SERVICE, 0, |name| env.get(name).cloned())
                .expect("settings");
        let own = IntegrationSettings::from_lookup(|name| env.get(name).cloned())
            .expect("integration settings");
        let app = integration::Application::build(settings, own)
            .await
            .expect("integration starts");
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = app
                .run_until(async {
                    let _ = rx.await;
                })
                .await;
        });
        tx
    }

    /// Starts one probe instance; returns its key and the key its call is sent with.
    pub async fn start_probe(&self) -> (i64, IdempotencyKey) {
        let order_id = uuid::Uuid::now_v7();
        let item_id = uuid::Uuid::now_v7();
        let task_id = uuid::Uuid::now_v7();
        let variables = json!({
            "tenantId": TENANT,
            "orderId": order_id,
            "orderItemId": item_id,
            "taskId": task_id,
            "correlationId": format!("probe-{order_id}"),
            "request": {"serviceSpecification": "FIBER-1G", "customerAccount": "C-100",
                        "characteristics": {"bandwidth": "1G"}},
        });
        let key = IdempotencyKey::derive(&integration::domain::BusinessIdentity {
            tenant: domain_kernel::TenantId::parse(TENANT).expect("tenant"),
            order_id: integration::domain::key::OrderId::from_uuid(order_id),
            order_item_id: Some(integration::domain::key::OrderItemId::from_uuid(item_id)),
            task_id: integration::domain::key::FulfilmentTaskId::from_uuid(task_id),
            operation: integration::domain::Operation::ProvisioningActivate,
        });
        let instance = self
            .gateway
            .client()
            .create_process_instance()
            .with_bpmn_process_id("external-call-probe".to_owned())
            .with_variables(variables)
            .expect("variables")
            .send()
            .await
            .expect("instance")
            .process_instance_key();
        (instance, key)
    }

    /// The instance's state in the engine.
    pub async fn instance_state(&self, key: i64) -> String {
        sqlx::query_scalar("SELECT state FROM process_instance WHERE process_instance_key = $1")
            .bind(key)
            .fetch_one(&self.engine_pool)
            .await
            .expect("instance state")
    }

    /// Waits until the instance left ACTIVE; returns its state and its variables then (end
    /// events leave no rows in the engine, the variables tell which way it went).
    pub async fn wait_until_done(
        &self,
        key: i64,
        within: Duration,
    ) -> (String, serde_json::Map<String, Value>) {
        let until = tokio::time::Instant::now() + within;
        loop {
            let state = self.instance_state(key).await;
            if state != "ACTIVE" {
                let rows: Vec<(String, Value)> = sqlx::query_as(
                    "SELECT name, value FROM variable WHERE process_instance_key = $1",
                )
                .bind(key)
                .fetch_all(&self.engine_pool)
                .await
                .expect("variables");
                return (state, rows.into_iter().collect());
            }
            assert!(
                tokio::time::Instant::now() < until,
                "instance {key} still ACTIVE after {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The call log of `key`: (kind, class or finding, failure code).
    pub async fn calls(&self, key: &IdempotencyKey) -> Vec<(String, String, Option<String>)> {
        super::log::calls(&self.integration_pool, key).await
    }

    /// Event types the operation of `key` wrote to the outbox.
    pub async fn events(&self, key: &IdempotencyKey) -> Vec<String> {
        super::log::events(&self.integration_pool, key).await
    }

    /// Applied effects of `key` at provisioning.
    pub async fn activations(&self, key: &IdempotencyKey) -> u64 {
        self.sim
            .effects("provisioning", key.as_str())
            .await
            .iter()
            .map(|e| e.count)
            .sum()
    }

    /// Injects a fault.
    pub async fn fault(&self, fault: Value) {
        self.sim.add_fault(fault).await;
    }
}
