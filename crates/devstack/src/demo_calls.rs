//! The integration service's demo data: one demo order's external calls, made for real.
//!
//! The integration service writes its tables only from its workers (triggers refuse anything
//! else), so its demo data cannot be loaded through an API like the catalog's. Instead devstack
//! deploys `crates/devstack/demo/bpmn` (the process `demo-external-calls`, not a platform
//! process) to the stack's workflow gateway and starts one instance for a fresh demo order:
//! the integration workers reserve inventory, activate a service and start a charge at the
//! downstream simulator, and the external operations and call log fill as they would in
//! fulfilment. The process is order-fulfillment's external calls alone, without the order
//! service's steps: a drill of the integration side (`./dev demo` runs the whole quote-to-cash).
//! `./dev up` runs one; `./dev demo-calls` runs another (after injecting a fault, say).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use dev_issuer::Directory;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;
use workflow_runtime::{Gateway, deploy_directory};

use crate::identity;
use crate::say;
use crate::services::{self, Probe};
use crate::settings::Settings;

/// The demo process's definitions, relative to the workspace root.
pub const DEMO_BPMN_DIR: &str = "crates/devstack/demo/bpmn";

/// The demo process.
pub const PROCESS_ID: &str = "demo-external-calls";

/// The service whose workers make the calls.
pub const INTEGRATION: &str = "integration";

/// The demo tenant, and the operator whose token reads the outcome.
const TENANT: &str = "demo";
const OPERATOR: &str = "ops1";

/// How long devstack waits for the demo order's operations to settle before it reports what it
/// sees: the simulator answers in milliseconds, an injected fault may take the budget's ~47 s.
const SETTLE_WAIT: Duration = Duration::from_secs(20);

/// The demo order an instance was started for.
#[derive(Debug, Clone)]
pub struct DemoOrder {
    /// The order id every call carries (`GET /external-calls?orderId=`).
    pub order_id: Uuid,
    /// The process instance in the engine.
    pub process_instance_key: i64,
}

/// An external operation as `GET /external-operations` shows it (what devstack prints).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationState {
    /// e.g. `INVENTORY_RESERVE`.
    pub operation: String,
    /// e.g. `SUCCEEDED`.
    pub status: String,
    /// Attempts sent.
    pub attempts: u32,
    /// The idempotency key.
    pub idempotency_key: String,
}

#[derive(Debug, Deserialize)]
struct OperationList {
    items: Vec<OperationState>,
}

/// `<workspace>/crates/devstack/demo/bpmn`.
pub fn bpmn_dir(workspace_root: &Path) -> PathBuf {
    workspace_root.join(DEMO_BPMN_DIR)
}

/// The instance's variables, named as order-fulfillment's start variables (workflow/README.md):
/// a fresh order with one item, a fulfilment task per call, and the requests in the core's words
/// (the demo catalog's internet offering for customer CUST-42).
fn variables(order_id: Uuid) -> Value {
    json!({
        "tenantId": TENANT,
        "orderId": order_id,
        "orderItemId": Uuid::now_v7(),
        "correlationId": format!("demo-{order_id}"),
        "reserveInventoryTaskId": Uuid::now_v7(),
        "inventoryRequest": {"sku": "INTERNET-BUSINESS", "quantity": 1},
        "provisionTaskId": Uuid::now_v7(),
        "provisioningRequest": {
            "serviceSpecification": "INTERNET-BUSINESS",
            "customerAccount": "CUST-42",
            "characteristics": {"bandwidthMbps": 500}
        },
        "billingTaskId": Uuid::now_v7(),
        "billingRequest": {
            "billingAccount": "BA-CUST-42",
            "amount": "49.00",
            "currency": "USD",
            "recurrence": "MONTHLY",
            "description": "Internet Business 500 Mbps"
        }
    })
}

/// Deploys the demo process to the gateway at `address` (idempotent) and starts one instance
/// for a new demo order.
pub async fn start(address: &str, workspace_root: &Path) -> Result<DemoOrder> {
    let gateway = Gateway::connect_address(address)
        .await
        .with_context(|| format!("could not reach the workflow gateway at {address}"))?;
    let dir = bpmn_dir(workspace_root);
    deploy_directory(gateway.client(), &dir)
        .await
        .with_context(|| format!("deploying {} to {address} failed", dir.display()))?;
    let order_id = Uuid::now_v7();
    let instance = gateway
        .client()
        .create_process_instance()
        .with_bpmn_process_id(PROCESS_ID.to_owned())
        .with_variables(variables(order_id))
        .map_err(|e| anyhow::anyhow!("the demo order's variables: {e}"))?
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("starting {PROCESS_ID} at {address} failed: {e}"))?;
    Ok(DemoOrder {
        order_id,
        process_instance_key: instance.process_instance_key(),
    })
}

/// The external calls of a demo order that nothing refuses.
const CALLS: usize = 3;

/// Whether the demo order has nothing left to do: every call settled, or one was refused (the
/// instance ends there).
fn settled(operations: &[OperationState]) -> bool {
    let done = |status: &str| matches!(status, "SUCCEEDED" | "REJECTED");
    !operations.is_empty()
        && operations.iter().all(|op| done(&op.status))
        && (operations.len() >= CALLS || operations.iter().any(|op| op.status == "REJECTED"))
}

/// Reads the demo order's operations from the integration service at `base_url` as the demo
/// operator until they settle or [`SETTLE_WAIT`] passes; returns what it saw last.
pub async fn wait_for_outcome(
    http: &reqwest::Client,
    base_url: &str,
    issuer_url: &str,
    directory: &Directory,
    order: &DemoOrder,
) -> Result<Vec<OperationState>> {
    let operator = directory
        .user(OPERATOR)
        .with_context(|| format!("no demo operator {OPERATOR:?} in the identity directory"))?;
    let token =
        crate::token::user_token(http, issuer_url, &operator.username, &operator.password).await?;
    let url = format!("{base_url}/external-operations?orderId={}", order.order_id);
    let began = Instant::now();
    loop {
        let response = http
            .get(&url)
            .bearer_auth(&token)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            bail!("GET {url} answered {status}: {body}");
        }
        let list: OperationList = response
            .json()
            .await
            .with_context(|| format!("GET {url} did not answer an operation list"))?;
        if settled(&list.items) || began.elapsed() >= SETTLE_WAIT {
            return Ok(list.items);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Prints the demo order and where its calls are, then each operation as last seen.
pub fn report(order: &DemoOrder, operations: &[OperationState], integration_url: &str) {
    say(&format!(
        "==> demo external calls: order {} (process instance {} of {PROCESS_ID})",
        order.order_id, order.process_instance_key
    ));
    if operations.is_empty() {
        say(&format!(
            "    no external operation yet after {} s: are the integration workers connected to \
             the gateway? (its log; GET /v1/ops/incidents on the engine)",
            SETTLE_WAIT.as_secs()
        ));
    }
    for op in operations {
        say(&format!(
            "    {:<22} {:<16} {} attempt(s)  key {}",
            op.operation, op.status, op.attempts, op.idempotency_key
        ));
    }
    if !settled(operations) && !operations.is_empty() {
        say(&format!(
            "    not settled after {} s: the workers keep retrying or reconciling \
             (docs/runbooks/integration.md)",
            SETTLE_WAIT.as_secs()
        ));
    }
    say(&format!(
        "    calls     curl -s -H \"Authorization: Bearer $(./dev token ops1)\" \
         '{integration_url}/external-calls?orderId={}'",
        order.order_id
    ));
}

/// Runs one demo order's calls and prints them (`./dev up`'s demo data and `./dev demo-calls`).
pub async fn run(
    http: &reqwest::Client,
    gateway_address: &str,
    workspace_root: &Path,
    integration_url: &str,
    issuer_url: &str,
    directory: &Directory,
) -> Result<DemoOrder> {
    let order = start(gateway_address, workspace_root).await?;
    let operations = wait_for_outcome(http, integration_url, issuer_url, directory, &order)
        .await
        .context("reading the demo order's external operations failed")?;
    report(&order, &operations, integration_url);
    Ok(order)
}

/// `devstack demo-calls`: one more demo order's external calls against the running stack.
pub async fn command() -> Result<ExitCode> {
    let settings = Settings::from_env()?;
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .build()
        .context("could not build the HTTP client")?;
    let integration = settings.service(INTEGRATION)?;
    match services::probe(&http, INTEGRATION, &integration.base_url()).await {
        Probe::AlreadyRunning => {}
        Probe::Free => bail!(
            "integration is not running at {} (start the stack with ./dev up, or set {} if it \
             runs on another port)",
            integration.base_url(),
            integration.spec.port_env
        ),
        Probe::Foreign(what) => bail!(
            "port {} does not belong to integration: {what}",
            integration.port
        ),
    }
    let directory = identity::load_directory(&settings.workspace_root)?;
    run(
        &http,
        &settings.workflow.gateway_address(),
        &settings.workspace_root,
        &integration.base_url(),
        &settings.issuer.url(),
        &directory,
    )
    .await?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(operation: &str, status: &str) -> OperationState {
        OperationState {
            operation: operation.into(),
            status: status.into(),
            attempts: 1,
            idempotency_key: "k".into(),
        }
    }

    #[test]
    fn the_order_settles_when_every_call_did_or_one_was_refused() {
        assert!(!settled(&[]));
        assert!(!settled(&[op("INVENTORY_RESERVE", "SUCCEEDED")]));
        assert!(settled(&[op("INVENTORY_RESERVE", "REJECTED")]));
        assert!(!settled(&[
            op("INVENTORY_RESERVE", "SUCCEEDED"),
            op("PROVISIONING_ACTIVATE", "OUTCOME_UNKNOWN")
        ]));
        assert!(!settled(&[
            op("INVENTORY_RESERVE", "SUCCEEDED"),
            op("PROVISIONING_ACTIVATE", "SUCCEEDED")
        ]));
        assert!(settled(&[
            op("INVENTORY_RESERVE", "SUCCEEDED"),
            op("PROVISIONING_ACTIVATE", "REJECTED")
        ]));
        assert!(settled(&[
            op("INVENTORY_RESERVE", "SUCCEEDED"),
            op("PROVISIONING_ACTIVATE", "SUCCEEDED"),
            op("BILLING_START", "SUCCEEDED")
        ]));
    }

    #[test]
    fn the_variables_carry_the_job_contract() {
        let order = Uuid::now_v7();
        let vars = variables(order);
        assert_eq!(vars["tenantId"], TENANT);
        assert_eq!(vars["orderId"], order.to_string());
        for field in [
            "orderItemId",
            "reserveInventoryTaskId",
            "provisionTaskId",
            "billingTaskId",
        ] {
            assert!(
                vars[field]
                    .as_str()
                    .is_some_and(|id| Uuid::parse_str(id).is_ok())
            );
        }
        assert_eq!(vars["inventoryRequest"]["quantity"], 1);
        assert_eq!(vars["billingRequest"]["amount"], "49.00");
    }

    #[test]
    fn the_demo_process_makes_the_external_calls_of_order_fulfillment() -> Result<()> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .context("workspace root")?;
        let files: Vec<String> = std::fs::read_dir(bpmn_dir(root))?
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(files, ["demo-external-calls.bpmn"]);
        let demo = std::fs::read_to_string(bpmn_dir(root).join(&files[0]))?;
        assert!(demo.contains(&format!("<bpmn:process id=\"{PROCESS_ID}\"")));
        // order-fulfillment runs the plan's external calls as one parallel multi-instance task
        // whose job type and mappings come from each ready task (`order.advance` answers the
        // same job types); the integration workers see the same variables either way.
        let fulfilment =
            std::fs::read_to_string(root.join("workflow/bpmn/order-fulfillment.bpmn"))?;
        for needle in [
            "type=\"=task.jobType\"",
            "source=\"=task.taskId\" target=\"taskId\"",
            "source=\"=task.request\" target=\"request\"",
        ] {
            assert!(fulfilment.contains(needle), "{needle} in order-fulfillment");
        }
        let vars = variables(Uuid::now_v7());
        for (job_type, task_id, request) in [
            (
                "integration.inventory.reserve",
                "reserveInventoryTaskId",
                "inventoryRequest",
            ),
            (
                "integration.provisioning.activate",
                "provisionTaskId",
                "provisioningRequest",
            ),
            (
                "integration.billing.start",
                "billingTaskId",
                "billingRequest",
            ),
        ] {
            for needle in [
                format!("type=\"{job_type}\""),
                format!("source=\"={task_id}\" target=\"taskId\""),
                format!("source=\"={request}\" target=\"request\""),
            ] {
                assert!(demo.contains(&needle), "{needle}");
            }
            assert!(vars[task_id].is_string(), "{task_id}");
            assert!(vars[request].is_object(), "{request}");
        }
        Ok(())
    }
}
