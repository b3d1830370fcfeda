//! One audit service on a fresh database and a private broker, the evidence it consumes
//! published straight to `audit.evidence.events.v1` in the services' envelope, and the owner's
//! pool a test uses to play the superuser who tampers with the log.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use common_kernel::audit::AUDIT_TOPIC;
use common_kernel::settings::Settings;
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::{KafkaProcess, TestDatabase, TestIssuer};
use tokio::sync::oneshot;
use uuid::Uuid;

/// The active signing key of these tests (local only).
pub const SEED: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// The issuer of this test process's tokens.
pub fn issuer() -> Arc<TestIssuer> {
    static ISSUER: OnceLock<Arc<TestIssuer>> = OnceLock::new();
    Arc::clone(ISSUER.get_or_init(|| Arc::new(TestIssuer::start())))
}

/// An auditor's token in `tenant`.
pub fn auditor(tenant: &str) -> String {
    issuer().token_as(tenant, "auditor1", &["auditor"], None)
}

/// Settings of a service in these tests.
pub fn settings(
    service: &'static str,
    url: &str,
    brokers: &str,
    extra: &[(&str, String)],
) -> Settings {
    let mut vars: HashMap<String, String> = [
        ("DATABASE_URL", url.to_owned()),
        ("REDIS_URL", test_support::redis_url()),
        ("APP__SERVER__PORT", "0".to_owned()),
        ("APP__DATABASE__MAX_CONNECTIONS", "6".to_owned()),
        ("OIDC_ISSUER", issuer().issuer_url()),
        ("OIDC_AUDIENCE", issuer().audience().to_owned()),
        ("KAFKA_BROKERS", brokers.to_owned()),
        ("APP__OUTBOX__POLL_INTERVAL_MS", "20".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    vars.extend(
        test_support::generous_rate_limits()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v)),
    );
    vars.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    Settings::from_lookup(service, 0, |name| vars.get(name).cloned()).expect("settings")
}

/// A fresh database migrated with the platform tables and `service`'s migrations.
pub async fn database(
    service: &'static str,
    schema: &'static str,
    migrator: &'static sqlx::migrate::Migrator,
) -> TestDatabase {
    let platform = Path::new(messaging::schema::MIGRATIONS_DIR);
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations")
        .join(service);
    TestDatabase::from_template_of(service, &[platform, &migrations], |url| async move {
        let settings = settings(service, &url, "disabled", &[]);
        let pool = common_kernel::db::connect(&settings.database, schema)
            .await
            .expect("connect template");
        messaging::schema::migrate(&pool, schema, migrator)
            .await
            .expect("migrate template");
        pool.close().await;
    })
    .await
}

/// A service running in this process until stopped.
pub struct Running {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

/// Serves an `Application` of any service in this process.
#[macro_export]
macro_rules! serve {
    ($app:expr) => {{
        let app = $app;
        let port = app.port();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            app.run_until(async move {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        $crate::harness::Running::new(format!("http://127.0.0.1:{port}"), tx, server)
    }};
}

impl Running {
    /// A served application (see [`serve!`]).
    pub fn new(
        base: String,
        shutdown: oneshot::Sender<()>,
        server: tokio::task::JoinHandle<()>,
    ) -> Self {
        Self {
            base,
            shutdown: Some(shutdown),
            server: Some(server),
        }
    }

    /// Stops after in-flight work.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(20), server).await;
        }
    }
}

/// The audit service, its database and its broker.
pub struct AuditStack {
    /// The private broker.
    _kafka: KafkaProcess,
    /// Its bootstrap address.
    pub brokers: String,
    /// The audit database.
    pub db: TestDatabase,
    /// The schema owner's pool (the superuser of these tests).
    pub owner: PgPool,
    /// The service, while it runs.
    pub audit: Option<Running>,
    /// Plain client.
    pub http: reqwest::Client,
    producer: FutureProducer,
}

impl AuditStack {
    /// Broker, topics, database and a running audit service.
    pub async fn start() -> Self {
        let kafka = KafkaProcess::start();
        let brokers = kafka.brokers();
        let topics = messaging::topics::declared().expect("contracts/topics.json");
        messaging::topics::ensure_topics(&brokers, &topics)
            .await
            .expect("topics on the private broker");
        let db = database(audit::SERVICE, audit::SCHEMA, &audit::MIGRATOR).await;
        let owner = common_kernel::db::connect(
            &settings(audit::SERVICE, &db.url, "disabled", &[]).database,
            audit::SCHEMA,
        )
        .await
        .expect("owner pool");
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .set("message.timeout.ms", "10000")
            .create()
            .expect("producer");
        let mut stack = Self {
            _kafka: kafka,
            brokers,
            db,
            owner,
            audit: None,
            http: reqwest::Client::new(),
            producer,
        };
        stack.start_audit().await;
        stack
    }

    /// Starts (or restarts) the audit service.
    pub async fn start_audit(&mut self) {
        let extra = [
            ("APP__AUDIT__SIGNING_KEY", SEED.to_owned()),
            ("APP__AUDIT__CHECKPOINT_INTERVAL_MS", "300".to_owned()),
        ];
        let lookup: HashMap<&str, String> = extra.iter().cloned().collect();
        let app = audit::Application::build(
            settings(audit::SERVICE, &self.db.url, &self.brokers, &extra),
            audit::settings::AuditSettings::from_lookup(|name| lookup.get(name).cloned())
                .expect("audit settings"),
        )
        .await
        .expect("audit starts");
        self.audit = Some(crate::serve!(app));
    }

    /// Stops the audit service (its consumer commits and leaves the group).
    pub async fn stop_audit(&mut self) {
        if let Some(running) = self.audit.take() {
            running.stop().await;
        }
    }

    /// The running service's base URL.
    pub fn base(&self) -> &str {
        &self.audit.as_ref().expect("audit runs").base
    }

    /// Publishes envelopes as an outbox relay would (keyed by business transaction).
    pub async fn publish(&self, envelopes: &[Value]) {
        let sends = envelopes.iter().map(|envelope| {
            let payload = envelope.to_string();
            let key = envelope["partitionKey"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let producer = self.producer.clone();
            async move {
                producer
                    .send(
                        FutureRecord::to(AUDIT_TOPIC).payload(&payload).key(&key),
                        Duration::from_secs(10),
                    )
                    .await
                    .map_err(|(error, _)| error)
                    .expect("published");
            }
        });
        futures::future::join_all(sends).await;
    }

    /// Entries of `tenant`'s log.
    pub async fn entries(&self, tenant: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM evidence_entry WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_one(&self.owner)
            .await
            .expect("count")
    }

    /// Waits until `tenant`'s log holds `count` entries.
    pub async fn wait_entries(&self, tenant: &str, count: i64, within: Duration) {
        let started = Instant::now();
        loop {
            let now = self.entries(tenant).await;
            if now == count {
                return;
            }
            assert!(
                now < count,
                "{tenant} holds {now} entries, more than {count}"
            );
            assert!(
                started.elapsed() < within,
                "{tenant} holds {now} of {count} entries after {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `GET` as `token`: status and JSON body.
    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base()))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// `POST` with a JSON body as `token`.
    pub async fn post(&self, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base()))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// What one piece of evidence says.
#[derive(Debug, Clone)]
pub struct Said {
    /// Tenant.
    pub tenant: String,
    /// Resource type as the service spells it.
    pub resource_type: &'static str,
    /// Resource id.
    pub resource_id: String,
    /// Resource version.
    pub version: i64,
    /// Actor.
    pub actor: &'static str,
    /// What happened.
    pub event_type: &'static str,
    /// Why.
    pub reason: Option<String>,
    /// Before.
    pub before: Value,
    /// After.
    pub after: Value,
    /// Business transaction.
    pub transaction: String,
}

impl Said {
    /// A plain decision on a quote.
    pub fn quote(tenant: &str, quote: &str, version: i64) -> Self {
        Self {
            tenant: tenant.to_owned(),
            resource_type: "Quote",
            resource_id: quote.to_owned(),
            version,
            actor: "sales1",
            event_type: "cpq.quote.priced",
            reason: Some(format!("step {version}")),
            before: json!({"status": "DRAFT", "total": {"amount": format!("{}.00", 100 + version), "currency": "EUR"}}),
            after: json!({"status": "PRICED", "total": {"amount": format!("{}.00", 90 + version), "currency": "EUR"}, "ratio": 0.5}),
            transaction: format!("bt-{quote}"),
        }
    }

    /// The envelope of `audit.evidence-submitted.v1` a service's outbox publishes.
    pub fn envelope(&self) -> Value {
        let id = Uuid::now_v7().to_string();
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        json!({
            "eventId": id,
            "eventType": "audit.evidence-submitted.v1",
            "eventVersion": 1,
            "occurredAt": now,
            "tenantId": self.tenant,
            "aggregateType": self.resource_type,
            "aggregateId": self.resource_id,
            "aggregateVersion": self.version,
            "correlationId": format!("corr-{}-{}", self.resource_id, self.version),
            "causationId": Uuid::now_v7().to_string(),
            "businessTransactionId": self.transaction,
            "actorId": self.actor,
            "partitionKey": self.transaction,
            "payload": {
                "auditEventId": id,
                "eventType": self.event_type,
                "occurredAt": now,
                "tenantId": self.tenant,
                "actor": {"actorId": self.actor, "actorType": "HUMAN_AGENT"},
                "client": "cpq-portal",
                "channel": "API",
                "resource": {"resourceType": self.resource_type, "resourceId": self.resource_id, "resourceVersion": self.version},
                "businessReason": self.reason,
                "before": self.before,
                "after": self.after,
                "policy": {"policyId": "discount-approval", "policyVersion": "7"},
                "correlationId": format!("corr-{}-{}", self.resource_id, self.version),
                "causationId": Uuid::now_v7().to_string(),
                "businessTransactionId": self.transaction,
            }
        })
    }
}

/// `count` envelopes about `quote` in `tenant`, versions 1..=count.
pub fn quote_evidence(tenant: &str, quote: &str, count: i64) -> Vec<Value> {
    (1..=count)
        .map(|version| Said::quote(tenant, quote, version).envelope())
        .collect()
}

/// A tenant of its own for one test.
pub fn tenant(name: &str) -> String {
    format!("{name}-{}", &Uuid::now_v7().simple().to_string()[20..])
}
