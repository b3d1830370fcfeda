//! Workflow incidents on the timelines: an order's process instance stops at a gateway whose
//! conditions all fail (a CONDITION_ERROR incident in the real embedded engine); the ops service
//! reads the engine's incidents as its own client and shows the incident on the order's
//! timeline, once, however often it reads.

use std::path::Path;
use std::time::{Duration, Instant};

use common_kernel::settings::{DatabaseSettings, Secret};
use serde_json::{Value, json};
use test_support::TestDatabase;
use workflow_engine::EngineConfig;

use crate::harness::{OpsStack, issuer, operator};

fn engine_database(url: &str) -> DatabaseSettings {
    DatabaseSettings {
        url: Secret::new(url.to_owned()),
        max_connections: 8,
        acquire_timeout: Duration::from_secs(5),
    }
}

async fn engine() -> (workflow_engine::Application, TestDatabase) {
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/workflow");
    let db = TestDatabase::from_template("ops_workflow", &migrations, |url| async move {
        workflow_engine::startup::prepare_database(&engine_database(&url))
            .await
            .expect("migrate the engine's template");
    })
    .await;
    let issuer = issuer();
    let url = issuer.issuer_url();
    let auth = common_kernel::auth::AuthSettings::from_lookup(|name| match name {
        "OIDC_ISSUER" => Some(url.clone()),
        "OIDC_AUDIENCE" => Some(issuer.audience().to_owned()),
        _ => None,
    })
    .expect("engine auth settings");
    let listen = workflow_engine::startup::Listen::new("127.0.0.1", 0, 0, auth);
    let app = workflow_engine::Application::start(
        &engine_database(&db.url),
        &listen,
        EngineConfig::default(),
    )
    .await
    .expect("the engine starts");
    (app, db)
}

async fn incident_steps(stack: &OpsStack, order: &str) -> Vec<Value> {
    let timeline = stack
        .get(&format!("/timelines/orders/{order}"), &operator("acme"))
        .await;
    timeline["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "INCIDENT")
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_of_an_orders_process_is_on_its_timeline_once() {
    let (engine, _engine_db) = engine().await;
    let gateway = workflow_runtime::Gateway::connect("http://127.0.0.1", engine.port())
        .await
        .expect("the engine's gateway");
    let xml = include_bytes!("incident.bpmn").to_vec();
    gateway
        .client()
        .deploy_resource()
        .with_definition("incident.bpmn".to_owned(), xml)
        .send()
        .await
        .expect("deployed");
    gateway
        .client()
        .create_process_instance()
        .with_bpmn_process_id("ops-incident".to_owned())
        .with_variables(json!({"tenantId": "acme", "orderId": "o-incident", "amount": 5}))
        .expect("variables")
        .send()
        .await
        .expect("instance created");
    let rest = format!("http://127.0.0.1:{}", engine.rest_port());
    let stack = OpsStack::start(&[
        ("APP__OPS__WORKFLOW_REST_URL", rest.as_str()),
        ("APP__OPS__INCIDENT_POLL_SECONDS", "1"),
    ])
    .await;

    let started = Instant::now();
    let steps = loop {
        let steps = incident_steps(&stack, "o-incident").await;
        if !steps.is_empty() {
            break steps;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no incident on the timeline"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(steps[0]["toStatus"], "ACTIVE");
    assert_eq!(steps[0]["summary"]["errorType"], "CONDITION_ERROR");
    assert_eq!(steps[0]["summary"]["elementId"], "Route");
    // Later reads change nothing; another tenant does not see it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(incident_steps(&stack, "o-incident").await.len(), 1);
    let theirs = stack
        .get("/timelines/orders/o-incident", &operator("globex"))
        .await;
    assert_eq!(theirs["entries"], json!([]));
    stack.stop().await;
}
