//! `TestApp`: CPQ on a random port against its own database, talking to a real catalog (also
//! on a random port, with its own database) seeded through the catalog's HTTP API.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use common_kernel::settings::Settings;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use std::sync::{Arc, OnceLock};

use cpq::infra::approval_consumer::ApprovalOutcomes;
use test_support::{TcpProxy, TestDatabase, TestIssuer};
use tokio::sync::oneshot;
use uuid::Uuid;

/// Tenant used by default.
pub const TENANT: &str = "acme";

/// The issuer of this test process's tokens (one per process: nextest runs each test alone).
pub fn issuer() -> Arc<TestIssuer> {
    static ISSUER: OnceLock<Arc<TestIssuer>> = OnceLock::new();
    Arc::clone(ISSUER.get_or_init(|| Arc::new(TestIssuer::start())))
}

/// A token for the default seller: `rep-1`, a sales agent of the test tenant who may grant
/// 10 % alone.
pub fn seller_token() -> String {
    issuer().token_as(TENANT, "rep-1", &["sales-agent"], Some("10"))
}

/// A running service (catalog or CPQ).
pub struct Running {
    pub base: String,
    /// CPQ's approval consumer handler (none for the catalog).
    pub approvals: Option<ApprovalOutcomes>,
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

/// What the harness seeded in the catalog.
#[derive(Debug, Clone, Copy)]
pub struct Fixture {
    /// A published offering (v1) with a required `bandwidthMbps` (100/500/1000, default 100).
    pub offering: Uuid,
    /// A published USD price book (v1) pricing `offering` v1: 100.00/month + 50.00 once.
    pub price_book: Uuid,
}

/// CPQ plus its catalog.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// Pool on CPQ's test database (search_path = cpq_schema).
    pub db: PgPool,
    pub tenant: String,
    pub catalog: Running,
    pub fixture: Fixture,
    /// The proxy between CPQ and the catalog, when the test asked for one.
    pub catalog_proxy: Option<TcpProxy>,
    cpq: Running,
}

fn settings(
    service: &'static str,
    database_url: &str,
    extra: &HashMap<&'static str, String>,
) -> Settings {
    let mut vars: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", database_url.to_owned()),
        ("REDIS_URL", test_support::redis_url()),
        ("APP__SERVER__PORT", "0".to_owned()),
        ("APP__DATABASE__MAX_CONNECTIONS", "8".to_owned()),
        ("OIDC_ISSUER", issuer().issuer_url()),
        ("OIDC_AUDIENCE", issuer().audience().to_owned()),
        ("KAFKA_BROKERS", "disabled".to_owned()),
    ]);
    vars.extend(test_support::generous_rate_limits());
    vars.extend(extra.clone());
    Settings::from_lookup(service, 0, |name| vars.get(name).cloned()).expect("test settings")
}

async fn catalog_database() -> TestDatabase {
    let platform = Path::new(service_host::messaging::schema::MIGRATIONS_DIR);
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/catalog");
    TestDatabase::from_template_of("catalog", &[platform, &migrations], |url| async move {
        let settings = settings(catalog::SERVICE, &url, &HashMap::new());
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

/// A fresh, migrated CPQ database (for a test that runs the service binary itself).
pub async fn cpq_database() -> TestDatabase {
    let platform = Path::new(service_host::messaging::schema::MIGRATIONS_DIR);
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/cpq");
    TestDatabase::from_template_of("cpq", &[platform, &migrations], |url| async move {
        let settings = settings(cpq::SERVICE, &url, &HashMap::new());
        let pool = common_kernel::db::connect(&settings.database, cpq::SCHEMA)
            .await
            .expect("connect template");
        service_host::messaging::schema::migrate(&pool, cpq::SCHEMA, &cpq::MIGRATOR)
            .await
            .expect("migrate template");
        pool.close().await;
    })
    .await
}

/// Starts the catalog on a random port, its settings overridden by `extra` environment values.
pub async fn spawn_catalog_with(extra: &HashMap<&'static str, String>) -> Running {
    let database = catalog_database().await;
    let app = catalog::Application::build(settings(catalog::SERVICE, &database.url, extra))
        .await
        .expect("build catalog");
    let port = app.port();
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.run_until(async {
            let _ = rx.await;
        })
        .await
        .expect("serve catalog");
    });
    Running {
        base: format!("http://127.0.0.1:{port}"),
        approvals: None,
        shutdown: Some(tx),
        server: Some(server),
        _database: database,
    }
}

/// Starts CPQ on a random port against `catalog_url`; returns it and a pool on its database.
pub async fn spawn_cpq(
    catalog_url: &str,
    extra: HashMap<&'static str, String>,
) -> (Running, PgPool) {
    let database = cpq_database().await;
    // CPQ calls the catalog as its own service account, acting for the request's user.
    let mut extra = extra;
    for (name, value) in issuer().client_env("cpq-service") {
        extra.entry(name).or_insert(value);
    }
    let settings = settings(cpq::SERVICE, &database.url, &extra);
    let db = common_kernel::db::connect(&settings.database, cpq::SCHEMA)
        .await
        .expect("test pool");
    let cpq_settings = cpq::CpqSettings {
        catalog_url: catalog_url.to_owned(),
        expiry_interval: Duration::from_millis(200),
        ..cpq::CpqSettings::from_lookup(|name| extra.get(name).cloned()).expect("cpq settings")
    };
    let app = cpq::Application::build(settings, cpq_settings)
        .await
        .expect("build cpq");
    let port = app.port();
    let approvals = app.approval_outcomes();
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.run_until(async {
            let _ = rx.await;
        })
        .await
        .expect("serve cpq");
    });
    (
        Running {
            base: format!("http://127.0.0.1:{port}"),
            approvals: Some(approvals),
            shutdown: Some(tx),
            server: Some(server),
            _database: database,
        },
        db,
    )
}

impl TestApp {
    /// A seeded catalog and CPQ pointing at it.
    pub async fn spawn() -> Self {
        Self::spawn_with(HashMap::new()).await
    }

    /// As [`TestApp::spawn`], with CPQ settings overridden by `extra` environment values.
    pub async fn spawn_with(extra: HashMap<&'static str, String>) -> Self {
        Self::spawn_configured(extra, HashMap::new(), false).await
    }

    /// As [`TestApp::spawn_with`], with the catalog's settings overridden by `catalog_extra`.
    pub async fn spawn_with_catalog(
        extra: HashMap<&'static str, String>,
        catalog_extra: HashMap<&'static str, String>,
    ) -> Self {
        Self::spawn_configured(extra, catalog_extra, false).await
    }

    /// As [`TestApp::spawn_with`], with CPQ reaching the catalog through a [`TcpProxy`] the
    /// test can stall or cut.
    pub async fn spawn_behind_proxy(extra: HashMap<&'static str, String>) -> Self {
        Self::spawn_configured(extra, HashMap::new(), true).await
    }

    async fn spawn_configured(
        extra: HashMap<&'static str, String>,
        catalog_extra: HashMap<&'static str, String>,
        proxied: bool,
    ) -> Self {
        let catalog = spawn_catalog_with(&catalog_extra).await;
        let client = reqwest::Client::builder().build().expect("client");
        let fixture = seed(&client, &catalog.base).await;
        let catalog_proxy =
            proxied.then(|| TcpProxy::start(catalog.base.trim_start_matches("http://")));
        let catalog_url = catalog_proxy.as_ref().map_or_else(
            || catalog.base.clone(),
            |p| format!("http://{}", p.address()),
        );
        let (cpq, db) = spawn_cpq(&catalog_url, extra).await;
        Self {
            base: cpq.base.clone(),
            client,
            db,
            tenant: TENANT.to_owned(),
            catalog,
            fixture,
            catalog_proxy,
            cpq,
        }
    }

    /// Stops both services.
    pub async fn stop(mut self) {
        self.cpq.stop().await;
        self.catalog.stop().await;
        self.db.close().await;
    }

    /// A CPQ request with tenant and actor headers.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(issuer().token_as(&self.tenant, "rep-1", &["sales-agent"], Some("10")))
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

    pub async fn post_empty(&self, path: &str) -> Response {
        self.request(Method::POST, path).send().await.expect("POST")
    }

    pub async fn put(&self, path: &str, body: &Value) -> Response {
        self.request(Method::PUT, path)
            .json(body)
            .send()
            .await
            .expect("PUT")
    }

    /// A catalog request as the same tenant.
    pub fn catalog_request(&self, method: Method, path: &str) -> RequestBuilder {
        catalog_request(&self.client, &self.catalog.base, method, path)
    }

    /// A pool on CPQ's database as the service's request-handling role (`cpq_app`, under
    /// row-level security), as `service-host` opens it, for tests that query as the service does.
    pub async fn app_pool(&self) -> PgPool {
        let settings = settings(cpq::SERVICE, &self.cpq._database.url, &HashMap::new());
        common_kernel::db::connect(&settings.app_database(cpq::SERVICE), cpq::SCHEMA)
            .await
            .expect("app role pool")
    }

    /// A pool on CPQ's database as the jobs role (`cpq_jobs`, across tenants), as
    /// `service-host` opens it: where the approval consumer runs.
    pub async fn jobs_pool(&self) -> PgPool {
        let settings = settings(cpq::SERVICE, &self.cpq._database.url, &HashMap::new());
        common_kernel::db::connect(&settings.jobs_database(cpq::SERVICE), cpq::SCHEMA)
            .await
            .expect("jobs role pool")
    }

    /// CPQ's approval consumer handler.
    pub fn approval_handler(&self) -> &ApprovalOutcomes {
        self.cpq
            .approvals
            .as_ref()
            .expect("CPQ has its approval handler")
    }

    /// Rows in a CPQ table.
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(&self.db)
            .await
            .expect("count")
    }

    /// Row counts of every table a command may write, to prove that nothing was written.
    pub async fn footprint(&self) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        for table in [
            "quote",
            "quote_item",
            "quote_price_snapshot",
            "quote_price_override",
            "quote_history",
            "quote_conversion",
            "outbox_event",
            "outbox_pending",
        ] {
            out.push((table.to_owned(), self.count(table).await));
        }
        out
    }

    /// The body of a valid create request for the fixture, valid for `seconds`.
    pub fn create_body(&self, seconds: i64, items: Value) -> Value {
        json!({
            "customerId": "CUST-1",
            "currency": "USD",
            "priceBookId": self.fixture.price_book,
            "validUntil": chrono::Utc::now() + chrono::Duration::seconds(seconds),
            "items": items,
        })
    }

    /// One valid item of the fixture offering.
    pub fn item(&self, id: &str, quantity: i64) -> Value {
        json!({"id": id, "offeringId": self.fixture.offering, "quantity": quantity,
               "characteristics": {"bandwidthMbps": 500}})
    }

    /// Creates a CONFIGURED quote with one item, valid for an hour.
    pub async fn configured_quote(&self) -> Uuid {
        let body = self.create_body(3600, json!([self.item("1", 2)]));
        let created = expect_status(self.post("/quotes", &body).await, StatusCode::CREATED).await;
        assert_eq!(created["status"], "CONFIGURED", "{created}");
        id_of(&created, "id")
    }

    /// Runs a command on a quote and expects 200.
    pub async fn command(&self, quote: Uuid, command: &str) -> Value {
        expect_status(
            self.post_empty(&format!("/quotes/{quote}/{command}")).await,
            StatusCode::OK,
        )
        .await
    }

    /// Creates, prices and submits a quote, and the approval service's policy requires no
    /// approval (delivered through CPQ's consumer handler); returns it APPROVED.
    pub async fn approved_quote(&self) -> Uuid {
        let quote = self.configured_quote().await;
        self.command(quote, "price").await;
        let submitted = self.command(quote, "submit").await;
        assert_eq!(submitted["status"], "SUBMITTED", "{submitted}");
        let approved = self.approve(quote).await;
        assert_eq!(approved["status"], "APPROVED", "{approved}");
        quote
    }

    /// An approved and accepted quote.
    pub async fn accepted_quote(&self) -> Uuid {
        let quote = self.approved_quote().await;
        let accepted = self.command(quote, "accept").await;
        assert_eq!(accepted["status"], "ACCEPTED", "{accepted}");
        quote
    }

    /// Reads a quote.
    pub async fn quote(&self, id: Uuid) -> Value {
        expect_status(self.get(&format!("/quotes/{id}")).await, StatusCode::OK).await
    }

    /// Outbox rows: (topic, partition key, event type, envelope), in commit order.
    pub async fn outbox(&self) -> Vec<(String, String, String, Value)> {
        sqlx::query_as(
            "SELECT topic, partition_key, event_type, envelope FROM outbox_event ORDER BY outbox_seq",
        )
        .fetch_all(&self.db)
        .await
        .expect("outbox")
    }
}

/// A catalog request as the default tenant.
pub fn catalog_request(
    client: &reqwest::Client,
    base: &str,
    method: Method,
    path: &str,
) -> RequestBuilder {
    catalog_request_in(TENANT, client, base, method, path)
}

/// A catalog request as a catalog admin of `tenant`.
pub fn catalog_request_in(
    tenant: &str,
    client: &reqwest::Client,
    base: &str,
    method: Method,
    path: &str,
) -> RequestBuilder {
    client
        .request(method, format!("{base}{path}"))
        .bearer_auth(issuer().token_as(tenant, "catalog-admin", &["catalog-admin"], None))
}

/// POSTs to the catalog and expects success; returns the JSON body.
pub async fn catalog_post(client: &reqwest::Client, base: &str, path: &str, body: Value) -> Value {
    catalog_post_in(TENANT, client, base, path, body).await
}

/// As [`catalog_post`], as `tenant`.
async fn catalog_post_in(
    tenant: &str,
    client: &reqwest::Client,
    base: &str,
    path: &str,
    body: Value,
) -> Value {
    let response = catalog_request_in(tenant, client, base, Method::POST, path)
        .json(&body)
        .send()
        .await
        .expect("catalog POST");
    let status = response.status();
    let text = response.text().await.expect("body");
    assert!(status.is_success(), "catalog {path}: {status} {text}");
    serde_json::from_str(&text).expect("json")
}

/// Creates and publishes an offering with the bandwidth specification; returns its id.
pub async fn published_offering(client: &reqwest::Client, base: &str, code: &str) -> Uuid {
    published_offering_in(TENANT, client, base, code).await
}

/// As [`published_offering`], in `tenant`'s catalog.
async fn published_offering_in(
    tenant: &str,
    client: &reqwest::Client,
    base: &str,
    code: &str,
) -> Uuid {
    let spec = catalog_post_in(
        tenant,
        client,
        base,
        "/product-specifications",
        json!({"code": format!("{code}-SPEC"), "name": "Access", "characteristics": [
            {"name": "bandwidthMbps", "valueType": "INTEGER", "required": true,
             "allowedValues": [100, 500, 1000], "defaultValue": 100}
        ]}),
    )
    .await;
    let offering = catalog_post_in(
        tenant,
        client,
        base,
        "/product-offerings",
        json!({"code": code, "name": format!("Offering {code}"), "productSpecificationId": spec["id"]}),
    )
    .await;
    let id = id_of(&offering, "id");
    for command in ["submit-for-review", "publish"] {
        catalog_post_in(
            tenant,
            client,
            base,
            &format!("/product-offerings/{id}/{command}"),
            json!({}),
        )
        .await;
    }
    id
}

/// Creates and publishes a price book pricing `offering` v1 in `currency`, in `tenant`'s
/// catalog.
async fn published_price_book_in(
    tenant: &str,
    client: &reqwest::Client,
    base: &str,
    code: &str,
    currency: &str,
    offering: Uuid,
) -> Uuid {
    let book = catalog_post_in(
        tenant,
        client,
        base,
        "/price-books",
        json!({"code": code, "name": format!("Price book {code}"), "currency": currency, "entries": [{
            "offeringId": offering, "offeringVersion": 1, "charges": [
                {"chargeType": "RECURRING", "period": "MONTH", "unitPrice": "100.00"},
                {"chargeType": "ONE_TIME", "unitPrice": "50.00"}
            ]}]}),
    )
    .await;
    let id = id_of(&book, "priceBookId");
    catalog_post_in(
        tenant,
        client,
        base,
        &format!("/price-books/{id}/publish"),
        json!({}),
    )
    .await;
    id
}

async fn seed(client: &reqwest::Client, base: &str) -> Fixture {
    seed_tenant(TENANT, client, base).await
}

/// Seeds `tenant`'s catalog as the harness seeds the default tenant's: a published offering
/// and a published USD price book for it.
pub async fn seed_tenant(tenant: &str, client: &reqwest::Client, base: &str) -> Fixture {
    let offering = published_offering_in(tenant, client, base, "INTERNET").await;
    let price_book = published_price_book_in(tenant, client, base, "PB-USD", "USD", offering).await;
    Fixture {
        offering,
        price_book,
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
    let text = response.text().await.expect("body");
    assert_eq!(actual, status, "body: {text}");
    assert_eq!(content_type, "application/problem+json", "body: {text}");
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("problem body is not JSON ({e}): {text}"));
    assert_eq!(body["code"], code, "body: {text}");
    assert_eq!(body["status"], status.as_u16());
    for forbidden in ["panicked", "sqlx", "SELECT", "INSERT", "src/"] {
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
