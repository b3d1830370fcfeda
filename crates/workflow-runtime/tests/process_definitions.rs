//! The platform's own process definitions (`workflow/bpmn/`) driven end to end, as the
//! approval and order services will drive them: deployed with `deploy_directory` (twice, as
//! every restart does), jobs executed by runtime workers whose in-test handlers stand in for
//! the services' commands, user tasks claimed, delegated and completed over the engine's REST
//! API (the Camunda 8 REST v2 subset a task list uses), and outcomes read from the operator
//! views (`/v1/ops`). The variables, job types, messages and error codes used here are the
//! contract written down in `workflow/README.md`.
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
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sqlx::types::chrono::{DateTime, Utc};
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

/// What the policy stand-in returns as the task's due date, and how the REST API shows it.
const APPROVAL_DUE: &str = "2030-01-02T10:00:00+01:00";
const APPROVAL_DUE_SHOWN: &str = "2030-01-02T09:00:00.000Z";
/// The due date the escalation stand-in sets for the next level.
const ESCALATED_DUE: &str = "2030-01-03T09:00:00Z";
const ESCALATED_DUE_SHOWN: &str = "2030-01-03T09:00:00.000Z";

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

    /// Assigns (or, with `"action": "delegate"`, reassigns) a user task, as Tasklist does.
    async fn assign(&self, task_key: &str, body: &Value) -> (StatusCode, Value) {
        self.post(&format!("/v2/user-tasks/{task_key}/assignment"), body)
            .await
    }

    /// Completes a user task with the decision's variables, as Tasklist does.
    async fn complete_task(&self, task_key: &str, variables: &Value) -> (StatusCode, Value) {
        self.post(
            &format!("/v2/user-tasks/{task_key}/completion"),
            &json!({ "variables": variables }),
        )
        .await
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

    /// User tasks matching `filter` (POST /v2/user-tasks/search) and the total it reports.
    async fn search(&self, filter: &Value) -> (Vec<Value>, Value) {
        let (status, body) = self
            .post("/v2/user-tasks/search", &json!({ "filter": filter }))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let items = body["items"].as_array().cloned().unwrap_or_default();
        (items, body["page"]["totalItems"].clone())
    }

    /// User tasks matching `filter`, when no task of the filter is being created or changed.
    async fn tasks(&self, filter: Value) -> Vec<Value> {
        let (items, total) = self.search(&filter).await;
        assert_eq!(total, json!(items.len()), "{items:?}");
        items
    }

    /// Waits for exactly one user task matching `filter` (it appears once the jobs before it
    /// are done). The engine counts and lists in two statements, so while the task is being
    /// created the total may lag the items: wait until both agree.
    async fn task(&self, filter: Value) -> Value {
        let until = Instant::now() + WAIT;
        loop {
            let (mut found, total) = self.search(&filter).await;
            if found.len() == 1 && total == json!(1) {
                return found.remove(0);
            }
            assert!(
                found.len() < 2,
                "more than one task for {filter}: {found:?}"
            );
            assert!(Instant::now() < until, "no task for {filter}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn task_by_key(&self, task_key: &str) -> Value {
        let (status, body) = self.get(&format!("/v2/user-tasks/{task_key}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn publish(&self, name: &str, correlation_key: &str, variables: Value) {
        self.gateway
            .client()
            .publish_message()
            .with_name(name.to_owned())
            .with_correlation_key(correlation_key.to_owned())
            .with_time_to_live(Duration::ZERO)
            .with_variables(variables)
            .expect("variables")
            .send()
            .await
            .expect("publish");
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

fn instant(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().expect("a date string"))
        .expect("ISO-8601")
        .with_timezone(&Utc)
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

    async fn wait_for(&self, instance: i64, job_type: &str) -> Value {
        let until = Instant::now() + WAIT;
        loop {
            if self.job_types(instance).iter().any(|t| t == job_type) {
                return self.seen(instance, job_type);
            }
            assert!(
                Instant::now() < until,
                "no {job_type} job for {instance}; ran {:?}",
                self.job_types(instance)
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
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

// ---------------------------------------------------------------------------------------------
// Quote approval: the approval service's job types, as in-test stand-ins.

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PolicyInput {
    quote_id: String,
    quote_revision: u32,
    approval_request_id: String,
    policy_snapshot: PolicySnapshot,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PolicySnapshot {
    discount_percent: u32,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PolicyOutput {
    approval_required: bool,
    approval_level: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    approver_group: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    escalation_group: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    approval_due_date: Option<&'static str>,
    policy_evaluation: Value,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DecisionInput {
    quote_id: String,
    quote_revision: u32,
    approval_request_id: String,
    #[serde(default)]
    auto_approved: bool,
    decided_by: Option<String>,
    decision_comment: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DecisionOutput {
    decision_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NotifyInput {
    approval_request_id: String,
    approval_level: u32,
    approver_group: String,
    escalation_group: String,
}

/// Discounts above 10 % need a sales manager; the next level is the sales directors.
fn approval_workers(journal: &Journal) -> Registry {
    let j = journal.clone();
    let evaluate = handler(move |ctx: JobContext, input: PolicyInput| {
        j.record(
            &ctx,
            json!({"quoteId": input.quote_id, "quoteRevision": input.quote_revision,
                   "approvalRequestId": input.approval_request_id}),
        );
        let required = input.policy_snapshot.discount_percent > 10;
        let fired: Vec<&str> = if required {
            vec!["DISCOUNT_ABOVE_10_PERCENT"]
        } else {
            vec![]
        };
        async move {
            Ok::<_, JobError>(PolicyOutput {
                approval_required: required,
                approval_level: u32::from(required),
                approver_group: required.then_some("sales-managers"),
                escalation_group: required.then_some("sales-directors"),
                approval_due_date: required.then_some(APPROVAL_DUE),
                policy_evaluation: json!({ "rulesFired": fired }),
            })
        }
    });
    let decision = |journal: Journal| {
        handler(move |ctx: JobContext, input: DecisionInput| {
            journal.record(
                &ctx,
                json!({"quoteId": input.quote_id, "autoApproved": input.auto_approved,
                       "decidedBy": input.decided_by, "decisionComment": input.decision_comment}),
            );
            let decision_id = format!(
                "{}-{}-r{}",
                input.approval_request_id, ctx.element_id, input.quote_revision
            );
            async move { Ok::<_, JobError>(DecisionOutput { decision_id }) }
        })
    };
    let j = journal.clone();
    let remind = handler(move |ctx: JobContext, input: NotifyInput| {
        j.record(
            &ctx,
            json!({"approverGroup": input.approver_group, "approvalLevel": input.approval_level,
                   "template": ctx.header("notificationTemplate"),
                   "approvalRequestId": input.approval_request_id}),
        );
        async { Ok::<_, JobError>(()) }
    });
    let j = journal.clone();
    let escalate = handler(move |ctx: JobContext, input: NotifyInput| {
        j.record(
            &ctx,
            json!({"escalationGroup": input.escalation_group, "approvalLevel": input.approval_level,
                   "template": ctx.header("notificationTemplate")}),
        );
        let level = input.approval_level + 1;
        async move {
            Ok::<_, JobError>(json!({"approvalLevel": level, "approvalDueDate": ESCALATED_DUE}))
        }
    });
    Registry::new()
        .register(worker("approval.evaluate-policy", 3), evaluate)
        .register(worker("approval.send-reminder", 3), remind)
        .register(worker("approval.escalate", 3), escalate)
        .register(
            worker("approval.record-approval", 5),
            decision(journal.clone()),
        )
        .register(
            worker("approval.record-rejection", 5),
            decision(journal.clone()),
        )
}

/// The variables the approval service starts an instance with.
fn approval_request(quote_id: &str, discount_percent: u32, extra: Value) -> Value {
    let mut variables = json!({
        "quoteId": quote_id,
        "quoteRevision": 2,
        "approvalRequestId": format!("apr-{quote_id}"),
        "tenantId": "demo",
        "requestedBy": "jane",
        "policySnapshot": {"discountPercent": discount_percent, "currency": "EUR", "total": "12000.00"},
        "correlationId": format!("corr-{quote_id}"),
    });
    if let (Some(base), Some(extra)) = (variables.as_object_mut(), extra.as_object()) {
        base.extend(extra.clone());
    }
    variables
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quote_within_policy_is_approved_without_a_human() {
    let platform = Platform::start().await;
    let journal = Journal::default();
    let workers = approval_workers(&journal)
        .start(&platform.gateway)
        .expect("workers start");

    let key = platform
        .create(QUOTE_APPROVAL, approval_request("Q-AUTO", 5, json!({})))
        .await;
    let view = platform.ended(key).await;

    assert_eq!(view["state"], "COMPLETED");
    assert_eq!(
        journal.job_types(key),
        ["approval.evaluate-policy", "approval.record-approval"]
    );
    let recorded = journal.seen(key, "approval.record-approval");
    assert_eq!(recorded["autoApproved"], true, "{recorded}");
    assert_eq!(recorded["decidedBy"], Value::Null);
    let vars = variables(&view);
    assert_eq!(vars["approvalOutcome"], "APPROVED");
    assert_eq!(
        vars["approvalDecisionId"],
        "apr-Q-AUTO-Task_RecordApproval-r2"
    );
    assert_eq!(vars["approvalRequired"], false);
    assert!(
        !vars.contains_key("autoApproved"),
        "input-mapped locals stay in the task"
    );
    assert!(
        platform
            .tasks(json!({"processInstanceKey": key.to_string()}))
            .await
            .is_empty(),
        "no user task on the automatic path"
    );
    stop(workers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approver_claims_delegates_and_approves_and_the_approval_is_recorded() {
    let platform = Platform::start().await;
    let journal = Journal::default();
    let workers = approval_workers(&journal)
        .start(&platform.gateway)
        .expect("workers start");
    let started = Utc::now();

    let key = platform
        .create(QUOTE_APPROVAL, approval_request("Q-HUMAN", 25, json!({})))
        .await;
    // What a task list shows the sales managers.
    let task = platform
        .task(
            json!({"candidateGroup": "sales-managers", "state": "CREATED",
                     "processInstanceKey": key.to_string()}),
        )
        .await;
    assert_eq!(task["name"], "Approve quote");
    assert_eq!(task["elementId"], "Task_ApproveQuote");
    assert_eq!(task["candidateGroups"], json!(["sales-managers"]));
    assert_eq!(task["dueDate"], APPROVAL_DUE_SHOWN);
    assert_eq!(task.get("assignee"), None);
    let task_key = task["userTaskKey"]
        .as_str()
        .expect("key as string")
        .to_owned();

    // While it waits: reminder and escalation timers with their defaults, and the supersede
    // subscription on the quote id.
    let view = platform.instance(key).await;
    let waiting = view["activeElements"].as_array().expect("elements");
    assert_eq!(waiting.len(), 1, "{view:#}");
    assert_eq!(waiting[0]["elementId"], "Task_ApproveQuote");
    assert_eq!(waiting[0]["elementType"], "userTask");
    assert_eq!(waiting[0]["userTaskKey"].as_str(), Some(task_key.as_str()));
    let timers = waiting[0]["timers"].as_array().expect("timers");
    let due = |element: &str| {
        timers
            .iter()
            .find(|t| t["elementId"] == element)
            .map(|t| instant(&t["dueDate"]) - started)
            .unwrap_or_else(|| panic!("no {element} timer: {timers:?}"))
    };
    let reminder = due("Boundary_Reminder");
    let escalation = due("Boundary_Escalation");
    assert!(
        (3..=4).contains(&reminder.num_hours()),
        "reminder after PT4H: {reminder}"
    );
    assert!(
        (23..=24).contains(&escalation.num_hours()),
        "escalation after P1D: {escalation}"
    );
    assert_eq!(
        waiting[0]["messageSubscriptions"],
        json!([{"elementId": "Boundary_SupersededWhileWaiting",
                "messageName": "quote-superseded", "correlationKey": "Q-HUMAN"}])
    );

    // Alice claims it, then delegates to Bob: delegation is reassignment.
    let (status, body) = platform
        .assign(&task_key, &json!({"assignee": "alice"}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let mine = platform
        .tasks(json!({"assignee": "alice", "state": "CREATED"}))
        .await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["userTaskKey"].as_str(), Some(task_key.as_str()));
    let (status, body) = platform
        .assign(&task_key, &json!({"assignee": "bob", "action": "delegate"}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(platform.task_by_key(&task_key).await["assignee"], "bob");
    assert!(
        platform
            .tasks(json!({"assignee": "alice", "state": "CREATED"}))
            .await
            .is_empty()
    );

    let (status, body) = platform
        .complete_task(
            &task_key,
            &json!({"approved": true, "decidedBy": "bob",
                                  "decisionComment": "margin still above floor"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let view = platform.ended(key).await;
    assert_eq!(view["state"], "COMPLETED");
    assert_eq!(
        journal.job_types(key),
        ["approval.evaluate-policy", "approval.record-approval"]
    );
    let recorded = journal.seen(key, "approval.record-approval");
    assert_eq!(
        recorded,
        json!({"quoteId": "Q-HUMAN", "autoApproved": false, "decidedBy": "bob",
               "decisionComment": "margin still above floor"})
    );
    let vars = variables(&view);
    assert_eq!(vars["approvalOutcome"], "APPROVED");
    assert_eq!(vars["approved"], true);
    assert_eq!(
        vars["approvalDecisionId"],
        "apr-Q-HUMAN-Task_RecordApproval-r2"
    );
    assert_eq!(
        vars["policyEvaluation"]["rulesFired"][0],
        "DISCOUNT_ABOVE_10_PERCENT"
    );
    assert_eq!(vars["correlationId"], "corr-Q-HUMAN");
    let done = platform.task_by_key(&task_key).await;
    assert_eq!(done["state"], "COMPLETED");
    assert_eq!(view["activeElements"], json!([]));
    stop(workers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_is_recorded_and_never_approves() {
    let platform = Platform::start().await;
    let journal = Journal::default();
    let workers = approval_workers(&journal)
        .start(&platform.gateway)
        .expect("workers start");

    let key = platform
        .create(QUOTE_APPROVAL, approval_request("Q-REJECT", 40, json!({})))
        .await;
    let task = platform
        .task(json!({"candidateGroup": "sales-managers", "processInstanceKey": key.to_string()}))
        .await;
    let task_key = task["userTaskKey"].as_str().expect("key");
    let (status, body) = platform
        .assign(task_key, &json!({"assignee": "alice"}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = platform
        .complete_task(
            task_key,
            &json!({"approved": false, "decidedBy": "alice",
                                  "decisionComment": "40 % is below the margin floor"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let view = platform.ended(key).await;
    assert_eq!(view["state"], "COMPLETED");
    assert_eq!(
        journal.job_types(key),
        ["approval.evaluate-policy", "approval.record-rejection"]
    );
    assert_eq!(
        journal.seen(key, "approval.record-rejection")["decisionComment"],
        "40 % is below the margin floor"
    );
    let vars = variables(&view);
    assert_eq!(vars["approvalOutcome"], "REJECTED");
    assert_eq!(
        vars["approvalDecisionId"],
        "apr-Q-REJECT-Task_RecordRejection-r2"
    );
    stop(workers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_superseded_quote_ends_its_waiting_approval_and_no_other() {
    let platform = Platform::start().await;
    let journal = Journal::default();
    let workers = approval_workers(&journal)
        .start(&platform.gateway)
        .expect("workers start");

    let revised = platform
        .create(QUOTE_APPROVAL, approval_request("Q-REVISED", 25, json!({})))
        .await;
    let other = platform
        .create(QUOTE_APPROVAL, approval_request("Q-OTHER", 25, json!({})))
        .await;
    let revised_task = platform
        .task(json!({"processInstanceKey": revised.to_string()}))
        .await;
    let other_task = platform
        .task(json!({"processInstanceKey": other.to_string()}))
        .await;

    // The approval service publishes this after marking the request SUPERSEDED (TTL 0).
    platform
        .publish(
            "quote-superseded",
            "Q-REVISED",
            json!({"supersededReason": "REVISED"}),
        )
        .await;

    let view = platform.ended(revised).await;
    assert_eq!(view["state"], "COMPLETED");
    let vars = variables(&view);
    assert_eq!(vars["approvalOutcome"], "SUPERSEDED");
    assert_eq!(vars["supersededReason"], "REVISED");
    assert_eq!(
        journal.job_types(revised),
        ["approval.evaluate-policy"],
        "nothing is recorded for a superseded request"
    );
    let cancelled = platform
        .task_by_key(revised_task["userTaskKey"].as_str().expect("key"))
        .await;
    assert_eq!(cancelled["state"], "CANCELED");
    let (status, problem) = platform
        .complete_task(
            revised_task["userTaskKey"].as_str().expect("key"),
            &json!({"approved": true, "decidedBy": "late"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");

    // The other quote's approval is untouched.
    let still = platform.instance(other).await;
    assert_eq!(still["state"], "ACTIVE");
    assert_eq!(still["activeElements"][0]["elementId"], "Task_ApproveQuote");
    let open = platform
        .task_by_key(other_task["userTaskKey"].as_str().expect("key"))
        .await;
    assert_eq!(open["state"], "CREATED");
    stop(workers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overdue_approval_is_reminded_then_escalated_to_the_next_level() {
    let platform = Platform::start().await;
    let journal = Journal::default();
    let workers = approval_workers(&journal)
        .start(&platform.gateway)
        .expect("workers start");

    let key = platform
        .create(
            QUOTE_APPROVAL,
            approval_request(
                "Q-LATE",
                25,
                json!({"reminderAfter": "PT1S", "escalateAfter": "PT3S"}),
            ),
        )
        .await;
    let first = platform
        .task(json!({"candidateGroup": "sales-managers", "processInstanceKey": key.to_string()}))
        .await;
    let first_key = first["userTaskKey"].as_str().expect("key").to_owned();

    // The reminder does not interrupt: the task is still open after it was sent.
    let reminded = journal.wait_for(key, "approval.send-reminder").await;
    assert_eq!(
        reminded,
        json!({"approverGroup": "sales-managers", "approvalLevel": 1,
               "template": "approval-reminder", "approvalRequestId": "apr-Q-LATE"})
    );
    assert_eq!(platform.task_by_key(&first_key).await["state"], "CREATED");

    // The escalation does: the first task is cancelled and the directors get a new one.
    let escalated = journal.wait_for(key, "approval.escalate").await;
    assert_eq!(escalated["escalationGroup"], "sales-directors");
    assert_eq!(escalated["template"], "approval-escalated");
    let second = platform
        .task(json!({"candidateGroup": "sales-directors", "processInstanceKey": key.to_string()}))
        .await;
    assert_eq!(second["name"], "Approve quote (escalated)");
    assert_eq!(second["elementId"], "Task_ApproveQuoteEscalated");
    assert_eq!(second["dueDate"], ESCALATED_DUE_SHOWN);
    assert_eq!(platform.task_by_key(&first_key).await["state"], "CANCELED");
    let view = platform.instance(key).await;
    assert_eq!(
        view["activeElements"][0]["messageSubscriptions"][0]["elementId"],
        "Boundary_SupersededWhileEscalated"
    );

    let second_key = second["userTaskKey"].as_str().expect("key");
    let (status, body) = platform
        .complete_task(second_key, &json!({"approved": true, "decidedBy": "dora"}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let view = platform.ended(key).await;
    assert_eq!(view["state"], "COMPLETED");
    assert_eq!(
        journal.job_types(key),
        [
            "approval.evaluate-policy",
            "approval.send-reminder",
            "approval.escalate",
            "approval.record-approval"
        ]
    );
    assert_eq!(
        journal.seen(key, "approval.record-approval")["decidedBy"],
        "dora"
    );
    let vars = variables(&view);
    assert_eq!(vars["approvalLevel"], 2);
    assert_eq!(vars["approvalOutcome"], "APPROVED");
    stop(workers).await;
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
