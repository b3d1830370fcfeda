//! The embedded engine on a fresh database with `workflow/bpmn/` deployed, its operator views,
//! the journal of what the stand-in workers ran, and the runtime's worker settings.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use common_kernel::settings::{DatabaseSettings, Secret};
use reqwest::StatusCode;
use serde_json::{Map, Value};
use test_support::{TestDatabase, TestIssuer};
use tokio::time::Instant;
use workflow_engine::{Application, EngineConfig};
use workflow_runtime::{
    DeployedProcess, Gateway, JobContext, RetryPolicy, WorkerConfig, WorkerGroup, deploy_directory,
};

/// How long a scenario waits for the engine and the workers.
pub const WAIT: Duration = Duration::from_secs(15);

pub fn bpmn_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workflow/bpmn")
}

fn database_settings(url: &str) -> DatabaseSettings {
    DatabaseSettings {
        url: Secret::new(url.to_owned()),
        max_connections: 16,
        acquire_timeout: Duration::from_secs(5),
    }
}

/// The embedded engine with both definitions deployed, a gateway for workers and a REST client.
pub struct Platform {
    pub gateway: Gateway,
    http: reqwest::Client,
    rest: String,
    pub deployed: Vec<DeployedProcess>,
    _engine: Application,
    _db: TestDatabase,
}

impl Platform {
    pub async fn start() -> Self {
        let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/workflow");
        let db = TestDatabase::from_template("workflow_rt", &migrations, |url| async move {
            workflow_engine::startup::prepare_database(&database_settings(&url))
                .await
                .expect("migrate template");
        })
        .await;
        let engine = Application::build(
            &database_settings(&db.url),
            "127.0.0.1",
            0,
            auth_settings(),
            EngineConfig::default(),
        )
        .await
        .expect("engine starts");
        let gateway = Gateway::connect("http://127.0.0.1", engine.port())
            .await
            .expect("gateway connects");
        // Every service start deploys its files again: the second call must change nothing.
        let deployed = deploy_directory(gateway.client(), bpmn_dir())
            .await
            .expect("workflow/bpmn deploys");
        let again = deploy_directory(gateway.client(), bpmn_dir())
            .await
            .expect("workflow/bpmn deploys again");
        assert_eq!(
            deployed, again,
            "a second deployment keeps versions and keys"
        );
        Self {
            rest: format!("http://127.0.0.1:{}", engine.rest_port()),
            gateway,
            http: reqwest::Client::new(),
            deployed,
            _engine: engine,
            _db: db,
        }
    }

    pub async fn create(&self, process_id: &str, variables: Value) -> i64 {
        self.gateway
            .client()
            .create_process_instance()
            .with_bpmn_process_id(process_id.to_owned())
            .with_variables(variables)
            .expect("variables")
            .send()
            .await
            .expect("create instance")
            .process_instance_key()
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.rest))
            .bearer_auth(operator_token())
            .send()
            .await
            .expect("REST request");
        read(response).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.rest))
            .bearer_auth(operator_token())
            .json(body)
            .send()
            .await
            .expect("REST request");
        read(response).await
    }

    /// The operator view of one instance: state, where its tokens wait, variables, incidents.
    pub async fn instance(&self, key: i64) -> Value {
        let (status, body) = self.get(&format!("/v1/ops/process-instances/{key}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Waits until the operator view says the instance has ended; returns that view.
    pub async fn ended(&self, key: i64) -> Value {
        let until = Instant::now() + WAIT;
        loop {
            let view = self.instance(key).await;
            if view["state"] != "ACTIVE" {
                return view;
            }
            assert!(Instant::now() < until, "{key} still active: {view:#}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for the instance's first incident; returns it.
    pub async fn incident(&self, key: i64) -> Value {
        let until = Instant::now() + WAIT;
        loop {
            let view = self.instance(key).await;
            if let Some(incident) = view["incidents"].as_array().and_then(|i| i.first()) {
                return incident.clone();
            }
            assert!(Instant::now() < until, "no incident: {view:#}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Polls `condition` until it holds or [`WAIT`] has passed; returns whether it held.
pub async fn eventually(mut condition: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + WAIT;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The issuer of this test process's tokens.
fn issuer() -> Arc<TestIssuer> {
    static ISSUER: OnceLock<Arc<TestIssuer>> = OnceLock::new();
    Arc::clone(ISSUER.get_or_init(|| Arc::new(TestIssuer::start())))
}

/// The embedded engine's REST API trusts the test issuer.
fn auth_settings() -> common_kernel::auth::AuthSettings {
    let issuer = issuer();
    let url = issuer.issuer_url();
    common_kernel::auth::AuthSettings::from_lookup(|name| match name {
        "OIDC_ISSUER" => Some(url.clone()),
        "OIDC_AUDIENCE" => Some(issuer.audience().to_owned()),
        _ => None,
    })
    .expect("test auth settings")
}

/// An operator: reads instances, resolves incidents.
fn operator_token() -> String {
    issuer().token_as("acme", "ops1", &["operator", "approver-manager"], None)
}

async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("REST body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON body: {text}"))
    };
    (status, body)
}

/// The instance-scope variables of an operator view, by name.
pub fn variables(view: &Value) -> Map<String, Value> {
    let key = &view["processInstanceKey"];
    view["variables"]
        .as_array()
        .expect("variables")
        .iter()
        .filter(|v| &v["scopeKey"] == key)
        .map(|v| {
            (
                v["name"].as_str().expect("name").to_owned(),
                v["value"].clone(),
            )
        })
        .collect()
}

/// One job a stand-in worker ran: its type, its instance and what it was given (and, for
/// the external calls and `order.advance`, what it answered).
#[derive(Debug, Clone)]
pub struct Call {
    pub job_type: String,
    pub instance: i64,
    pub seen: Value,
}

/// Every job the stand-in workers ran, in the order they answered.
#[derive(Debug, Clone, Default)]
pub struct Journal(Arc<Mutex<Vec<Call>>>);

impl Journal {
    pub fn record(&self, ctx: &JobContext, seen: Value) {
        self.0.lock().unwrap().push(Call {
            job_type: ctx.job_type.clone(),
            instance: ctx.process_instance_key,
            seen,
        });
    }

    pub fn calls(&self, instance: i64) -> Vec<Call> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.instance == instance)
            .cloned()
            .collect()
    }

    pub fn job_types(&self, instance: i64) -> Vec<String> {
        self.calls(instance)
            .into_iter()
            .map(|c| c.job_type)
            .collect()
    }

    /// What every `job_type` job of `instance` was given, in order.
    pub fn seen_all(&self, instance: i64, job_type: &str) -> Vec<Value> {
        self.calls(instance)
            .into_iter()
            .filter(|c| c.job_type == job_type)
            .map(|c| c.seen)
            .collect()
    }

    /// What the last `job_type` job of `instance` was given.
    pub fn seen(&self, instance: i64, job_type: &str) -> Value {
        self.seen_all(instance, job_type)
            .pop()
            .unwrap_or_else(|| panic!("no {job_type} job ran for {instance}"))
    }

    /// The external calls of one task, in order: what each answered.
    pub fn answers(&self, instance: i64, task_id: &str) -> Vec<String> {
        self.calls(instance)
            .into_iter()
            .filter(|c| c.seen["taskId"] == task_id)
            .map(|c| c.seen["answer"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

/// Short long polls and a fast back-off keep the scenarios quick; `retries` is the task's
/// `zeebe:taskDefinition retries`, which the back-off formula counts attempts from.
pub fn worker(job_type: &str, retries: i32) -> WorkerConfig {
    WorkerConfig {
        request_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            initial_retries: retries,
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
        },
        ..WorkerConfig::new(job_type)
    }
}

/// Stops the workers and checks that each finished its jobs and that the engine accepted
/// every command, except `refused` (job type, count): completions the engine answered
/// NOT_FOUND because the job had been ended meanwhile.
pub async fn stop(workers: WorkerGroup, refused: &[(&str, u64)]) {
    for report in workers.shutdown(Duration::from_secs(5)).await {
        assert!(report.is_clean(), "{report:?}");
        let expected = refused
            .iter()
            .find(|(job_type, _)| *job_type == report.job_type)
            .map_or(0, |(_, n)| *n);
        assert_eq!(report.stats.command_errors, expected, "{report:?}");
    }
}
