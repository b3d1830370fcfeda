//! `TestApp`: the catalog running on a random port against its own database.

use std::collections::HashMap;
use std::path::Path;

use common_kernel::settings::Settings;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use std::sync::{Arc, OnceLock};

use test_support::{TestDatabase, TestIssuer};
use tokio::sync::oneshot;
use uuid::Uuid;

/// Tenant used by default.
pub const TENANT: &str = "acme";

/// Roles of the default caller: maintains the catalog.
pub const ROLES: &[&str] = &["catalog-admin"];

/// The issuer of this test process's tokens (one per process: nextest runs each test alone).
pub fn issuer() -> Arc<TestIssuer> {
    static ISSUER: OnceLock<Arc<TestIssuer>> = OnceLock::new();
    Arc::clone(ISSUER.get_or_init(|| Arc::new(TestIssuer::start())))
}

/// Every table a command may write (audit evidence travels in the outbox), each with a
/// `tenant_id`.
pub const BUSINESS_TABLES: [&str; 11] = [
    "product_specification",
    "characteristic_definition",
    "product_offering",
    "product_offering_version",
    "offering_relationship",
    "product_offering_history",
    "price_book",
    "price_book_version",
    "price_book_charge",
    "price_book_history",
    "outbox_event",
];

/// A running catalog.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// Pool on the test database with search_path = catalog_schema.
    pub db: PgPool,
    pub tenant: String,
    /// The issuer the catalog trusts.
    pub issuer: Arc<TestIssuer>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    _database: TestDatabase,
}

/// A fresh database migrated for the catalog (a clone of the template).
pub async fn fresh_database() -> TestDatabase {
    let platform = Path::new(service_host::messaging::schema::MIGRATIONS_DIR);
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/catalog");
    TestDatabase::from_template_of("catalog", &[platform, &migrations], |url| async move {
        let settings = settings(&url, None, HashMap::new());
        let pool = common_kernel::db::connect(&settings.database, catalog::SCHEMA)
            .await
            .expect("connect template");
        service_host::messaging::schema::migrate(&pool, catalog::SCHEMA, &catalog::MIGRATOR)
            .await
            .expect("migrate template");
        pool.close().await;
    })
    .await
}

fn settings(
    database_url: &str,
    redis_url: Option<&str>,
    extra: HashMap<&'static str, String>,
) -> Settings {
    let mut vars: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", database_url.to_owned()),
        (
            "REDIS_URL",
            redis_url.map_or_else(|| "disabled".to_owned(), str::to_owned),
        ),
        ("APP__SERVER__PORT", "0".to_owned()),
        ("APP__DATABASE__MAX_CONNECTIONS", "8".to_owned()),
        // Tests that need the relay turn it on with KAFKA_BROKERS in `extra`.
        ("KAFKA_BROKERS", "disabled".to_owned()),
        ("OIDC_ISSUER", issuer().issuer_url()),
        ("OIDC_AUDIENCE", issuer().audience().to_owned()),
    ]);
    vars.extend(test_support::generous_rate_limits());
    vars.extend(extra);
    Settings::from_lookup(catalog::SERVICE, 0, |name| vars.get(name).cloned())
        .expect("test settings")
}

impl TestApp {
    /// The catalog with the shared Redis.
    pub async fn spawn() -> Self {
        Self::spawn_with(Some(test_support::redis_url()), HashMap::new()).await
    }

    /// The catalog with a given Redis (or none) and extra settings.
    pub async fn spawn_with(
        redis_url: Option<String>,
        extra: HashMap<&'static str, String>,
    ) -> Self {
        let database = fresh_database().await;
        let settings = settings(&database.url, redis_url.as_deref(), extra);
        let db = common_kernel::db::connect(&settings.database, catalog::SCHEMA)
            .await
            .expect("test pool");
        let app = catalog::Application::build(settings)
            .await
            .expect("build catalog");
        let port = app.port();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            app.run_until(async {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        Self {
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::builder().build().expect("client"),
            db,
            tenant: TENANT.to_owned(),
            issuer: issuer(),
            shutdown: Some(tx),
            server: Some(server),
            _database: database,
        }
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.db.close().await;
    }

    /// A token for `actor` in `tenant` with `roles`.
    pub fn token(&self, tenant: &str, actor: &str, roles: &[&str]) -> String {
        self.issuer.token_as(tenant, actor, roles, None)
    }

    /// A request without credentials.
    pub fn anonymous(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    /// A request as `tester`, a catalog admin of the test's tenant.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.anonymous(method, path)
            .bearer_auth(self.token(&self.tenant, "tester", ROLES))
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.expect("GET")
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path)
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    /// POST without a body.
    pub async fn post_empty(&self, path: &str) -> Response {
        self.request(Method::POST, path).send().await.expect("POST")
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Response {
        self.request(Method::PATCH, path)
            .json(body)
            .send()
            .await
            .expect("PATCH")
    }

    /// A pool on the test database as the service's request-handling role (`catalog_app`, under
    /// row-level security), as `service-host` opens it, for tests that query as the service does.
    pub async fn app_pool(&self) -> PgPool {
        let settings = settings(&self._database.url, None, HashMap::new());
        common_kernel::db::connect(&settings.app_database(catalog::SERVICE), catalog::SCHEMA)
            .await
            .expect("app role pool")
    }

    /// Rows in a catalog table.
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(&self.db)
            .await
            .expect("count")
    }

    /// Row counts of every table a command may write, to prove that nothing was written.
    pub async fn footprint(&self) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        for table in BUSINESS_TABLES {
            out.push((table.to_owned(), self.count(table).await));
        }
        out
    }

    /// Creates a specification with a bandwidth characteristic; returns its id.
    pub async fn create_spec(&self, code: &str) -> Uuid {
        let response = self
            .post(
                "/product-specifications",
                &json!({
                    "code": code,
                    "name": format!("Spec {code}"),
                    "characteristics": [
                        {"name": "bandwidthMbps", "valueType": "INTEGER", "required": true,
                         "allowedValues": [100, 500, 1000], "defaultValue": 100, "unit": "Mbps"},
                        {"name": "sla", "valueType": "STRING", "required": false, "allowedValues": ["STANDARD", "PREMIUM"]}
                    ]
                }),
            )
            .await;
        let body = expect_status(response, StatusCode::CREATED).await;
        id_of(&body, "id")
    }

    /// Creates an offering (with a fresh specification); returns its id.
    pub async fn create_offering(&self, code: &str) -> Uuid {
        let spec = self.create_spec(&format!("{code}-SPEC")).await;
        self.create_offering_with(code, spec, json!([])).await
    }

    /// Creates an offering on a given specification with relationships.
    pub async fn create_offering_with(&self, code: &str, spec: Uuid, relationships: Value) -> Uuid {
        let response = self
            .post(
                "/product-offerings",
                &json!({"code": code, "name": format!("Offering {code}"), "productSpecificationId": spec, "relationships": relationships}),
            )
            .await;
        let body = expect_status(response, StatusCode::CREATED).await;
        id_of(&body, "id")
    }

    /// Runs a lifecycle command on the latest version and expects success.
    pub async fn command(&self, offering: Uuid, command: &str) -> Value {
        let response = self
            .post_empty(&format!("/product-offerings/{offering}/{command}"))
            .await;
        expect_status(response, StatusCode::OK).await
    }

    /// Creates an offering and publishes version 1.
    pub async fn published_offering(&self, code: &str) -> Uuid {
        let id = self.create_offering(code).await;
        self.command(id, "submit-for-review").await;
        self.command(id, "publish").await;
        id
    }

    /// Reads a version.
    pub async fn version(&self, offering: Uuid, version: i32) -> Value {
        let response = self
            .get(&format!("/product-offerings/{offering}/versions/{version}"))
            .await;
        expect_status(response, StatusCode::OK).await
    }
}

/// Asserts the status and returns the JSON body (printing it on mismatch).
pub async fn expect_status(response: Response, expected: StatusCode) -> Value {
    let status = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(status, expected, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Asserts a problem+json answer with a status and code; returns the body.
pub async fn expect_problem(response: Response, status: StatusCode, code: &str) -> Value {
    let actual = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let correlation = response.headers().get("x-correlation-id").cloned();
    let text = response.text().await.expect("body");
    assert_eq!(actual, status, "body: {text}");
    assert_eq!(content_type, "application/problem+json", "body: {text}");
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("problem body is not JSON ({e}): {text}"));
    assert_eq!(body["code"], code, "body: {text}");
    assert_eq!(body["status"], status.as_u16());
    assert!(
        body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("urn:cpq-oms:problem:"))
    );
    let correlation = correlation.expect("x-correlation-id header");
    assert_eq!(
        body["correlationId"],
        correlation.to_str().unwrap(),
        "body and header carry the same correlation id"
    );
    for forbidden in [
        "panicked",
        "sqlx",
        "SELECT",
        "INSERT",
        "stack backtrace",
        "src/",
    ] {
        assert!(
            !text.contains(forbidden),
            "internal detail '{forbidden}' leaked: {text}"
        );
    }
    body
}

pub fn id_of(body: &Value, field: &str) -> Uuid {
    body[field]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in {body}"))
}

/// A version body without the fields that legitimately move (aggregate version).
pub fn frozen_view(mut body: Value) -> Value {
    if let Value::Object(map) = &mut body {
        map.remove("aggregateVersion");
    }
    body
}
