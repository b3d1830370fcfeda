//! Test target: the embedded engine (`workflow-engine`) started in-process on port 0 over a
//! fresh database cloned from a migrated template, or the gateway at `ZEEBE_ADDRESS`
//! (`http://host:port`, e.g. Camunda 8) when set. Checks that need the engine's database
//! (incidents, instance state) are skipped against `ZEEBE_ADDRESS`, which exposes them only
//! through Operate.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use common_kernel::settings::{DatabaseSettings, Secret};
use serde_json::Value;
use test_support::TestDatabase;
use workflow_engine::{Application, EngineConfig};
use workflow_runtime::Gateway;

pub struct Target {
    pub gateway: Gateway,
    embedded: Option<(Application, TestDatabase)>,
}

fn database_settings(url: &str) -> DatabaseSettings {
    DatabaseSettings {
        url: Secret::new(url.to_owned()),
        max_connections: 16,
        acquire_timeout: Duration::from_secs(5),
    }
}

impl Target {
    pub async fn start() -> Self {
        Self::start_with(false, None).await
    }

    /// The embedded engine with its gRPC gateway requiring tokens of the test issuer
    /// (`WORKFLOW_GRPC_REQUIRE_TOKEN`), and a gateway connection that sends `credentials`' tokens
    /// (none when `None`). Always embedded: the point is the embedded gateway's check.
    pub async fn start_requiring_tokens(
        credentials: Option<workflow_runtime::GatewayCredentials>,
    ) -> Self {
        Self::start_with(true, credentials).await
    }

    async fn start_with(
        grpc_requires_token: bool,
        credentials: Option<workflow_runtime::GatewayCredentials>,
    ) -> Self {
        if let (false, Ok(address)) = (grpc_requires_token, std::env::var("ZEEBE_ADDRESS")) {
            let gateway = Gateway::connect_address(&address)
                .await
                .expect("ZEEBE_ADDRESS = http://host:port, reachable");
            return Self {
                gateway,
                embedded: None,
            };
        }
        let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/workflow");
        let db = TestDatabase::from_template("workflow_rt", &migrations, |url| async move {
            workflow_engine::startup::prepare_database(&database_settings(&url))
                .await
                .expect("migrate template");
        })
        .await;
        // A long fallback re-check: a poll that returns quickly was woken by the engine's
        // NOTIFY, so timings below measure the runtime's re-polling, not a tick.
        let config = EngineConfig {
            fallback_poll: Duration::from_secs(30),
            ..EngineConfig::default()
        };
        let listen = workflow_engine::startup::Listen {
            grpc_requires_token,
            ..workflow_engine::startup::Listen::new("127.0.0.1", 0, 0, auth_settings())
        };
        let app = Application::start(&database_settings(&db.url), &listen, config)
            .await
            .expect("engine starts");
        let gateway = Gateway::connect_with("http://127.0.0.1", app.port(), credentials)
            .await
            .expect("gateway connects");
        Self {
            gateway,
            embedded: Some((app, db)),
        }
    }

    /// Stops the embedded engine (its database stays); returns false against `ZEEBE_ADDRESS`.
    pub async fn stop_engine(&mut self) -> bool {
        match self.embedded.take() {
            Some((app, db)) => {
                app.stop().await;
                drop(db);
                true
            }
            None => false,
        }
    }

    pub fn client(&self) -> &zeebe_rs::Client {
        self.gateway.client()
    }

    pub fn is_embedded(&self) -> bool {
        self.embedded.is_some()
    }

    /// Base URL of the embedded engine's REST API (`None` against `ZEEBE_ADDRESS`).
    pub fn rest_base(&self) -> Option<String> {
        self.embedded
            .as_ref()
            .map(|(app, _)| format!("http://127.0.0.1:{}", app.rest_port()))
    }

    fn pool(&self) -> Option<&sqlx::PgPool> {
        self.embedded.as_ref().map(|(app, _)| app.engine().pool())
    }

    pub async fn deploy(&self, file: &str) {
        let xml = std::fs::read(bpmn_dir().join(file)).expect("fixture");
        self.client()
            .deploy_resource()
            .with_definition(file.to_owned(), xml)
            .send()
            .await
            .expect("deploy");
    }

    /// Creates an instance and returns its key without waiting.
    pub async fn create(&self, process_id: &str, variables: Value) -> i64 {
        self.client()
            .create_process_instance()
            .with_bpmn_process_id(process_id.to_owned())
            .with_variables(variables)
            .expect("variables")
            .send()
            .await
            .expect("create instance")
            .process_instance_key()
    }

    /// Creates an instance and waits (CreateProcessInstanceWithResult) for it to complete;
    /// returns its key and final variables.
    pub async fn run(&self, process_id: &str, variables: Value, within: Duration) -> (i64, Value) {
        let request = self
            .client()
            .create_process_instance()
            .with_bpmn_process_id(process_id.to_owned())
            .with_variables(variables)
            .expect("variables")
            .with_result(None)
            .send_with_serialized_result();
        let Ok(result) = tokio::time::timeout(within, request).await else {
            panic!("{process_id} did not complete within {within:?}");
        };
        let result = result.expect("instance completes");
        let variables = serde_json::from_str(result.variables()).expect("result variables");
        (result.response().process_instance_key(), variables)
    }

    /// Instance state from the engine's database (`None` against `ZEEBE_ADDRESS`).
    pub async fn instance_state(&self, key: i64) -> Option<String> {
        let pool = self.pool()?;
        Some(
            sqlx::query_scalar(
                "SELECT state FROM process_instance WHERE process_instance_key = $1",
            )
            .bind(key)
            .fetch_one(pool)
            .await
            .expect("instance state"),
        )
    }

    /// Open incidents `(error_type, error_message)` of an instance (`None` against
    /// `ZEEBE_ADDRESS`).
    pub async fn incidents(&self, key: i64) -> Option<Vec<(String, String)>> {
        let pool = self.pool()?;
        Some(
            sqlx::query_as(
                "SELECT error_type, error_message FROM incident WHERE process_instance_key = $1 ORDER BY incident_key",
            )
            .bind(key)
            .fetch_all(pool)
            .await
            .expect("incidents"),
        )
    }

    /// Waits until the instance has an incident (embedded only), or panics after `within`.
    pub async fn wait_for_incident(&self, key: i64, within: Duration) -> Vec<(String, String)> {
        let until = tokio::time::Instant::now() + within;
        loop {
            let incidents = self.incidents(key).await.expect("embedded engine");
            if !incidents.is_empty() {
                return incidents;
            }
            assert!(
                tokio::time::Instant::now() < until,
                "no incident on {key} within {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

pub fn bpmn_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bpmn")
}

/// The issuer of this test process's tokens.
pub fn issuer() -> std::sync::Arc<test_support::TestIssuer> {
    static ISSUER: std::sync::OnceLock<std::sync::Arc<test_support::TestIssuer>> =
        std::sync::OnceLock::new();
    std::sync::Arc::clone(
        ISSUER.get_or_init(|| std::sync::Arc::new(test_support::TestIssuer::start())),
    )
}

/// The embedded engine's REST API trusts the test issuer.
pub fn auth_settings() -> common_kernel::auth::AuthSettings {
    let issuer = issuer();
    let url = issuer.issuer_url();
    common_kernel::auth::AuthSettings::from_lookup(|name| match name {
        "OIDC_ISSUER" => Some(url.clone()),
        "OIDC_AUDIENCE" => Some(issuer.audience().to_owned()),
        _ => None,
    })
    .expect("test auth settings")
}
