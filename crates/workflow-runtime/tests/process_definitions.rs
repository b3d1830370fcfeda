//! The platform's own process definitions (`workflow/bpmn/`) deployed with `deploy_directory`
//! (twice, as every restart does), and `order-fulfillment` driven end to end as the order
//! service will drive it: jobs executed by runtime workers whose in-test handlers stand in for
//! the order service's commands (`order.*`) and for the integration service's external-call
//! workers (`integration.*`, answering as `integration::workers` maps its outcomes), outcomes
//! read from the operator views (`/v1/ops`). The variables, job types and error codes used here
//! are the contract written down in `workflow/README.md`. `quote-approval` runs with the approval
//! service's real workers in `services/approval/tests/scenarios/`; the real integration workers
//! run a one-task probe process in `services/integration/tests/fulfilment/`.
//!
//! Always the embedded engine on a fresh database: the operator views exist only there
//! (Camunda 8 shows the same through Operate), so `ZEEBE_ADDRESS` does not redirect this suite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
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
// Order fulfilment: the order service's job types (`order.*`) and the integration service's
// external calls (`integration.*`), as in-test stand-ins that keep each worker's contract.

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

/// What an external-call job reads (`integration::workers::ExternalCallVariables`): the
/// tenant and order from the instance, `taskId` and `request` from the task's input mappings.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExternalCallInput {
    tenant_id: String,
    order_id: String,
    task_id: String,
    request: Value,
}

/// Failures the stand-in services are told to produce.
#[derive(Debug, Clone, Default)]
struct Faults {
    /// `integration.inventory.reserve` is refused by the downstream: INVENTORY_REJECTED.
    out_of_stock: bool,
    /// `integration.billing.start` is refused by the downstream: BILLING_REJECTED.
    billing_refused: bool,
    /// `integration.billing.start` fails technically (FAILED_TECHNICAL) while set.
    billing_down: Arc<AtomicBool>,
    /// `integration.provisioning.activate` answers OUTCOME_UNKNOWN this many times first.
    activation_unknown: Arc<AtomicI32>,
}

/// The billing system's retry budget in the stand-in: fewer attempts than the task's
/// `retries="5"`, so the scenario shows the worker's budget deciding, not the attribute.
const BILLING_BUDGET: i32 = 3;

/// One stand-in order step: records the job, then answers `output` (with the order id filled in).
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

/// How a stand-in external call ends.
enum Answer {
    /// SUCCEEDED: `CompleteJob` with `externalCall`.
    Applied {
        reference: String,
        state: &'static str,
    },
    /// REJECTED_BUSINESS: the system's `<SYSTEM>_REJECTED` error with `falloutReason`.
    Refused {
        error_code: &'static str,
        code: &'static str,
        message: &'static str,
    },
    /// FAILED_TECHNICAL: `FailJob` with what the budget has left and its back-off.
    NotApplied { remaining: i32 },
    /// OUTCOME_UNKNOWN: `FailJob` with the job's retries unchanged (a wait, not a failure).
    Unknown,
}

/// The integration worker's mapping of an answer to the job (integration::workers).
fn external_outcome(ctx: &JobContext, key: String, answer: Answer) -> Result<Value, JobError> {
    match answer {
        Answer::Applied { reference, state } => Ok(json!({"externalCall": {
            "idempotencyKey": key, "outcome": "SUCCEEDED",
            "externalReference": reference, "externalState": state,
        }})),
        Answer::Refused {
            error_code,
            code,
            message,
        } => Err(JobError::business(error_code, format!("refused: {message} ({code})"))
            .with_variables(&json!({
                "falloutReason": format!("{code}: {message}"),
                "externalCall": {"idempotencyKey": key, "outcome": "REJECTED_BUSINESS", "failureCode": code},
            }))
            .map_err(|e| JobError::technical_from("error variables", e))?),
        Answer::NotApplied { remaining } => Err(JobError::technical(format!(
            "FAILED_TECHNICAL: billing system unavailable; {remaining} attempts left"
        ))
        .retry_after(Duration::from_millis(100))
        .with_retries(remaining)),
        Answer::Unknown => Err(JobError::technical(format!(
            "OUTCOME_UNKNOWN: awaiting reconciliation of {key}"
        ))
        .retry_after(Duration::from_millis(50))
        .with_retries(ctx.retries.max(1))),
    }
}

/// One stand-in external call: records what the job was given, then answers as `decide` says.
fn external_call(
    journal: &Journal,
    decide: impl Fn(&ExternalCallInput) -> Answer + Send + Sync + 'static,
) -> impl workflow_runtime::JobHandler {
    let journal = journal.clone();
    let decide = Arc::new(decide);
    handler(move |ctx: JobContext, input: ExternalCallInput| {
        journal.record(
            &ctx,
            json!({"tenantId": input.tenant_id, "orderId": input.order_id,
                   "taskId": input.task_id, "request": input.request}),
        );
        let key = format!("{}-{}", ctx.job_type, input.task_id);
        let outcome = external_outcome(&ctx, key, decide(&input));
        async move { outcome }
    })
}

fn fulfilment_workers(journal: &Journal, faults: &Faults) -> Registry {
    let out_of_stock = faults.out_of_stock;
    let reserve = external_call(journal, move |input| {
        if out_of_stock {
            Answer::Refused {
                error_code: "INVENTORY_REJECTED",
                code: "INSUFFICIENT_STOCK",
                message: "FIBER-ONT out of stock at DC-1",
            }
        } else {
            Answer::Applied {
                reference: format!("res-{}", input.order_id),
                state: "RESERVED",
            }
        }
    });
    let unknown = Arc::clone(&faults.activation_unknown);
    let activate = external_call(journal, move |input| {
        if unknown.fetch_sub(1, Ordering::SeqCst) > 0 {
            Answer::Unknown
        } else {
            Answer::Applied {
                reference: format!("svc-{}", input.order_id),
                state: "ACTIVE",
            }
        }
    });
    let billing_refused = faults.billing_refused;
    let billing_down = Arc::clone(&faults.billing_down);
    let failures = Arc::new(AtomicI32::new(0));
    let bill = external_call(journal, move |input| {
        if billing_refused {
            Answer::Refused {
                error_code: "BILLING_REJECTED",
                code: "ACCOUNT_CLOSED",
                message: "billing account BA-42 is closed",
            }
        } else if billing_down.load(Ordering::SeqCst) {
            let failed = failures.fetch_add(1, Ordering::SeqCst) + 1;
            Answer::NotApplied {
                remaining: (BILLING_BUDGET - failed).max(0),
            }
        } else {
            Answer::Applied {
                reference: format!("chg-{}", input.order_id),
                state: "CHARGING",
            }
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
        .register(worker("integration.inventory.reserve", 5), reserve)
        .register(worker("integration.provisioning.activate", 5), activate)
        .register(worker("integration.billing.start", 5), bill)
        .register(
            worker("order.complete", 3),
            order_step(journal, |_| json!({"orderStatus": "COMPLETED"})),
        )
        .register(worker("order.record-fallout", 5), fallout)
}

const RESERVE_TASK: &str = "0192f2b4-3c1e-7a51-9a3b-5d9e8c7b6a01";
const PROVISION_TASK: &str = "0192f2b4-3c1e-7a51-9a3b-5d9e8c7b6a02";
const BILLING_TASK: &str = "0192f2b4-3c1e-7a51-9a3b-5d9e8c7b6a03";

fn inventory_request() -> Value {
    json!({"sku": "FIBER-ONT", "quantity": 1})
}

/// The start variables, with what the order service will supply per external task until it
/// exists: the fulfilment task ids and the requests in the core's words.
fn order(order_id: &str) -> Value {
    json!({
        "orderId": order_id,
        "tenantId": "demo",
        "customerId": "cust-42",
        "quoteId": "Q-1",
        "quoteRevision": 3,
        "correlationId": format!("corr-{order_id}"),
        "reserveInventoryTaskId": RESERVE_TASK,
        "provisionTaskId": PROVISION_TASK,
        "billingTaskId": BILLING_TASK,
        "inventoryRequest": inventory_request(),
        "provisioningRequest": {"serviceSpecification": "FIBER-1G", "customerAccount": "cust-42",
                                "characteristics": {"speed": "1G"}},
        "billingRequest": {"billingAccount": "BA-42", "amount": "49.90", "currency": "EUR",
                           "recurrence": "MONTHLY", "description": "Fiber 1G"},
    })
}

const HAPPY_PATH: [&str; 6] = [
    "order.validate",
    "order.decompose",
    "integration.inventory.reserve",
    "integration.provisioning.activate",
    "integration.billing.start",
    "order.complete",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_runs_its_six_steps_in_order_and_completes() {
    let platform = Platform::start().await;
    let journal = Journal::default();
    let workers = fulfilment_workers(&journal, &Faults::default())
        .start(&platform.gateway)
        .expect("workers start");

    let key = platform.create(ORDER_FULFILLMENT, order("ord-1")).await;
    let view = platform.ended(key).await;

    assert_eq!(view["state"], "COMPLETED");
    assert_eq!(journal.job_types(key), HAPPY_PATH);
    // The external calls get the order, their task id and their request through the task's
    // input mappings, and the tenant from the instance.
    assert_eq!(
        journal.seen(key, "integration.inventory.reserve"),
        json!({"tenantId": "demo", "orderId": "ord-1", "taskId": RESERVE_TASK,
               "request": inventory_request()})
    );
    assert_eq!(
        journal.seen(key, "integration.provisioning.activate")["taskId"],
        PROVISION_TASK
    );
    let billing = journal.seen(key, "integration.billing.start");
    assert_eq!(billing["taskId"], BILLING_TASK);
    assert_eq!(billing["request"]["amount"], "49.90");

    let vars = variables(&view);
    assert_eq!(vars["orderStatus"], "COMPLETED");
    assert_eq!(vars["fulfillmentPlanId"], "plan-ord-1");
    for (name, reference, state, task) in [
        (
            "inventoryReservation",
            "res-ord-1",
            "RESERVED",
            RESERVE_TASK,
        ),
        ("serviceActivation", "svc-ord-1", "ACTIVE", PROVISION_TASK),
        ("billingCharge", "chg-ord-1", "CHARGING", BILLING_TASK),
    ] {
        let call = &vars[name];
        assert_eq!(call["outcome"], "SUCCEEDED", "{name}: {call}");
        assert_eq!(call["externalReference"], reference, "{name}");
        assert_eq!(call["externalState"], state, "{name}");
        assert!(
            call["idempotencyKey"]
                .as_str()
                .is_some_and(|k| k.ends_with(task)),
            "{name}: {call}"
        );
    }
    // Only the mapped names reach the instance: no raw externalCall, no input-mapped locals.
    for local in ["externalCall", "taskId", "request"] {
        assert!(!vars.contains_key(local), "{local} leaked: {vars:?}");
    }
    assert!(!vars.contains_key("falloutCode"));
    assert_eq!(view["incidents"], json!([]));
    stop(workers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_reservation_is_caught_and_recorded_as_fallout() {
    let platform = Platform::start().await;
    let journal = Journal::default();
    let faults = Faults {
        out_of_stock: true,
        ..Faults::default()
    };
    let workers = fulfilment_workers(&journal, &faults)
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
            "integration.inventory.reserve",
            "order.record-fallout"
        ]
    );
    assert_eq!(
        journal.seen(key, "order.record-fallout"),
        json!({"orderId": "ord-2", "falloutStep": "RESERVE_INVENTORY",
               "falloutCode": "INVENTORY_REJECTED",
               "falloutReason": "INSUFFICIENT_STOCK: FIBER-ONT out of stock at DC-1"})
    );
    let vars = variables(&view);
    assert_eq!(vars["orderStatus"], "FALLOUT");
    assert_eq!(vars["falloutId"], "fo-ord-2");
    assert_eq!(vars["falloutCode"], "INVENTORY_REJECTED");
    for absent in ["inventoryReservation", "externalCall"] {
        assert!(
            !vars.contains_key(absent),
            "the refused step left no {absent}"
        );
    }
    assert_eq!(
        view["incidents"],
        json!([]),
        "a business error is no incident"
    );
    stop(workers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_charge_is_caught_and_recorded_as_fallout() {
    let platform = Platform::start().await;
    let journal = Journal::default();
    let faults = Faults {
        billing_refused: true,
        ..Faults::default()
    };
    let workers = fulfilment_workers(&journal, &faults)
        .start(&platform.gateway)
        .expect("workers start");

    let key = platform.create(ORDER_FULFILLMENT, order("ord-4")).await;
    let view = platform.ended(key).await;

    assert_eq!(view["state"], "COMPLETED");
    let mut expected = HAPPY_PATH[..5].to_vec();
    expected.push("order.record-fallout");
    assert_eq!(journal.job_types(key), expected);
    assert_eq!(
        journal.seen(key, "order.record-fallout"),
        json!({"orderId": "ord-4", "falloutStep": "TRIGGER_BILLING",
               "falloutCode": "BILLING_REJECTED",
               "falloutReason": "ACCOUNT_CLOSED: billing account BA-42 is closed"})
    );
    let vars = variables(&view);
    assert_eq!(vars["orderStatus"], "FALLOUT");
    assert_eq!(vars["falloutCode"], "BILLING_REJECTED");
    assert!(!vars.contains_key("billingCharge"));
    // The earlier effects stay applied; compensating them is the order service's decision.
    assert_eq!(vars["inventoryReservation"]["outcome"], "SUCCEEDED");
    assert_eq!(vars["serviceActivation"]["outcome"], "SUCCEEDED");
    assert_eq!(view["incidents"], json!([]));
    stop(workers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_outcome_waits_for_reconciliation_without_using_retries() {
    let platform = Platform::start().await;
    let journal = Journal::default();
    let faults = Faults::default();
    // More unknown answers than the task's retries="5": a wait, not a failure.
    faults.activation_unknown.store(7, Ordering::SeqCst);
    let workers = fulfilment_workers(&journal, &faults)
        .start(&platform.gateway)
        .expect("workers start");

    let key = platform.create(ORDER_FULFILLMENT, order("ord-5")).await;
    let view = platform.ended(key).await;

    assert_eq!(view["state"], "COMPLETED");
    let activations = journal
        .job_types(key)
        .iter()
        .filter(|t| *t == "integration.provisioning.activate")
        .count();
    assert_eq!(
        activations, 8,
        "seven unknown answers, then the reconciled one"
    );
    assert_eq!(
        variables(&view)["serviceActivation"]["externalState"],
        "ACTIVE"
    );
    assert_eq!(view["incidents"], json!([]));
    stop(workers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_technical_failure_spends_the_budget_into_an_incident_an_operator_resolves() {
    let platform = Platform::start().await;
    let journal = Journal::default();
    let faults = Faults::default();
    faults.billing_down.store(true, Ordering::SeqCst);
    let workers = fulfilment_workers(&journal, &faults)
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
    assert_eq!(
        incident["errorMessage"],
        "FAILED_TECHNICAL: billing system unavailable; 0 attempts left"
    );
    assert_eq!(incident["elementId"], "Task_TriggerBilling");
    let billing_attempts = |journal: &Journal| {
        journal
            .job_types(key)
            .iter()
            .filter(|t| *t == "integration.billing.start")
            .count()
    };
    assert_eq!(
        billing_attempts(&journal),
        usize::try_from(BILLING_BUDGET).unwrap(),
        "the worker's budget decides, not retries=\"5\" on the task"
    );
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
    assert_eq!(
        billing_attempts(&journal),
        usize::try_from(BILLING_BUDGET).unwrap() + 1
    );
    let ran = journal.job_types(key);
    assert_eq!(ran.last().map(String::as_str), Some("order.complete"));
    let mut distinct = ran.clone();
    distinct.dedup();
    assert_eq!(
        distinct, HAPPY_PATH,
        "retries repeat the step, never skip one"
    );
    assert_eq!(
        variables(&view)["billingCharge"]["externalReference"],
        "chg-ord-3"
    );
    stop(workers).await;
}
