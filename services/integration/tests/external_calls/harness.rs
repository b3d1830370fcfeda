//! Test set-up: a migrated integration database, the simulator process, an executor whose
//! adapters point at it with short timeouts and a small budget, and readers of the call log
//! and the effects log.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common_kernel::context::{ActorType, RequestContext};
use common_kernel::db;
use common_kernel::settings::{DatabaseSettings, Secret, app_database_url};
use domain_kernel::access::{Authority, Role};
use domain_kernel::{ActorId, TenantId};
use downstream_sim::harness::SimProcess;
use integration::app::{ExecuteRequest, Executor};
use integration::domain::key::{FulfilmentTaskId, OrderId, OrderItemId};
use integration::domain::{
    BusinessIdentity, ExternalCommand, ExternalSystem, IdempotencyKey, Operation, RetryBudget, Step,
};
use integration::infra::HttpDownstream;
use integration::infra::adapters::SystemEndpoint;
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::TestDatabase;

const SCHEMA: &str = "integration_schema";
/// The tenant of every test.
pub const TENANT: &str = "acme";
/// The attempts each system's budget allows in these tests.
pub const BUDGET: u32 = 3;

async fn connect(url: String) -> PgPool {
    let settings = DatabaseSettings {
        url: Secret::new(url),
        max_connections: 8,
        acquire_timeout: Duration::from_secs(10),
    };
    db::connect(&settings, SCHEMA).await.expect("pool")
}

/// A migrated database, the simulator and an executor wired to both.
pub struct World {
    _database: TestDatabase,
    /// The owner's pool, to read the log across tenants.
    pub owner: PgPool,
    /// The simulator process.
    pub sim: SimProcess,
    /// The command under test.
    pub executor: Executor,
}

/// The simulator's system name of `system`.
pub fn sim_name(system: ExternalSystem) -> &'static str {
    system.slug()
}

impl World {
    /// Starts everything; `timeout` is every system's attempt timeout.
    pub async fn start(timeout: Duration) -> Self {
        let platform = Path::new(messaging::schema::MIGRATIONS_DIR);
        let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/integration");
        let database = TestDatabase::from_template_of(
            "integration",
            &[platform, &migrations],
            |url| async move {
                let pool = connect(url).await;
                messaging::schema::migrate(&pool, SCHEMA, &integration::MIGRATOR)
                    .await
                    .expect("migrate template");
                pool.close().await;
            },
        )
        .await;
        let app = connect(app_database_url(&database.url, "integration_app")).await;
        let owner = connect(database.url.clone()).await;
        let sim = SimProcess::start_default().await;
        let systems: BTreeMap<ExternalSystem, SystemEndpoint> = ExternalSystem::ALL
            .into_iter()
            .map(|system| {
                (
                    system,
                    SystemEndpoint {
                        base_url: sim.system_url(sim_name(system)),
                        timeout,
                        budget: RetryBudget {
                            max_attempts: BUDGET,
                            base_backoff: Duration::from_millis(100),
                            max_backoff: Duration::from_millis(400),
                        },
                        token: None,
                    },
                )
            })
            .collect();
        let downstream = HttpDownstream::new(systems).expect("client");
        Self {
            _database: database,
            owner,
            sim,
            executor: Executor::new(app, Arc::new(downstream)),
        }
    }

    /// Runs `request` once as the workflow worker.
    pub async fn execute(&self, request: &ExecuteRequest) -> Step {
        self.executor
            .execute(&worker(), request)
            .await
            .expect("the command runs")
    }

    /// The call log of `key`, oldest first: (kind, class or finding, failure code).
    pub async fn calls(&self, key: &IdempotencyKey) -> Vec<(String, String, Option<String>)> {
        super::log::calls(&self.owner, key).await
    }

    /// The operation's status and attempts.
    pub async fn operation(&self, key: &IdempotencyKey) -> (String, i32) {
        sqlx::query_as("SELECT status, attempts FROM external_operation WHERE idempotency_key = $1")
            .bind(key.as_str())
            .fetch_one(&self.owner)
            .await
            .expect("operation")
    }

    /// Events of the outbox for the operation of `key`: their types.
    pub async fn events(&self, key: &IdempotencyKey) -> Vec<String> {
        super::log::events(&self.owner, key).await
    }

    /// How many times the simulator applied the effect of `key` (0 when never).
    pub async fn effects(&self, system: ExternalSystem, key: &IdempotencyKey) -> u64 {
        self.sim
            .effects(sim_name(system), key.as_str())
            .await
            .iter()
            .map(|effect| effect.count)
            .sum()
    }

    /// Injects a fault.
    pub async fn fault(&self, fault: Value) {
        self.sim.add_fault(fault).await;
    }
}

/// The workflow worker's context in the test tenant.
pub fn worker() -> RequestContext {
    RequestContext::system(
        TenantId::parse(TENANT).expect("tenant"),
        ActorId::parse("integration-worker").expect("actor"),
        ActorType::WorkflowWorker,
        "workflow",
        Authority {
            roles: vec![Role::WorkflowWorker],
            client: "integration".into(),
            ..Authority::default()
        },
    )
}

/// A request for `operation` in a new order and task.
pub fn request(operation: Operation, body: Value) -> ExecuteRequest {
    ExecuteRequest {
        identity: BusinessIdentity {
            tenant: TenantId::parse(TENANT).expect("tenant"),
            order_id: OrderId::generate(),
            order_item_id: Some(OrderItemId::generate()),
            task_id: FulfilmentTaskId::generate(),
            operation,
        },
        command: ExternalCommand::from_request(operation, &body).expect("a valid command"),
        job_key: None,
    }
}

/// The key of `request`.
pub fn key(request: &ExecuteRequest) -> IdempotencyKey {
    IdempotencyKey::derive(&request.identity)
}

/// A core command body for every operation; `reference` names what the compensating and
/// changing operations act on (from an earlier success).
pub fn body(operation: Operation, reference: &str) -> Value {
    match operation {
        Operation::InventoryReserve => json!({"sku": "ROUTER-X", "quantity": 1}),
        Operation::InventoryRelease => json!({"reservationReference": reference}),
        Operation::ProvisioningActivate => json!({
            "serviceSpecification": "FIBER-1G", "customerAccount": "C-100",
            "characteristics": {"bandwidth": "1G"}
        }),
        Operation::ProvisioningModify => {
            json!({"serviceReference": reference, "characteristics": {"bandwidth": "2G"}})
        }
        Operation::ProvisioningDeactivate => json!({"serviceReference": reference}),
        Operation::BillingStart => json!({
            "billingAccount": "BA-100", "amount": "49.90", "currency": "EUR",
            "recurrence": "MONTHLY", "description": "Fiber 1G"
        }),
        Operation::BillingReverse => json!({"chargeReference": reference}),
        Operation::CrmUpdateOrderStatus => {
            json!({"customerAccount": "C-100", "orderStatus": "IN_PROGRESS"})
        }
        Operation::ContractRegister => json!({
            "customerAccount": "C-100", "documentReference": "doc-7",
            "signedAt": "2026-12-01T10:00:00Z", "signatory": "Ann Buyer"
        }),
        Operation::NotificationSend => json!({
            "recipient": "ann@example.com", "channel": "EMAIL", "template": "order-received"
        }),
    }
}

/// The operation whose success gives `operation` the reference it acts on.
pub fn prerequisite(operation: Operation) -> Option<Operation> {
    match operation {
        Operation::InventoryRelease => Some(Operation::InventoryReserve),
        Operation::ProvisioningModify | Operation::ProvisioningDeactivate => {
            Some(Operation::ProvisioningActivate)
        }
        Operation::BillingReverse => Some(Operation::BillingStart),
        _ => None,
    }
}

impl World {
    /// A valid request for `operation`, running its prerequisite first when it has one.
    pub async fn ready_request(&self, operation: Operation) -> ExecuteRequest {
        let reference = match prerequisite(operation) {
            Some(first) => match self.execute(&request(first, body(first, ""))).await {
                Step::Done(result) => result.external_reference.expect("a reference"),
                other => panic!("{first} did not succeed: {other:?}"),
            },
            None => String::new(),
        };
        request(operation, body(operation, &reference))
    }
}
