//! The committed contract matches the handlers, declares every refusal the API answers under
//! its status, and is what the service serves (the service alone: its own migrated database,
//! tokens from the test issuer, Kafka and the workflow engine off as in the contract gate, so
//! an order stays ACKNOWLEDGED).

#![expect(clippy::expect_used, reason = "test set-up fails loudly")]

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use common_kernel::db;
use common_kernel::settings::{DatabaseSettings, Secret, Settings};
use order::http::error::REFUSALS;
use order::http::openapi::openapi_json;
use order::settings::OrderSettings;
use reqwest::StatusCode;
use serde_json::{Value, json};
use test_support::{TestDatabase, TestIssuer};
use tokio::sync::oneshot;
use uuid::Uuid;

#[test]
fn committed_contract_matches_the_handlers() {
    let generated = openapi_json();
    test_support::assert_committed_contract(
        "order-api.json",
        &generated,
        "cargo test -p order --test contract",
    );
    let document: Value = serde_json::from_str(&generated).unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/orders",
        "/orders/{id}",
        "/orders/{id}/plan",
        "/orders/{id}/cancellations",
        "/orders/{id}/cancellations/preview",
        "/orders/{id}/hold",
        "/orders/{id}/resume",
        "/orders/{id}/tasks/{taskId}/retry",
        "/fallouts",
        "/fallouts/summary",
        "/fallouts/{id}/actions",
        "/fallouts/bulk-actions",
        "/assets",
        "/assets/{id}",
        "/subscriptions",
    ] {
        assert!(document["paths"][path].is_object(), "{path} documented");
    }
}

#[test]
fn every_refusal_is_declared_under_its_status() {
    let document: Value = serde_json::from_str(&openapi_json()).unwrap();
    let mut missing = Vec::new();
    for (status, code) in REFUSALS {
        let declared = document["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .filter_map(|operation| {
                operation["responses"][status.to_string()]["description"].as_str()
            })
            .any(|description| description.contains(&format!("`{code}`")));
        if !declared {
            missing.push(format!("{status} {code}"));
        }
    }
    assert!(
        missing.is_empty(),
        "refusals the contract does not declare: {missing:?}"
    );
}

fn issuer() -> Arc<TestIssuer> {
    static ISSUER: OnceLock<Arc<TestIssuer>> = OnceLock::new();
    Arc::clone(ISSUER.get_or_init(|| Arc::new(TestIssuer::start())))
}

async fn database() -> TestDatabase {
    let platform = Path::new(messaging::schema::MIGRATIONS_DIR);
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/order");
    TestDatabase::from_template_of("order", &[platform, &migrations], |url| async move {
        let settings = DatabaseSettings {
            url: Secret::new(url),
            max_connections: 2,
            acquire_timeout: Duration::from_secs(10),
        };
        let pool = db::connect(&settings, order::SCHEMA).await.expect("pool");
        messaging::schema::migrate(&pool, order::SCHEMA, &order::MIGRATOR)
            .await
            .expect("migrate template");
        pool.close().await;
    })
    .await
}

/// `GET`/`POST` with a bearer token (and an Idempotency-Key when given); status and JSON body.
async fn call(
    mut request: reqwest::RequestBuilder,
    token: Option<&str>,
    idempotency_key: Option<&str>,
) -> (StatusCode, Value) {
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(key) = idempotency_key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_serves_its_contract() {
    let database = database().await;
    let issuer = issuer();
    let mut env: HashMap<String, String> = [
        ("DATABASE_URL", database.url.clone()),
        ("REDIS_URL", test_support::redis_url()),
        ("KAFKA_BROKERS", "disabled".to_owned()),
        ("ZEEBE_ADDRESS", "disabled".to_owned()),
        ("OIDC_ISSUER", issuer.issuer_url()),
        ("OIDC_AUDIENCE", issuer.audience().to_owned()),
        ("APP__SERVER__PORT", "0".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    env.extend(
        test_support::generous_rate_limits()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v)),
    );
    let settings =
        Settings::from_lookup(order::SERVICE, 0, |name| env.get(name).cloned()).expect("settings");
    let own = OrderSettings::from_lookup(|name| env.get(name).cloned()).expect("own settings");
    let app = order::Application::build(settings, own)
        .await
        .expect("order starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = oneshot::channel::<()>();
    let served = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();

    let ready = client
        .get(format!("{base}/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["service"], "order");
    let contract = client
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(contract, openapi_json());

    let (status, _) = call(client.get(format!("{base}/orders")), None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let catalog_admin = issuer.token_as("demo", "catalog1", &["catalog-admin"], None);
    let (status, refused) = call(
        client.get(format!("{base}/orders")),
        Some(&catalog_admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(refused["code"], "FORBIDDEN_ACTION");

    let sales = issuer.token_as("demo", "sales1", &["sales-agent"], None);
    let operator = issuer.token_as("demo", "ops1", &["operator"], None);
    let (status, page) = call(client.get(format!("{base}/orders")), Some(&operator), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["orders"], json!([]));

    let direct = json!({
        "customerId": "CUST-CONTRACT",
        "currency": "USD",
        "items": [{"lineRef": "1", "action": "ADD", "offeringId": Uuid::now_v7(),
                   "offeringVersion": 1, "characteristics": {"bandwidthMbps": 500},
                   "recurringCharge": "149.00"}],
        "captureEvidence": {"channelReference": "contract-test"}
    });
    let (status, refused) = call(
        client.post(format!("{base}/orders")).json(&direct),
        Some(&sales),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["code"], "IDEMPOTENCY_KEY_REQUIRED");
    let (status, order) = call(
        client.post(format!("{base}/orders")).json(&direct),
        Some(&sales),
        Some("contract-order-1"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(order["status"], "ACKNOWLEDGED", "{order}");
    assert_eq!(order["origin"], "DIRECT");
    let id = order["id"].as_str().expect("order id").to_owned();

    let (status, seen) = call(
        client.get(format!("{base}/orders/{id}")),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(seen["id"], id.as_str());
    let (status, plan) = call(
        client.get(format!("{base}/orders/{id}/plan")),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(
        plan["tasks"],
        json!([]),
        "not decomposed without the engine"
    );
    let (status, missing) = call(
        client.get(format!("{base}/orders/{}", Uuid::now_v7())),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    assert_eq!(missing["code"], "ORDER_NOT_FOUND");

    // Cancellation before fulfilment: previewed, then done at once; nothing to compensate.
    let (status, preview) = call(
        client
            .post(format!("{base}/orders/{id}/cancellations/preview"))
            .json(&json!({})),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["wholeOrder"], true);
    assert_eq!(preview["items"][0]["outcome"], "CANCELLED");
    let unchanged = call(
        client.get(format!("{base}/orders/{id}")),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(
        unchanged.1["status"], "ACKNOWLEDGED",
        "the preview changed nothing"
    );
    let cancel = json!({"reason": "customer withdrew before fulfilment"});
    let (status, refused) = call(
        client
            .post(format!("{base}/orders/{id}/cancellations"))
            .json(&cancel),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["code"], "IDEMPOTENCY_KEY_REQUIRED");
    let (status, cancellation) = call(
        client
            .post(format!("{base}/orders/{id}/cancellations"))
            .json(&cancel),
        Some(&operator),
        Some("contract-cancel-1"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{cancellation}");
    assert_eq!(cancellation["state"], "DONE");
    let (status, again) = call(
        client
            .post(format!("{base}/orders/{id}/cancellations"))
            .json(&cancel),
        Some(&operator),
        Some("contract-cancel-1"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "the same key replays: {again}");
    assert_eq!(again["cancellationId"], cancellation["cancellationId"]);
    let (status, refused) = call(
        client
            .post(format!("{base}/orders/{id}/cancellations"))
            .json(&cancel),
        Some(&operator),
        Some("contract-cancel-2"),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["code"], "ORDER_NOT_CANCELLABLE");
    let (_, cancelled) = call(
        client.get(format!("{base}/orders/{id}")),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(cancelled["status"], "CANCELLED", "{cancelled}");
    let (status, refused) = call(
        client
            .post(format!("{base}/orders/{id}/hold"))
            .json(&json!({"reason": "check"})),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["code"], "ILLEGAL_TRANSITION");
    let (status, refused) = call(
        client
            .post(format!("{base}/orders/{id}/tasks/{}/retry", Uuid::now_v7()))
            .json(&json!({"reason": "again"})),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["code"], "IDEMPOTENCY_KEY_REQUIRED");

    // The workbench: an empty queue, a missing record, reason and evidence required.
    let (status, queue) = call(
        client.get(format!("{base}/fallouts?status=OPEN")),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    assert_eq!(queue["items"], json!([]));
    let (status, summary) = call(
        client.get(format!("{base}/fallouts/summary")),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["total"], 0);
    let (status, refused) = call(
        client.get(format!("{base}/fallouts?category=NOPE")),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let action =
        json!({"action": "RETRY", "reason": "downstream fixed", "evidence": {"ticket": "INC-1"}});
    let (status, missing) = call(
        client
            .post(format!("{base}/fallouts/{}/actions", Uuid::now_v7()))
            .json(&action),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    assert_eq!(missing["code"], "FALLOUT_NOT_FOUND");
    let (status, refused) = call(
        client
            .post(format!("{base}/fallouts/{}/actions", Uuid::now_v7()))
            .json(&json!({"action": "RETRY", "reason": "", "evidence": {}})),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let bulk = json!({"action": "RETRY", "reason": "downstream fixed", "evidence": {"ticket": "INC-1"},
                      "filter": {"category": "RETRIES_EXHAUSTED"}});
    let (status, refused) = call(
        client
            .post(format!("{base}/fallouts/bulk-actions"))
            .json(&bulk),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    let (status, result) = call(
        client
            .post(format!("{base}/fallouts/bulk-actions"))
            .json(&bulk),
        Some(&operator),
        Some("contract-bulk-1"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["results"], json!([]));
    let (status, refused) = call(
        client
            .post(format!("{base}/fallouts/bulk-actions"))
            .json(&bulk),
        Some(&sales),
        Some("contract-bulk-2"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");

    for path in ["assets", "subscriptions"] {
        let (status, list) = call(
            client.get(format!("{base}/{path}?customerId=CUST-CONTRACT")),
            Some(&operator),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{path}: {list}");
        assert_eq!(list[path], json!([]), "{path}");
    }
    let (status, missing) = call(
        client.get(format!("{base}/assets/{}", Uuid::now_v7())),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    assert_eq!(missing["code"], "PRODUCT_INSTANCE_NOT_FOUND");

    drop(stop);
    served.await.unwrap().unwrap();
}
