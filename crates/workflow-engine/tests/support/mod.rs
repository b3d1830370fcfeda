//! Conformance harness: a zeebe-rs client against `ZEEBE_ADDRESS` (e.g. `http://host:26500`,
//! real Camunda 8) when set, else against the embedded engine started in-process on port 0
//! over a fresh database cloned from a migrated template. REST scenarios (user tasks) go to
//! `ZEEBE_REST_ADDRESS` (Camunda's REST API, e.g. `http://host:8080`) with `ZEEBE_ADDRESS`,
//! else to the embedded engine's REST port.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use common_kernel::auth::AuthSettings;
use common_kernel::settings::{DatabaseSettings, Secret};
use test_support::{TestDatabase, TestIssuer};
use tokio::sync::mpsc;
use workflow_engine::{Application, EngineConfig};
use zeebe_rs::{ActivatedJob, Client};

pub struct Target {
    pub client: Client,
    pub embedded: Option<Embedded>,
    pub http: reqwest::Client,
}

pub struct Embedded {
    pub app: Option<Application>,
    pub config: EngineConfig,
    pub database: DatabaseSettings,
    pub db: TestDatabase,
}

pub fn database_settings(url: &str) -> DatabaseSettings {
    DatabaseSettings {
        url: Secret::new(url.to_owned()),
        max_connections: 16,
        acquire_timeout: Duration::from_secs(5),
    }
}

/// The issuer of this test process's tokens.
pub fn issuer() -> Arc<TestIssuer> {
    static ISSUER: OnceLock<Arc<TestIssuer>> = OnceLock::new();
    Arc::clone(ISSUER.get_or_init(|| Arc::new(TestIssuer::start())))
}

/// The embedded engine's REST API trusts the test issuer.
pub fn auth_settings() -> AuthSettings {
    let issuer = issuer();
    let url = issuer.issuer_url();
    AuthSettings::from_lookup(|name| match name {
        "OIDC_ISSUER" => Some(url.clone()),
        "OIDC_AUDIENCE" => Some(issuer.audience().to_owned()),
        _ => None,
    })
    .expect("test auth settings")
}

/// A token for an operator who also approves (both REST surfaces of the engine).
pub fn operator_token() -> String {
    issuer().token_as("acme", "ops1", &["operator", "approver-manager"], None)
}

/// Long fallback poll: a long poll that returns quickly was woken by NOTIFY, not by a tick.
pub fn test_config() -> EngineConfig {
    EngineConfig {
        fallback_poll: Duration::from_secs(30),
        ..EngineConfig::default()
    }
}

pub async fn client(address: &str, port: u16) -> Client {
    Client::builder()
        .with_address(address, port)
        .build()
        .await
        .expect("zeebe-rs client")
}

impl Target {
    pub async fn start() -> Self {
        Self::start_with(test_config()).await
    }

    /// Starts against `ZEEBE_ADDRESS`, or an embedded engine tuned by `config`.
    pub async fn start_with(config: EngineConfig) -> Self {
        if let Ok(address) = std::env::var("ZEEBE_ADDRESS") {
            let (host, port) = address
                .rsplit_once(':')
                .expect("ZEEBE_ADDRESS = http://host:port");
            return Self {
                client: client(host, port.parse().expect("port")).await,
                embedded: None,
                http: reqwest::Client::new(),
            };
        }
        let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/workflow");
        let db = TestDatabase::from_template("workflow", &migrations, |url| async move {
            workflow_engine::startup::prepare_database(&database_settings(&url))
                .await
                .expect("migrate template");
        })
        .await;
        let database = database_settings(&db.url);
        let app = Application::build(&database, "127.0.0.1", 0, auth_settings(), config.clone())
            .await
            .expect("engine starts");
        let client = client("http://127.0.0.1", app.port()).await;
        Self {
            client,
            embedded: Some(Embedded {
                app: Some(app),
                config,
                database,
                db,
            }),
            http: reqwest::Client::new(),
        }
    }

    pub fn is_embedded(&self) -> bool {
        self.embedded.is_some()
    }

    /// Stops the embedded engine and starts a new one on the same database (new port).
    pub async fn restart(&mut self) {
        self.stop_embedded().await;
        self.start_embedded().await;
    }

    /// Stops the embedded engine (its database stays).
    pub async fn stop_embedded(&mut self) {
        let embedded = self
            .embedded
            .as_mut()
            .expect("stopping needs the embedded engine");
        if let Some(app) = embedded.app.take() {
            app.stop().await;
        }
    }

    /// Starts an embedded engine on the same database (new port) and reconnects the client.
    pub async fn start_embedded(&mut self) {
        let embedded = self
            .embedded
            .as_mut()
            .expect("starting needs the embedded engine");
        let app = Application::build(
            &embedded.database,
            "127.0.0.1",
            0,
            auth_settings(),
            embedded.config.clone(),
        )
        .await
        .expect("engine restarts");
        self.client = client("http://127.0.0.1", app.port()).await;
        embedded.app = Some(app);
    }

    /// Base URL of the REST API: the embedded engine's REST port, or `ZEEBE_REST_ADDRESS`.
    pub fn rest(&self) -> String {
        match self.embedded.as_ref().and_then(|e| e.app.as_ref()) {
            Some(app) => format!("http://127.0.0.1:{}", app.rest_port()),
            None => std::env::var("ZEEBE_REST_ADDRESS").expect(
                "REST scenarios against ZEEBE_ADDRESS need ZEEBE_REST_ADDRESS (Camunda's REST API, e.g. http://localhost:8080)",
            ),
        }
    }

    /// Adds the operator's token for the embedded engine (Camunda 8 brings its own identity).
    pub fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if self.is_embedded() {
            request.bearer_auth(operator_token())
        } else {
            request
        }
    }

    /// POSTs JSON to the REST API; returns the status and the body (JSON, or null when empty).
    pub async fn post(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let response = self
            .authorized(self.http.post(format!("{}{path}", self.rest())))
            .json(body)
            .send()
            .await
            .expect("REST request");
        read(response).await
    }

    /// POSTs JSON to the REST API from a task of its own, for calls that wait (a completion
    /// held by task listeners) while the test plays the listener.
    pub fn post_in_background(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> tokio::task::JoinHandle<(reqwest::StatusCode, serde_json::Value)> {
        let request = self
            .authorized(self.http.post(format!("{}{path}", self.rest())))
            .json(&body);
        tokio::spawn(async move { read(request.send().await.expect("REST request")).await })
    }

    /// Sends a request without a body (GET, DELETE) to the REST API.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let response = self
            .authorized(self.http.request(method, format!("{}{path}", self.rest())))
            .send()
            .await
            .expect("REST request");
        read(response).await
    }

    /// Searches user tasks until `expected` match (Camunda's search reads exported records, so
    /// it lags the engine; the embedded engine answers the first time) or 10 s pass.
    pub async fn search_tasks(
        &self,
        filter: serde_json::Value,
        expected: usize,
    ) -> Vec<serde_json::Value> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (status, body) = self
                .post(
                    "/v2/user-tasks/search",
                    &serde_json::json!({"filter": filter}),
                )
                .await;
            assert_eq!(status, reqwest::StatusCode::OK, "{body}");
            let items = body["items"].as_array().cloned().unwrap_or_default();
            if items.len() == expected || std::time::Instant::now() > deadline {
                assert_eq!(
                    body["page"]["totalItems"],
                    serde_json::json!(items.len()),
                    "{body}"
                );
                return items;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub fn pool(&self) -> &sqlx::PgPool {
        self.embedded
            .as_ref()
            .and_then(|e| e.app.as_ref())
            .expect("embedded")
            .engine()
            .pool()
    }

    pub async fn deploy(&self, name: &str, xml: &str) -> zeebe_rs::DeployResourceResponse {
        self.client
            .deploy_resource()
            .with_definition(name.to_owned(), xml.as_bytes().to_vec())
            .send()
            .await
            .expect("deploy")
    }

    pub async fn create(&self, process_id: &str, variables: serde_json::Value) -> i64 {
        self.client
            .create_process_instance()
            .with_bpmn_process_id(process_id.to_owned())
            .with_variables(variables)
            .expect("variables")
            .send()
            .await
            .expect("create instance")
            .process_instance_key()
    }

    /// Activates one job of `job_type` through a zeebe-rs worker long-polling for `wait`.
    pub async fn activate(&self, job_type: &str, wait: Duration) -> Option<ActivatedJob> {
        activate_one(&self.client, job_type, wait).await
    }

    /// Instance state from the embedded engine's database (ACTIVE/COMPLETED/CANCELED).
    pub async fn instance_state(&self, key: i64) -> String {
        sqlx::query_scalar("SELECT state FROM process_instance WHERE process_instance_key = $1")
            .bind(key)
            .fetch_one(self.pool())
            .await
            .expect("instance state")
    }

    /// Timers still waiting in an instance (embedded engine's database).
    pub async fn open_timers(&self, key: i64) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM timer WHERE process_instance_key = $1")
            .bind(key)
            .fetch_one(self.pool())
            .await
            .expect("timers")
    }

    /// Active incidents `(key, error_type, message)`: Zeebe exposes these through Operate only,
    /// so the suite reads them from the embedded engine's database.
    pub async fn incidents(&self, key: i64) -> Vec<(i64, String, String)> {
        sqlx::query_as(
            "SELECT incident_key, error_type, error_message FROM incident
             WHERE process_instance_key = $1 AND state = 'ACTIVE' ORDER BY incident_key",
        )
        .bind(key)
        .fetch_all(self.pool())
        .await
        .expect("incidents")
    }
}

/// One long poll through zeebe-rs's worker: the worker's first poll fires at once; its handler
/// hands the job over and the worker is stopped before its next (15 s) tick.
pub async fn activate_one(client: &Client, job_type: &str, wait: Duration) -> Option<ActivatedJob> {
    let (tx, mut rx) = mpsc::channel::<ActivatedJob>(8);
    let worker = client
        .worker()
        .with_request_timeout(wait)
        .with_job_timeout(Duration::from_secs(30))
        .with_max_jobs_to_activate(1)
        .with_concurrency_limit(1)
        .with_job_type(job_type.to_owned())
        .with_handler(move |_client, job| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(job).await;
            }
        })
        .build();
    let running = tokio::spawn(worker.run());
    let job = tokio::time::timeout(wait + Duration::from_secs(1), rx.recv())
        .await
        .ok()
        .flatten();
    running.abort();
    job
}

pub async fn complete(client: &Client, job: &ActivatedJob, variables: serde_json::Value) {
    client
        .complete_job()
        .with_job_key(job.key())
        .with_variables(variables)
        .expect("variables")
        .send()
        .await
        .expect("complete job");
}

async fn read(response: reqwest::Response) -> (reqwest::StatusCode, serde_json::Value) {
    let status = response.status();
    let problem = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    let text = response.text().await.expect("REST body");
    let body = if text.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON body: {text}"))
    };
    if status.is_client_error() || status.is_server_error() {
        assert!(
            problem,
            "errors are application/problem+json: {status} {text}"
        );
    }
    (status, body)
}

/// A key from a REST body: Camunda 8.7+ writes keys as strings, older versions as numbers.
pub fn key_of(value: &serde_json::Value) -> i64 {
    match value {
        serde_json::Value::String(s) => s.parse().expect("numeric key"),
        other => other.as_i64().expect("key"),
    }
}

pub fn bpmn(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/bpmn")
            .join(name),
    )
    .expect("fixture")
}

pub fn vars(job: &ActivatedJob) -> serde_json::Value {
    serde_json::from_str(job.variables()).expect("job variables are JSON")
}
