//! One ops service on a fresh database and a private broker, and the events it projects.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common_kernel::settings::Settings;
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::{KafkaProcess, TestDatabase, TestIssuer};
use tokio::sync::oneshot;
use uuid::Uuid;

/// The issuer of this test process's tokens.
pub fn issuer() -> Arc<TestIssuer> {
    static ISSUER: OnceLock<Arc<TestIssuer>> = OnceLock::new();
    Arc::clone(ISSUER.get_or_init(|| Arc::new(TestIssuer::start())))
}

/// An operator's token in `tenant`.
pub fn operator(tenant: &str) -> String {
    issuer().token_as(tenant, "ops1", &["operator"], None)
}

fn settings(url: &str, brokers: &str) -> Settings {
    let mut vars: HashMap<String, String> = [
        ("DATABASE_URL", url.to_owned()),
        ("REDIS_URL", test_support::redis_url()),
        ("APP__SERVER__PORT", "0".to_owned()),
        ("APP__DATABASE__MAX_CONNECTIONS", "6".to_owned()),
        ("OIDC_ISSUER", issuer().issuer_url()),
        ("OIDC_AUDIENCE", issuer().audience().to_owned()),
        ("KAFKA_BROKERS", brokers.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    // Its own client (the engine's incidents are read with its token).
    vars.extend(
        issuer()
            .client_env("ops-service")
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v)),
    );
    vars.extend(
        test_support::generous_rate_limits()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v)),
    );
    Settings::from_lookup(ops::SERVICE, 0, |name| vars.get(name).cloned()).expect("settings")
}

/// The ops service, its database and broker.
pub struct OpsStack {
    _kafka: KafkaProcess,
    _db: TestDatabase,
    /// The schema owner's pool.
    pub owner: PgPool,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    http: reqwest::Client,
    producer: FutureProducer,
    stop: Option<oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<()>>,
}

impl OpsStack {
    /// Broker, topics, database and a running ops service with these own settings.
    pub async fn start(own: &[(&str, &str)]) -> Self {
        Self::start_with_backlog(own, &[]).await
    }

    /// [`OpsStack::start`], with `backlog` published before the service starts (a bench's
    /// events waiting for the projector).
    pub async fn start_with_backlog(own: &[(&str, &str)], backlog: &[(&str, Value)]) -> Self {
        let kafka = KafkaProcess::start();
        let brokers = kafka.brokers();
        let topics = messaging::topics::declared().expect("contracts/topics.json");
        messaging::topics::ensure_topics(&brokers, &topics)
            .await
            .expect("topics");
        let platform = Path::new(messaging::schema::MIGRATIONS_DIR);
        let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/ops");
        let db =
            TestDatabase::from_template_of("ops", &[platform, &migrations], |url| async move {
                let pool =
                    common_kernel::db::connect(&settings(&url, "disabled").database, ops::SCHEMA)
                        .await
                        .expect("connect template");
                messaging::schema::migrate(&pool, ops::SCHEMA, &ops::MIGRATOR)
                    .await
                    .expect("migrate template");
                pool.close().await;
            })
            .await;
        let owner =
            common_kernel::db::connect(&settings(&db.url, "disabled").database, ops::SCHEMA)
                .await
                .expect("owner pool");
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .set("linger.ms", "5")
            .set("enable.idempotence", "true")
            .create()
            .expect("producer");
        publish_all(&producer, backlog).await;
        let own: HashMap<&str, &str> = own.iter().copied().collect();
        let app = ops::Application::build(
            settings(&db.url, &brokers),
            ops::settings::OpsSettings::from_lookup(|n| own.get(n).map(|v| (*v).to_owned()))
                .expect("ops settings"),
        )
        .await
        .expect("ops starts");
        let base = format!("http://127.0.0.1:{}", app.port());
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(async move {
            app.run_until(async move {
                let _ = stopped.await;
            })
            .await
            .expect("serve");
        });
        Self {
            _kafka: kafka,
            _db: db,
            owner,
            base,
            http: reqwest::Client::new(),
            producer,
            stop: Some(stop),
            served: Some(served),
        }
    }

    /// Publishes `(topic, envelope)` pairs in order, keyed as the services key them.
    pub async fn publish(&self, events: &[(&str, Value)]) {
        publish_all(&self.producer, events).await;
    }

    /// Waits until `sql` (one bigint) answers `count`.
    pub async fn wait_count(&self, sql: &str, count: i64) {
        let started = Instant::now();
        loop {
            let now: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_one(&self.owner)
                .await
                .expect("count");
            if now == count {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(180),
                "{sql}: {now}, not {count}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `GET` as `token`.
    pub async fn get(&self, path: &str, token: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.expect("JSON")
    }

    /// `POST` a JSON body as `token`: the status and the answer.
    pub async fn post(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Stops the service.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(served) = self.served.take() {
            let _ = tokio::time::timeout(Duration::from_secs(20), served).await;
        }
    }
}

/// Publishes in order (each key's order kept), up to 500 sends in flight.
async fn publish_all(producer: &FutureProducer, events: &[(&str, Value)]) {
    for chunk in events.chunks(500) {
        let payloads: Vec<(String, String)> = chunk
            .iter()
            .map(|(_, envelope)| {
                (
                    envelope["partitionKey"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    envelope.to_string(),
                )
            })
            .collect();
        let sends = chunk
            .iter()
            .zip(&payloads)
            .map(|((topic, _), (key, payload))| {
                producer.send(
                    FutureRecord::to(topic).payload(payload).key(key),
                    Duration::from_secs(10),
                )
            });
        for sent in futures::future::join_all(sends).await {
            sent.map_err(|(e, _)| e).expect("published");
        }
    }
}

/// An envelope as a service's outbox publishes it.
pub fn envelope(
    tenant: &str,
    event_type: &str,
    aggregate: (&str, &str, i64),
    key: &str,
    at: DateTime<Utc>,
    actor: &str,
    payload: Value,
) -> Value {
    json!({
        "eventId": Uuid::now_v7().to_string(),
        "eventType": event_type,
        "eventVersion": 1,
        "occurredAt": at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "tenantId": tenant,
        "aggregateType": aggregate.0,
        "aggregateId": aggregate.1,
        "aggregateVersion": aggregate.2,
        "correlationId": format!("corr-{key}"),
        "causationId": Uuid::now_v7().to_string(),
        "businessTransactionId": format!("bt-{key}"),
        "actorId": actor,
        "partitionKey": key,
        "payload": payload,
    })
}

/// An order's status change.
pub fn order_moved(
    tenant: &str,
    order: &str,
    version: i64,
    from: &str,
    to: &str,
    at: DateTime<Utc>,
) -> (&'static str, Value) {
    (
        "oms.order.events.v1",
        envelope(
            tenant,
            "oms.order.status-changed.v1",
            ("Order", order, version),
            order,
            at,
            "order-service",
            json!({
            "orderId": order, "customerId": "CUST-1", "origin": "QUOTE", "quoteId": "q-1",
            "fromStatus": from, "toStatus": to, "taskCount": 2, "items": []}),
        ),
    )
}

/// A task's status change.
pub fn task_moved(
    tenant: &str,
    order: &str,
    task: &str,
    to: &str,
    at: DateTime<Utc>,
) -> (&'static str, Value) {
    (
        "oms.fulfillment-task.events.v1",
        envelope(
            tenant,
            "oms.fulfillment-task.status-changed.v1",
            ("FulfillmentTask", task, 1),
            order,
            at,
            "order-service",
            json!({
            "orderId": order, "orderItemId": "i-1", "taskId": task, "taskType": "ACTIVATE_SERVICE",
            "operation": "PROVISIONING_ACTIVATE", "fromStatus": "READY", "toStatus": to}),
        ),
    )
}
