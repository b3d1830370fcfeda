//! `TestApp`: the approval API on a random port, wired as the service wires it (the shared host,
//! its own migrated database, the app role under row-level security), in front of a real
//! embedded workflow engine (its own database) that it calls with the `approval-service`
//! client's tokens. Tokens come from the test issuer; requests are opened through the
//! application command and linked to engine instances of a one-task `quote-approval` process.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use approval::app::open_request::{self, OpenInput};
use approval::app::ports::Ports;
use approval::domain::{
    ApprovalLevel, ApprovalRequestId, Assignment, GroupId, LevelPlan, PolicySnapshot, PriceHash,
    QuoteId, QuoteRef, QuoteRevision, RiskDirection, RuleEvaluation,
};
use approval::http::{self, AppState};
use approval::infra::{EngineTaskClient, PgApprovalRepository, PgApproverDirectory};
use common_kernel::auth::{AuthSettings, ServiceTokens};
use common_kernel::context::{ActorType, RequestContext};
use common_kernel::db;
use common_kernel::settings::{DatabaseSettings, Secret, Settings, app_database_url};
use domain_kernel::access::{Authority, Role};
use domain_kernel::{ActorId, TenantId};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use service_host::{Foundation, Host, ServiceIdentity};
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use test_support::{TestDatabase, TestIssuer};
use tokio::sync::oneshot;
use uuid::Uuid;
use workflow_engine::EngineConfig;
use workflow_engine::app::CreateInstance;

static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/approval");
const IDENTITY: ServiceIdentity = ServiceIdentity {
    name: "approval",
    schema: "approval_schema",
    migrator: &MIGRATOR,
};
/// The tenant of most fixtures.
pub const ACME: &str = "acme";
/// Another tenant.
pub const GLOBEX: &str = "globex";
/// Who submits every fixture quote.
pub const SUBMITTER: &str = "sales1";
/// The manager level's group.
pub const MANAGERS: &str = "approver-manager";
/// The director level's group.
pub const DIRECTORS: &str = "approver-director";
/// The one-task approval process the engine runs in these tests.
const PROCESS: &str = include_str!("quote-approval-one-task.bpmn");

/// The issuer of this test process's tokens.
pub fn issuer() -> Arc<TestIssuer> {
    static ISSUER: OnceLock<Arc<TestIssuer>> = OnceLock::new();
    Arc::clone(ISSUER.get_or_init(|| Arc::new(TestIssuer::start())))
}

/// A token for `user` of `tenant` with `roles`.
pub fn token(tenant: &str, user: &str, roles: &[&str]) -> String {
    issuer().token_as(tenant, user, roles, None)
}

fn auth_lookup(name: &str) -> Option<String> {
    match name {
        "OIDC_ISSUER" => Some(issuer().issuer_url()),
        "OIDC_AUDIENCE" => Some(issuer().audience().to_owned()),
        _ => None,
    }
}

/// The embedded engine on its own database.
pub struct Engine {
    /// The running engine.
    pub app: workflow_engine::Application,
    _database: TestDatabase,
}

impl Engine {
    /// Starts an engine and deploys the one-task `quote-approval` process.
    pub async fn start() -> Self {
        let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/workflow");
        let database = TestDatabase::from_template("workflow", &migrations, |url| async move {
            workflow_engine::startup::prepare_database(&settings_of(&url, 8))
                .await
                .expect("migrate the engine's template");
        })
        .await;
        let auth = AuthSettings::from_lookup(auth_lookup).expect("engine auth");
        let app = workflow_engine::Application::build(
            &settings_of(&database.url, 8),
            "127.0.0.1",
            0,
            auth,
            EngineConfig::default(),
        )
        .await
        .expect("engine starts");
        app.engine()
            .deploy(vec![(
                "quote-approval-one-task.bpmn".into(),
                PROCESS.as_bytes().to_vec(),
            )])
            .await
            .expect("deploy");
        Self {
            app,
            _database: database,
        }
    }

    /// The engine's REST base URL.
    pub fn rest(&self) -> String {
        format!("http://127.0.0.1:{}", self.app.rest_port())
    }

    /// Starts an instance whose one task `groups` may claim; returns its key.
    pub async fn start_instance(&self, groups: &[&str]) -> i64 {
        let variables =
            json!({"approverGroups": groups, "approvalDueDate": "2031-01-01T10:00:00Z"});
        self.app
            .engine()
            .create_instance(&CreateInstance {
                process_definition_key: None,
                bpmn_process_id: "quote-approval".into(),
                version: -1,
                variables: variables.to_string(),
            })
            .await
            .expect("instance starts")
            .process_instance_key
    }
}

fn settings_of(url: &str, connections: u32) -> DatabaseSettings {
    DatabaseSettings {
        url: Secret::new(url.to_owned()),
        max_connections: connections,
        acquire_timeout: Duration::from_secs(10),
    }
}

/// The approval API in front of an engine.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The HTTP client.
    pub client: reqwest::Client,
    /// The request role's pool (row-level security).
    pub app_db: PgPool,
    /// The schema owner's pool, for assertions across tenants.
    pub owner: PgPool,
    /// The jobs role's pool (what links requests to instances).
    pub jobs: PgPool,
    /// The engine.
    pub engine: Engine,
    /// The ports the service runs with.
    pub ports: Ports,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    _database: TestDatabase,
}

async fn approval_database() -> TestDatabase {
    let platform = Path::new(service_host::messaging::schema::MIGRATIONS_DIR);
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/approval");
    TestDatabase::from_template_of("approval", &[platform, &migrations], |url| async move {
        let pool = db::connect(&settings_of(&url, 2), IDENTITY.schema)
            .await
            .expect("connect the template");
        service_host::messaging::schema::migrate(&pool, IDENTITY.schema, &MIGRATOR)
            .await
            .expect("migrate the template");
        pool.close().await;
    })
    .await
}

impl TestApp {
    /// The service against a fresh database and a fresh engine.
    pub async fn spawn() -> Self {
        let engine = Engine::start().await;
        Self::spawn_with_engine_url(engine, None).await
    }

    /// The service calling the engine at `engine_url` (default: `engine`'s own REST port).
    pub async fn spawn_with_engine_url(engine: Engine, engine_url: Option<String>) -> Self {
        let database = approval_database().await;
        let mut vars: HashMap<&str, String> = HashMap::from([
            ("DATABASE_URL", database.url.clone()),
            ("REDIS_URL", test_support::redis_url()),
            ("APP__SERVER__PORT", "0".to_owned()),
            ("APP__DATABASE__MAX_CONNECTIONS", "8".to_owned()),
            ("OIDC_ISSUER", issuer().issuer_url()),
            ("OIDC_AUDIENCE", issuer().audience().to_owned()),
            ("KAFKA_BROKERS", "disabled".to_owned()),
        ]);
        vars.extend(test_support::generous_rate_limits());
        vars.extend(issuer().client_env("approval-service"));
        let settings = Settings::from_lookup("approval", 0, |name| vars.get(name).cloned())
            .expect("test settings");
        let foundation = Foundation::open(&IDENTITY, &settings)
            .await
            .expect("foundation");
        let tokens = ServiceTokens::new(settings.auth.as_ref().expect("auth settings"))
            .expect("token client")
            .map(Arc::new);
        assert!(tokens.is_some(), "the service calls the engine as itself");
        let url = engine_url.unwrap_or_else(|| engine.rest());
        let tasks = EngineTaskClient::new(&url, tokens).expect("engine client");
        let ports = Ports {
            requests: Arc::new(PgApprovalRepository),
            directory: Arc::new(PgApproverDirectory::new(foundation.db.clone())),
        };
        let state = AppState {
            db: foundation.db.clone(),
            runner: foundation.runner.clone(),
            ports: ports.clone(),
            tasks: Arc::new(tasks),
        };
        let app_db = foundation.db.clone();
        let host = Host::bind(
            &IDENTITY,
            &settings,
            foundation,
            http::routes(state),
            http::openapi::openapi_json(),
        )
        .await
        .expect("bind");
        let port = host.port();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            host.run_until(
                async {
                    let _ = rx.await;
                },
                Vec::new(),
            )
            .await
            .expect("serve");
        });
        let owner = db::connect(&settings_of(&database.url, 2), IDENTITY.schema)
            .await
            .expect("owner pool");
        let jobs = db::connect(
            &settings_of(&app_database_url(&database.url, "approval_jobs"), 2),
            IDENTITY.schema,
        )
        .await
        .expect("jobs pool");
        Self {
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            app_db,
            owner,
            jobs,
            engine,
            ports,
            shutdown: Some(tx),
            server: Some(server),
            _database: database,
        }
    }

    /// Stops the service (the engine stops when dropped with the test's runtime).
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }

    /// A request to `path` with `token`.
    pub fn request(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
    }

    /// GETs `path` as `token`'s caller.
    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, token)
            .send()
            .await
            .expect("GET")
    }

    /// POSTs `body` to `path` as `token`'s caller.
    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(Method::POST, path, token)
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    /// Sets `actor`'s directory entry in `tenant` as an operator.
    pub async fn put_approver(&self, tenant: &str, actor: &str, roles: &[&str], groups: &[&str]) {
        let operator = token(tenant, "ops1", &["operator"]);
        let response = self
            .request(Method::PUT, &format!("/approvers/{actor}"), &operator)
            .json(&json!({"roles": roles, "groups": groups, "reason": "joins the approvers"}))
            .send()
            .await
            .expect("PUT approver");
        assert!(
            response.status().is_success(),
            "{:?}",
            response.text().await
        );
    }

    /// Opens a PENDING request in `tenant` for a fresh quote requiring `levels`, each level
    /// assigned to its group; returns the request and its price hash.
    pub async fn open(
        &self,
        tenant: &str,
        levels: &[ApprovalLevel],
    ) -> (ApprovalRequestId, String) {
        let hash = "c".repeat(64);
        let ctx = RequestContext::system(
            TenantId::parse(tenant).expect("tenant"),
            ActorId::parse(SUBMITTER).expect("actor"),
            ActorType::HumanAgent,
            "API",
            Authority {
                roles: vec![Role::SalesAgent],
                discount_authority: Decimal::from(10),
                client: "cpq-portal".into(),
                via: Some("cpq-service".into()),
            },
        );
        let input = OpenInput {
            quote: QuoteRef {
                quote_id: QuoteId::generate(),
                revision: QuoteRevision::new(1).expect("revision"),
                price_hash: PriceHash::parse(&hash).expect("hash"),
            },
            snapshot: snapshot(levels),
            chain: levels.iter().map(|l| plan(*l)).collect(),
            skips: Vec::new(),
            expires_at: approval::app::db_now() + chrono::Duration::days(7),
        };
        let mut tx = db::begin_for_tenant(&self.app_db, &ctx.tenant_id)
            .await
            .expect("begin");
        let request = open_request::execute(&mut tx, &self.ports, &ctx, input)
            .await
            .expect("open");
        tx.commit().await.expect("commit");
        (request.id(), hash)
    }

    /// Opens a request and starts its engine instance (task for `groups`), linked as the
    /// workers link it (as `approval_jobs`); returns request, hash and instance.
    pub async fn open_with_task(
        &self,
        tenant: &str,
        levels: &[ApprovalLevel],
        groups: &[&str],
    ) -> (ApprovalRequestId, String, i64) {
        let (id, hash) = self.open(tenant, levels).await;
        let instance = self.engine.start_instance(groups).await;
        self.link(id, instance).await;
        (id, hash, instance)
    }

    /// Links request `id` to engine instance `instance`, as the jobs role.
    pub async fn link(&self, id: ApprovalRequestId, instance: i64) {
        let linked = sqlx::query(
            "INSERT INTO approval_process (tenant_id, approval_request_id, process_instance_key) \
             SELECT tenant_id, approval_request_id, $2 FROM approval_request WHERE approval_request_id = $1",
        )
        .bind(id.as_uuid())
        .bind(instance)
        .execute(&self.jobs)
        .await
        .expect("link");
        assert_eq!(linked.rows_affected(), 1);
    }

    /// Open engine tasks of `instance`, as the engine's API lists them (operator token).
    pub async fn engine_tasks(&self, instance: i64, state: &str) -> Vec<Value> {
        let response = self
            .client
            .post(format!("{}/v2/user-tasks/search", self.engine.rest()))
            .bearer_auth(token(ACME, "ops1", &["operator"]))
            .json(&json!({"filter": {"processInstanceKey": instance.to_string(), "state": state}}))
            .send()
            .await
            .expect("engine search");
        let body: Value = expect_status(response, StatusCode::OK).await;
        body["items"].as_array().cloned().unwrap_or_default()
    }

    /// Rows matching `sql` (owner's view, every tenant).
    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.owner)
            .await
            .expect("count")
    }
}

fn group(name: &str) -> GroupId {
    GroupId::parse(name).expect("group")
}

/// The group of `level`.
pub fn group_of(level: ApprovalLevel) -> &'static str {
    match level {
        ApprovalLevel::Manager => MANAGERS,
        ApprovalLevel::Director => DIRECTORS,
        ApprovalLevel::Finance => "approver-finance",
    }
}

fn plan(level: ApprovalLevel) -> LevelPlan {
    LevelPlan {
        level,
        assignment: Assignment::Single {
            group: group(group_of(level)),
        },
        due: approval::app::db_now() + chrono::Duration::days(1),
        escalation_groups: vec![group(&format!("{}-backup", group_of(level)))],
    }
}

fn snapshot(levels: &[ApprovalLevel]) -> PolicySnapshot {
    PolicySnapshot {
        policy_id: "quote-approval-policy".into(),
        policy_version: "2".into(),
        policy_sha256: "e".repeat(64),
        rules: levels
            .iter()
            .map(|level| RuleEvaluation {
                rule_id: format!("DISCOUNT_{}", level.as_str()),
                input: "maxLineDiscountPercent".into(),
                tested_value: Decimal::new(300, 1),
                threshold: Decimal::from(10),
                risk: RiskDirection::HigherIsRiskier,
                required_level: *level,
            })
            .collect(),
        required_levels: levels.to_vec(),
    }
}

/// Asserts the status and returns the JSON body (null when empty).
pub async fn expect_status(response: Response, status: StatusCode) -> Value {
    let actual = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(actual, status, "{text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).expect("JSON body")
    }
}

/// Asserts a problem answer: status, code, and a correlation id.
pub async fn expect_problem(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let body = expect_status(response, status).await;
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["correlationId"]
            .as_str()
            .is_some_and(|c| !c.is_empty()),
        "{body}"
    );
    body
}

/// A fresh UUID, for paths that name nothing.
pub fn unknown_id() -> Uuid {
    Uuid::now_v7()
}
