//! The committed contract matches the handlers, declares every refusal the API answers under
//! its status, and is what the service serves (the service alone: its own migrated database,
//! tokens from the test issuer, no broker as in the contract gate).

#![expect(clippy::expect_used, reason = "test set-up fails loudly")]

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use common_kernel::db;
use common_kernel::settings::{DatabaseSettings, Secret, Settings};
use ops::http::error::REFUSALS;
use ops::http::openapi::openapi_json;
use ops::settings::OpsSettings;
use reqwest::StatusCode;
use serde_json::Value;
use test_support::{TestDatabase, TestIssuer};
use tokio::sync::oneshot;

#[test]
fn committed_contract_matches_the_handlers() {
    let generated = openapi_json();
    test_support::assert_committed_contract(
        "ops-api.json",
        &generated,
        "cargo test -p ops --test contract",
    );
    let document: Value = serde_json::from_str(&generated).unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/timelines/orders/{orderId}",
        "/timelines/quotes/{quoteId}",
        "/stuck-orders",
    ] {
        assert!(document["paths"][path].is_object(), "{path} documented");
    }
}

#[test]
fn every_refusal_is_declared_under_its_status() {
    let document: Value = serde_json::from_str(&openapi_json()).unwrap();
    test_support::assert_refusals_declared(&document, REFUSALS);
}

fn issuer() -> Arc<TestIssuer> {
    static ISSUER: OnceLock<Arc<TestIssuer>> = OnceLock::new();
    Arc::clone(ISSUER.get_or_init(|| Arc::new(TestIssuer::start())))
}

async fn database() -> TestDatabase {
    let platform = Path::new(messaging::schema::MIGRATIONS_DIR);
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/ops");
    TestDatabase::from_template_of("ops", &[platform, &migrations], |url| async move {
        let settings = DatabaseSettings {
            url: Secret::new(url),
            max_connections: 2,
            acquire_timeout: Duration::from_secs(10),
        };
        let pool = db::connect(&settings, ops::SCHEMA).await.expect("pool");
        messaging::schema::migrate(&pool, ops::SCHEMA, &ops::MIGRATOR)
            .await
            .expect("migrate template");
        pool.close().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_serves_its_contract() {
    let database = database().await;
    let issuer = issuer();
    let mut env: HashMap<String, String> = [
        ("DATABASE_URL", database.url.clone()),
        ("REDIS_URL", test_support::redis_url()),
        ("KAFKA_BROKERS", "disabled".to_owned()),
        (
            "APP__AUDIT__SIGNING_KEY",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_owned(),
        ),
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
        Settings::from_lookup(ops::SERVICE, 0, |name| env.get(name).cloned()).expect("settings");
    let own = OpsSettings::from_lookup(|name| env.get(name).cloned()).expect("own settings");
    let app = ops::Application::build(settings, own)
        .await
        .expect("ops starts");
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
    assert_eq!(ready["service"], "ops");
    let contract = client
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(contract, openapi_json());

    let anonymous = client
        .get(format!("{base}/stuck-orders"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let sales = issuer.token_as("demo", "sales1", &["sales-agent"], None);
    let refused = client
        .get(format!("{base}/stuck-orders"))
        .bearer_auth(&sales)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(refused["code"], "FORBIDDEN_ACTION");
    for (user, role) in [("ops1", "operator"), ("auditor1", "auditor")] {
        let token = issuer.token_as("demo", user, &[role], None);
        let page: Value = client
            .get(format!("{base}/stuck-orders"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page["items"], Value::Array(Vec::new()), "{user}");
    }
    let operator = issuer.token_as("demo", "ops1", &["operator"], None);
    let bad = client
        .get(format!(
            "{base}/timelines/orders/o-1?cursor=nonsense&limit=0"
        ))
        .bearer_auth(&operator)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    drop(stop);
    served.await.unwrap().unwrap();
}
