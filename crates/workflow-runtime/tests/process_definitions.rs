//! The platform's own process definitions (`workflow/bpmn/`) deployed with `deploy_directory`
//! (twice, as every restart does), and `order-fulfillment` driven end to end as the order
//! service will drive it: jobs executed by runtime workers whose in-test handlers stand in for
//! the service's commands, outcomes read from the operator views (`/v1/ops`). The variables, job
//! types and error codes used here are the contract written down in `workflow/README.md`.
//! `quote-approval` runs with the approval service's real workers in
//! `services/approval/tests/scenarios/`.
//!
//! Always the embedded engine on a fresh database: the operator views exist only there
//! (Camunda 8 shows the same through Operate), so `ZEEBE_ADDRESS` does not redirect this suite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common_kernel::settings::{DatabaseSettings, Secret};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use test_support::TestDatabase;
use tokio::time::Instant;
use workflow_engine::{Application, EngineConfig};
use workflow_runtime::{
    DeployedProcess, Gateway, JobContext, JobError, Registry, RetryPolicy, WorkerConfig,
    WorkerGroup, deploy_directory, handler,
};

const WAIT: Duration = Duration::from_secs(15);
const QUOTE_APPROVAL: &str = "quote-approval";
const ORDER_FULFILLMENT: &str = "order-fulfillment";

fn bpmn_dir() -> PathBuf {
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
struct Platform {
    gateway: Gateway,
    http: reqwest::Client,
    rest: String,
    deployed: Vec<DeployedProcess>,
    _engine: Application,
    _db: TestDatabase,
}

impl Platform {
    async fn start() -> Self {
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

    async fn create(&self, process_id: &str, variables: Value) -> i64 {
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

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.rest))
            .bearer_auth(approver_token())
            .send()
            .await
            .expect("REST request");
        read(response).await
    }

    async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.rest))
            .bearer_auth(approver_token())
            .json(body)
            .send()
            .await
            .expect("REST request");
        read(response).await
    }

    /// The operator view of one instance: state, where its tokens wait, variables, incidents.
    async fn instance(&self, key: i64) -> Value {
        let (status, body) = self.get(&format!("/v1/ops/process-instances/{key}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Waits until the operator view says the instance has ended; returns that view.
    async fn ended(&self, key: i64) -> Value {
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
}

/// The issuer of this test process's tokens.
fn issuer() -> std::sync::Arc<test_support::TestIssuer> {
    static ISSUER: std::sync::OnceLock<std::sync::Arc<test_support::TestIssuer>> =
        std::sync::OnceLock::new();
    std::sync::Arc::clone(
        ISSUER.get_or_init(|| std::sync::Arc::new(test_support::TestIssuer::start())),
    )
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

/// An approver who also operates: the REST calls these scenarios make.
fn approver_token() -> String {
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
fn variables(view: &Value) -> Map<String, Value> {
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

/// One job a stand-in handler ran: its type, its instance and what it was given.
#[derive(Debug, Clone)]
struct Call {
    job_type: String,
    instance: i64,
    seen: Value,
}

/// Every job the stand-in services ran, in completion order.
#[derive(Debug, Clone, Default)]
struct Journal(Arc<Mutex<Vec<Call>>>);

impl Journal {
    fn record(&self, ctx: &JobContext, seen: Value) {
        self.0.lock().unwrap().push(Call {
            job_type: ctx.job_type.clone(),
            instance: ctx.process_instance_key,
            seen,
        });
    }

    fn job_types(&self, instance: i64) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.instance == instance)
            .map(|c| c.job_type.clone())
            .collect()
    }

    /// What the last `job_type` job of `instance` was given.
    fn seen(&self, instance: i64, job_type: &str) -> Value {
        self.0
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|c| c.instance == instance && c.job_type == job_type)
            .map(|c| c.seen.clone())
            .unwrap_or_else(|| panic!("no {job_type} job ran for {instance}"))
    }
}

/// Short long polls and a fast back-off keep the scenarios quick; `retries` is the task's
/// `zeebe:taskDefinition retries`, which the back-off formula counts attempts from.
fn worker(job_type: &str, retries: i32) -> WorkerConfig {
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

async fn stop(workers: WorkerGroup) {
    for report in workers.shutdown(Duration::from_secs(5)).await {
        assert!(report.is_clean(), "{report:?}");
        assert_eq!(report.stats.command_errors, 0, "{report:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_definitions_deploy_from_the_directory_and_a_second_deployment_changes_nothing() {
    let platform = Platform::start().await;
    let names: Vec<(&str, &str, i32)> = platform
        .deployed
        .iter()
        .map(|p| {
            (
                p.bpmn_process_id.as_str(),
                p.resource_name.as_str(),
                p.version,
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            (ORDER_FULFILLMENT, "order-fulfillment.bpmn", 1),
            (QUOTE_APPROVAL, "quote-approval.bpmn", 1),
        ]
    );
    // A third start (say, the approval service after the order service) still finds version 1.
    let third = deploy_directory(platform.gateway.client(), bpmn_dir())
        .await
        .expect("deploys");
    assert_eq!(third, platform.deployed);
    let (status, page) = platform
        .get("/v1/ops/process-instances?bpmnProcessId=quote-approval")
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["totalCount"], json!(0), "deploying starts nothing");
}

// ---------------------------------------------------------------------------------------------
// Order fulfilment: the order service's job types, as in-test stand-ins.

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderInput {
    order_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FalloutInput {
    order_id: String,
    fallout_step: String,
    fallout_code: String,
    fallout_reason: Option<String>,
}

/// Failures the stand-in order service is told to produce.
#[derive(Debug, Clone, Default)]
struct Faults {
    /// `order.reserve-inventory` answers the business error INVENTORY_UNAVAILABLE.
    out_of_stock: bool,
    /// `order.trigger-billing` fails technically while set.
    billing_down: Arc<AtomicBool>,
}

/// One stand-in step: records the job, then answers `output` (with the order id filled in).
fn order_step(
    journal: &Journal,
    output: impl Fn(&str) -> Value + Send + Sync + 'static,
) -> impl workflow_runtime::JobHandler {
    let journal = journal.clone();
    handler(move |ctx: JobContext, input: OrderInput| {
        journal.record(&ctx, json!({"orderId": input.order_id}));
        let output = output(&input.order_id);
        async move { Ok::<_, JobError>(output) }
    })
}

fn order_workers(journal: &Journal, faults: &Faults) -> Registry {
    let j = journal.clone();
    let out_of_stock = faults.out_of_stock;
    let reserve = handler(move |ctx: JobContext, input: OrderInput| {
        j.record(&ctx, json!({"orderId": input.order_id}));
        async move {
            if out_of_stock {
                return Err(
                    JobError::business("INVENTORY_UNAVAILABLE", "no stock for FIBER-ONT")
                        .with_variables(&json!({"falloutReason": "FIBER-ONT out of stock at DC-1"}))
                        .map_err(|e| JobError::technical_from("error variables", e))?,
                );
            }
            Ok(json!({"reservationId": format!("res-{}", input.order_id)}))
        }
    });
    let j = journal.clone();
    let billing_down = Arc::clone(&faults.billing_down);
    let bill = handler(move |ctx: JobContext, input: OrderInput| {
        j.record(&ctx, json!({"orderId": input.order_id}));
        let down = billing_down.load(Ordering::SeqCst);
        async move {
            if down {
                return Err(JobError::technical("billing system unavailable"));
            }
            Ok(json!({"billingRequestId": format!("bill-{}", input.order_id)}))
        }
    });
    let j = journal.clone();
    let fallout = handler(move |ctx: JobContext, input: FalloutInput| {
        j.record(
            &ctx,
            json!({"orderId": input.order_id, "falloutStep": input.fallout_step,
                   "falloutCode": input.fallout_code, "falloutReason": input.fallout_reason}),
        );
        let status = if input.fallout_step == "VALIDATE" {
            "FAILED"
        } else {
            "FALLOUT"
        };
        async move {
            Ok::<_, JobError>(
                json!({"orderStatus": status, "falloutId": format!("fo-{}", input.order_id)}),
            )
        }
    });
    Registry::new()
        .register(
            worker("order.validate", 3),
            order_step(journal, |_| json!({"orderStatus": "VALIDATED"})),
        )
        .register(
            worker("order.decompose", 3),
            order_step(journal, |id| {
                json!({"orderStatus": "DECOMPOSED", "fulfillmentPlanId": format!("plan-{id}"),
                       "orderItemCount": 2})
            }),
        )
        .register(worker("order.reserve-inventory", 5), reserve)
        .register(
            worker("order.provision", 5),
            order_step(journal, |id| {
                json!({"orderStatus": "IN_PROGRESS", "provisioningRequestId": format!("prov-{id}")})
            }),
        )
        .register(worker("order.trigger-billing", 5), bill)
        .register(
            worker("order.complete", 3),
            order_step(journal, |_| json!({"orderStatus": "COMPLETED"})),
        )
        .register(worker("order.record-fallout", 5), fallout)
}

fn order(order_id: &str) -> Value {
    json!({
        "orderId": order_id,
        "tenantId": "demo",
        "customerId": "cust-42",
        "quoteId": "Q-1",
        "quoteRevision": 3,
        "correlationId": format!("corr-{order_id}"),
    })
}

const HAPPY_PATH: [&str; 6] = [
    "order.validate",
    "order.decompose",
    "order.reserve-inventory",
    "order.provision",
    "order.trigger-billing",
    "order.complete",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_runs_its_six_steps_in_order_and_completes() {
    let platform = Platform::start().await;
    let journal = Journal::default();
    let workers = order_workers(&journal, &Faults::default())
        .start(&platform.gateway)
        .expect("workers start");

    let key = platform.create(ORDER_FULFILLMENT, order("ord-1")).await;
    let view = platform.ended(key).await;

    assert_eq!(view["state"], "COMPLETED");
    assert_eq!(journal.job_types(key), HAPPY_PATH);
    let vars = variables(&view);
    assert_eq!(vars["orderStatus"], "COMPLETED");
    assert_eq!(vars["reservationId"], "res-ord-1");
    assert_eq!(vars["provisioningRequestId"], "prov-ord-1");
    assert_eq!(vars["billingRequestId"], "bill-ord-1");
    assert_eq!(vars["fulfillmentPlanId"], "plan-ord-1");
    assert!(!vars.contains_key("falloutCode"));
    assert_eq!(view["incidents"], json!([]));
    stop(workers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_unavailable_is_caught_and_recorded_as_fallout() {
    let platform = Platform::start().await;
    let journal = Journal::default();
    let faults = Faults {
        out_of_stock: true,
        ..Faults::default()
    };
    let workers = order_workers(&journal, &faults)
        .start(&platform.gateway)
        .expect("workers start");

    let key = platform.create(ORDER_FULFILLMENT, order("ord-2")).await;
    let view = platform.ended(key).await;

    assert_eq!(view["state"], "COMPLETED");
    assert_eq!(
        journal.job_types(key),
        [
            "order.validate",
            "order.decompose",
            "order.reserve-inventory",
            "order.record-fallout"
        ]
    );
    assert_eq!(
        journal.seen(key, "order.record-fallout"),
        json!({"orderId": "ord-2", "falloutStep": "RESERVE_INVENTORY",
               "falloutCode": "INVENTORY_UNAVAILABLE",
               "falloutReason": "FIBER-ONT out of stock at DC-1"})
    );
    let vars = variables(&view);
    assert_eq!(vars["orderStatus"], "FALLOUT");
    assert_eq!(vars["falloutId"], "fo-ord-2");
    assert_eq!(vars["falloutCode"], "INVENTORY_UNAVAILABLE");
    assert!(
        !vars.contains_key("reservationId"),
        "the failed step left no output"
    );
    assert_eq!(
        view["incidents"],
        json!([]),
        "a business error is no incident"
    );
    stop(workers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_technical_failure_exhausts_its_retries_into_an_incident_an_operator_resolves() {
    let platform = Platform::start().await;
    let journal = Journal::default();
    let faults = Faults::default();
    faults.billing_down.store(true, Ordering::SeqCst);
    let workers = order_workers(&journal, &faults)
        .start(&platform.gateway)
        .expect("workers start");

    let key = platform.create(ORDER_FULFILLMENT, order("ord-3")).await;
    let until = Instant::now() + WAIT;
    let incident = loop {
        let view = platform.instance(key).await;
        if let Some(incident) = view["incidents"].as_array().and_then(|i| i.first()) {
            break incident.clone();
        }
        assert!(Instant::now() < until, "no incident: {view:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(incident["errorType"], "JOB_NO_RETRIES");
    assert_eq!(incident["errorMessage"], "billing system unavailable");
    assert_eq!(incident["elementId"], "Task_TriggerBilling");
    let billing_attempts = |journal: &Journal| {
        journal
            .job_types(key)
            .iter()
            .filter(|t| *t == "order.trigger-billing")
            .count()
    };
    assert_eq!(billing_attempts(&journal), 5, "retries=\"5\" on the task");
    let view = platform.instance(key).await;
    assert_eq!(
        view["state"], "ACTIVE",
        "an incident holds the order, never fails it"
    );
    assert_eq!(view["activeElements"][0]["job"]["retries"], 0);

    // Billing is back; the operator gives the job one more retry and resolves the incident.
    faults.billing_down.store(false, Ordering::SeqCst);
    let incident_key = incident["incidentKey"].as_str().expect("key");
    let (status, body) = platform
        .post(
            &format!("/v1/ops/incidents/{incident_key}/resolve"),
            &json!({"retries": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let view = platform.ended(key).await;
    assert_eq!(view["state"], "COMPLETED");
    assert_eq!(billing_attempts(&journal), 6);
    let ran = journal.job_types(key);
    assert_eq!(ran.last().map(String::as_str), Some("order.complete"));
    let mut distinct = ran.clone();
    distinct.dedup();
    assert_eq!(
        distinct, HAPPY_PATH,
        "retries repeat the step, never skip one"
    );
    assert_eq!(variables(&view)["billingRequestId"], "bill-ord-3");
    stop(workers).await;
}
