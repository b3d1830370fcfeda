//! The order the scenarios run: its start variables and the fixed plan (a DAG of four
//! fulfilment tasks over two items) that the stand-in `order.advance` dispatches.

use serde_json::{Value, json};

pub const RESERVE_INVENTORY: &str = "0192f2b4-3c1e-7a51-9a3b-5d9e8c7b6a01";
pub const ACTIVATE_SERVICE: &str = "0192f2b4-3c1e-7a51-9a3b-5d9e8c7b6a02";
pub const CONFIGURE_CPE: &str = "0192f2b4-3c1e-7a51-9a3b-5d9e8c7b6a03";
pub const START_BILLING: &str = "0192f2b4-3c1e-7a51-9a3b-5d9e8c7b6a04";
pub const FIBER_ITEM: &str = "0192f2b4-3c1e-7a51-9a3b-5d9e8c7b6b01";
pub const CPE_ITEM: &str = "0192f2b4-3c1e-7a51-9a3b-5d9e8c7b6b02";

/// One task of the plan `order.advance` holds.
pub struct PlannedTask {
    pub task_id: &'static str,
    pub order_item_id: &'static str,
    pub task_type: &'static str,
    pub job_type: &'static str,
    /// The tasks that must have succeeded first.
    pub after: &'static [&'static str],
}

/// RESERVE_INVENTORY → {ACTIVATE_SERVICE, CONFIGURE_CPE} → START_BILLING, in plan order.
pub const PLAN: [PlannedTask; 4] = [
    PlannedTask {
        task_id: RESERVE_INVENTORY,
        order_item_id: FIBER_ITEM,
        task_type: "RESERVE_INVENTORY",
        job_type: "integration.inventory.reserve",
        after: &[],
    },
    PlannedTask {
        task_id: ACTIVATE_SERVICE,
        order_item_id: FIBER_ITEM,
        task_type: "ACTIVATE_SERVICE",
        job_type: "integration.provisioning.activate",
        after: &[RESERVE_INVENTORY],
    },
    PlannedTask {
        task_id: CONFIGURE_CPE,
        order_item_id: CPE_ITEM,
        task_type: "CONFIGURE_CPE",
        job_type: "integration.provisioning.activate",
        after: &[RESERVE_INVENTORY],
    },
    PlannedTask {
        task_id: START_BILLING,
        order_item_id: FIBER_ITEM,
        task_type: "START_BILLING",
        job_type: "integration.billing.start",
        after: &[ACTIVATE_SERVICE, CONFIGURE_CPE],
    },
];

/// The independent tasks, answered by `order.advance` in one batch.
pub const PARALLEL: [&str; 2] = [ACTIVATE_SERVICE, CONFIGURE_CPE];

/// The command of a task, in the core's words (`integration::domain::command`).
pub fn request(task_id: &str) -> Value {
    match task_id {
        RESERVE_INVENTORY => json!({"sku": "FIBER-ONT", "quantity": 1}),
        ACTIVATE_SERVICE => json!({"serviceSpecification": "FIBER-1G",
            "customerAccount": "cust-42", "characteristics": {"speed": "1G"}}),
        CONFIGURE_CPE => json!({"serviceSpecification": "CPE-XR500",
            "customerAccount": "cust-42", "characteristics": {"wifi": "6"}}),
        START_BILLING => json!({"billingAccount": "BA-42", "amount": "49.90",
            "currency": "EUR", "recurrence": "MONTHLY", "description": "Fiber 1G"}),
        other => panic!("no task {other} in the plan"),
    }
}

fn planned(task_id: &str) -> &'static PlannedTask {
    PLAN.iter()
        .find(|t| t.task_id == task_id)
        .unwrap_or_else(|| panic!("no task {task_id} in the plan"))
}

/// The reference the downstream knows a task's effect by.
pub fn reference(task_id: &str) -> String {
    let prefix = match planned(task_id).job_type {
        "integration.inventory.reserve" => "res",
        "integration.provisioning.activate" => "svc",
        _ => "chg",
    };
    format!("{prefix}-{}", &task_id[task_id.len() - 2..])
}

/// The idempotency key of one task's effect (shared by every attempt).
pub fn idempotency_key(order_id: &str, task_id: &str) -> String {
    format!("{order_id}:{task_id}:{}", planned(task_id).job_type)
}

/// The start variables, as the order service's process starter sets them.
pub fn order(order_id: &str) -> Value {
    json!({"tenantId": "demo", "orderId": order_id, "customerId": "cust-42",
           "correlationId": format!("corr-{order_id}")})
}

/// One element of `taskResults` for a task that succeeded (the model's `outputElement`).
pub fn succeeded(order_id: &str, task_id: &str) -> Value {
    json!({"taskId": task_id, "call": {"idempotencyKey": idempotency_key(order_id, task_id),
                                       "outcome": "SUCCEEDED",
                                       "externalReference": reference(task_id)}})
}

/// The jobs of an order that runs the whole plan, in the order they answer.
pub const HAPPY_PATH: [&str; 11] = [
    "order.validate",
    "order.decompose",
    "order.advance",
    "integration.inventory.reserve",
    "order.advance",
    "integration.provisioning.activate",
    "integration.provisioning.activate",
    "order.advance",
    "integration.billing.start",
    "order.advance",
    "order.complete",
];

/// Variables that belong to one inner instance of the multi-instance (its input mappings,
/// input element, loop counter and job output) and must never reach the process scope.
pub const INNER_LOCALS: [&str; 6] = [
    "externalCall",
    "taskId",
    "orderItemId",
    "request",
    "task",
    "loopCounter",
];
