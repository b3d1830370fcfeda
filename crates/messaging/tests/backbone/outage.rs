//! End to end through the catalog: a publish reaches its topic with key, headers and a
//! schema-valid body; with the broker unreachable for 30 s commands keep succeeding and the
//! backlog drains when it returns, losing nothing.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use test_support::{KafkaProcess, TcpProxy};

use crate::support::{Received, database, settings};

/// The catalog on a random port, relaying to `brokers`.
struct Catalog {
    base: String,
    client: reqwest::Client,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
}

async fn catalog(url: &str, brokers: &str) -> Catalog {
    let mut settings = settings(url);
    settings.kafka.brokers = Some(brokers.to_owned());
    let app = catalog::Application::build(settings).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.run_until(async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    Catalog {
        base,
        client: reqwest::Client::new(),
        stop,
        server,
    }
}

impl Catalog {
    async fn post(&self, path: &str, body: Value) -> Value {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(crate::support::issuer().token_as(
                "acme",
                "backbone-test",
                &["catalog-admin"],
                None,
            ))
            .header("X-Correlation-Id", "corr-e2e")
            .header(
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.text().await.unwrap()
        );
        response.json().await.unwrap()
    }

    /// Creates and publishes an offering; returns its id.
    async fn publish_offering(&self, code: &str) -> String {
        let spec = self
            .post(
                "/product-specifications",
                json!({"code": format!("{code}-SPEC"), "name": "Spec"}),
            )
            .await;
        let offering = self
            .post(
                "/product-offerings",
                json!({"code": code, "name": code, "productSpecificationId": spec["id"]}),
            )
            .await;
        let id = offering["id"].as_str().unwrap().to_owned();
        self.post(
            &format!("/product-offerings/{id}/submit-for-review"),
            json!({}),
        )
        .await;
        self.post(&format!("/product-offerings/{id}/publish"), json!({}))
            .await;
        id
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
    }
}

/// Creates the declared topics (idempotent).
async fn private_topics(brokers: &str) {
    let declared = messaging::topics::declared().unwrap();
    messaging::topics::ensure_topics(brokers, &declared)
        .await
        .unwrap();
}

async fn outbox_ids(pool: &sqlx::PgPool, topic: &str) -> HashSet<String> {
    sqlx::query_scalar::<_, String>("SELECT event_id::text FROM outbox_event WHERE topic = $1")
        .bind(topic)
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

async fn read_from(brokers: &str, topic: &str, want: usize) -> Vec<Received> {
    crate::support::read_from(brokers, topic, Duration::from_secs(60), |r| {
        r.iter()
            .map(Received::event_id)
            .collect::<HashSet<_>>()
            .len()
            >= want
    })
    .await
}

#[tokio::test]
async fn a_catalog_publish_arrives_with_key_headers_and_a_schema_valid_body() {
    let db = database().await;
    let brokers = crate::support::brokers();
    private_topics(&brokers).await;
    let app = catalog(db.settings.database.url.expose(), &brokers).await;
    let offering = app
        .publish_offering(
            &format!("E2E-{}", &uuid::Uuid::now_v7().simple().to_string()[20..]).to_uppercase(),
        )
        .await;
    assert!(crate::support::drained(&db.pool, Duration::from_secs(30)).await);
    app.stop().await;

    let (event_id, envelope): (String, Value) = sqlx::query_as(
        "SELECT event_id::text, envelope FROM outbox_event WHERE event_type = 'catalog.product-offering.published.v1'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let received = crate::support::read_from(
        &brokers,
        "catalog.product-offering.events.v1",
        Duration::from_secs(30),
        |r| r.iter().any(|m| m.event_id() == event_id),
    )
    .await;
    let message = received
        .iter()
        .find(|m| m.event_id() == event_id)
        .expect("the published event is on its topic");
    assert_eq!(message.key, offering, "keyed by product offering id");
    assert_eq!(
        message.headers["eventType"],
        "catalog.product-offering.published.v1"
    );
    assert_eq!(message.headers["eventVersion"], "1");
    assert_eq!(message.headers["correlationId"], "corr-e2e");
    assert_eq!(message.headers["causationId"], envelope["causationId"]);
    assert_eq!(
        message.headers["traceparent"],
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    );
    assert_eq!(message.body, envelope, "the body is the committed envelope");
    event_contracts::validate(&message.body).unwrap();
}

#[tokio::test]
async fn with_the_broker_unreachable_for_30_seconds_commands_succeed_and_the_backlog_drains() {
    let db = database().await;
    let listener_port = test_support::free_port();
    let proxy = TcpProxy::start(&format!("127.0.0.1:{listener_port}"));
    let _broker = KafkaProcess::start_advertising(listener_port, &proxy.address());
    let brokers = proxy.address();
    private_topics(&brokers).await;
    let app = catalog(db.settings.database.url.expose(), &brokers).await;

    app.publish_offering("BEFORE-OUTAGE").await;
    assert!(
        crate::support::drained(&db.pool, Duration::from_secs(30)).await,
        "flows before the outage"
    );

    proxy.block();
    let outage = Instant::now();
    let mut published_during = 0;
    while outage.elapsed() < Duration::from_secs(30) {
        app.publish_offering(&format!("DURING-{published_during}"))
            .await;
        published_during += 1;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let backlog: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox_pending")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(
        backlog > 0,
        "events wait in the outbox while the broker is unreachable"
    );
    assert!(
        published_during >= 20,
        "commands kept succeeding ({published_during})"
    );
    proxy.unblock();

    let drained = crate::support::drained(&db.pool, Duration::from_secs(90)).await;
    let pending: Vec<(Option<String>, i32)> = sqlx::query_as(
        "SELECT last_error, attempts FROM outbox_pending ORDER BY outbox_seq LIMIT 3",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert!(
        drained,
        "the backlog drained after the broker returned; still pending: {pending:?}"
    );
    app.stop().await;
    let dead: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox_dead_letter")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(dead, 0, "an outage is not poison");

    let expected = outbox_ids(&db.pool, "catalog.product-offering.events.v1").await;
    let received = read_from(
        &brokers,
        "catalog.product-offering.events.v1",
        expected.len(),
    )
    .await;
    let got: HashSet<String> = received.iter().map(Received::event_id).collect();
    assert_eq!(got, expected, "nothing lost");
    let mut per_key: HashMap<String, i64> = HashMap::new();
    let mut seen = HashSet::new();
    for message in &received {
        if seen.insert(message.event_id()) {
            let version = message.body["aggregateVersion"].as_i64().unwrap();
            let previous = per_key.insert(message.key.clone(), version).unwrap_or(0);
            assert!(version > previous, "order per key kept across the outage");
        }
    }
}
