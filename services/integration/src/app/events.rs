//! The integration events a settled operation publishes, and its audit evidence. The payload is
//! the core's view (the JSON Schemas in `contracts/schemas/events/integration.*`), so the order
//! service learns the outcome of its task without ever seeing a downstream's document.

use common_kernel::audit::{AuditResource, Evidence};
use common_kernel::outbox::NewEvent;
use serde::Serialize;
use serde_json::Value;

use crate::domain::key::{FulfilmentTaskId, OrderId, OrderItemId};
use crate::domain::{
    Classification, CoreResult, ExternalOperation, ExternalSystem, Operation, OperationStatus,
};

/// The aggregate type on events and evidence.
pub const AGGREGATE_TYPE: &str = "ExternalOperation";

/// The topic a system's events go to (partitioned by order id, so one order's outcomes stay in
/// order).
pub fn topic(system: ExternalSystem) -> &'static str {
    match system {
        ExternalSystem::Inventory => "integration.inventory.events.v1",
        ExternalSystem::Provisioning => "integration.provisioning.events.v1",
        ExternalSystem::Billing => "integration.billing.events.v1",
        ExternalSystem::Crm | ExternalSystem::Contract | ExternalSystem::Notification => {
            "integration.engagement.events.v1"
        }
    }
}

/// The event type of an operation's success and of its failure.
pub fn event_types(operation: Operation) -> (&'static str, &'static str) {
    match operation {
        Operation::InventoryReserve => (
            "integration.inventory.reservation-succeeded.v1",
            "integration.inventory.reservation-failed.v1",
        ),
        Operation::InventoryRelease => (
            "integration.inventory.release-succeeded.v1",
            "integration.inventory.release-failed.v1",
        ),
        Operation::ProvisioningActivate => (
            "integration.provisioning.activation-succeeded.v1",
            "integration.provisioning.activation-failed.v1",
        ),
        Operation::ProvisioningModify => (
            "integration.provisioning.modification-succeeded.v1",
            "integration.provisioning.modification-failed.v1",
        ),
        Operation::ProvisioningDeactivate => (
            "integration.provisioning.deactivation-succeeded.v1",
            "integration.provisioning.deactivation-failed.v1",
        ),
        Operation::BillingStart => (
            "integration.billing.charge-triggered.v1",
            "integration.billing.charge-failed.v1",
        ),
        Operation::BillingReverse => (
            "integration.billing.charge-reversed.v1",
            "integration.billing.reversal-failed.v1",
        ),
        Operation::CrmUpdateOrderStatus => (
            "integration.crm.order-status-updated.v1",
            "integration.crm.order-status-update-failed.v1",
        ),
        Operation::ContractRegister => (
            "integration.contract.registered.v1",
            "integration.contract.registration-failed.v1",
        ),
        Operation::NotificationSend => (
            "integration.notification.sent.v1",
            "integration.notification.send-failed.v1",
        ),
    }
}

/// Why an operation failed, in a failure event.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailurePayload {
    /// The downstream's code for a refusal; `RETRY_BUDGET_EXHAUSTED` for a spent budget.
    pub code: String,
    /// Its explanation.
    pub message: String,
    /// Whether an operator's retry can still succeed (a spent budget) or not (a refusal).
    pub retryable: bool,
}

/// Every integration event's payload.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationOutcomePayload {
    /// The operation.
    pub external_operation_id: String,
    /// Its key, as the downstream knows it.
    pub idempotency_key: String,
    /// The system.
    pub system: ExternalSystem,
    /// The operation.
    pub operation: Operation,
    /// The order.
    pub order_id: OrderId,
    /// The item, when the effect served one.
    pub order_item_id: Option<OrderItemId>,
    /// The fulfilment task that asked.
    pub task_id: FulfilmentTaskId,
    /// `SUCCEEDED`, `REJECTED_BUSINESS` or `FAILED_TECHNICAL` (budget spent).
    pub outcome: Classification,
    /// The operation's status after the change.
    pub status: OperationStatus,
    /// Attempts sent.
    pub attempts: u32,
    /// The core's view of the effect, when applied.
    pub result: Option<CoreResult>,
    /// Why it failed, when it did.
    pub failure: Option<FailurePayload>,
}

/// The event of a settled or exhausted operation; `None` for any other state.
pub fn outcome_event(operation: &ExternalOperation) -> Result<Option<NewEvent>, serde_json::Error> {
    let identity = operation.identity();
    let (succeeded, failed) = event_types(identity.operation);
    let (event_type, outcome, failure) = match operation.status() {
        OperationStatus::Succeeded => (succeeded, Classification::Succeeded, None),
        OperationStatus::Rejected => {
            let Some(rejection) = operation.rejection() else {
                return Ok(None);
            };
            (
                failed,
                Classification::RejectedBusiness,
                Some(FailurePayload {
                    code: rejection.code.clone(),
                    message: rejection.message.clone(),
                    retryable: false,
                }),
            )
        }
        OperationStatus::Exhausted => (
            failed,
            Classification::FailedTechnical,
            Some(FailurePayload {
                code: "RETRY_BUDGET_EXHAUSTED".into(),
                message: operation
                    .last_error()
                    .unwrap_or("technical failures spent the retry budget")
                    .to_owned(),
                retryable: true,
            }),
        ),
        _ => return Ok(None),
    };
    let payload = OperationOutcomePayload {
        external_operation_id: operation.id().to_string(),
        idempotency_key: operation.key().to_string(),
        system: identity.operation.system(),
        operation: identity.operation,
        order_id: identity.order_id,
        order_item_id: identity.order_item_id,
        task_id: identity.task_id,
        outcome,
        status: operation.status(),
        attempts: operation.attempts(),
        result: operation.result().cloned(),
        failure,
    };
    Ok(Some(NewEvent {
        event_type,
        event_version: 1,
        topic: topic(identity.operation.system()),
        aggregate_type: AGGREGATE_TYPE,
        aggregate_id: operation.id().to_string(),
        aggregate_version: operation.version(),
        partition_key: identity.order_id.to_string(),
        payload: serde_json::to_value(payload)?,
    }))
}

/// A short view of the operation for audit evidence's before and after.
pub fn audit_view(operation: &ExternalOperation) -> Value {
    serde_json::json!({
        "status": operation.status().as_str(),
        "attempts": operation.attempts(),
        "failures": operation.failures(),
        "result": operation.result(),
        "rejection": operation.rejection(),
    })
}

/// Evidence of a change of `operation` from `before`.
pub fn evidence(
    event_type: &'static str,
    before: &ExternalOperation,
    after: &ExternalOperation,
    reason: String,
) -> Evidence {
    Evidence {
        event_type,
        resource: AuditResource {
            resource_type: AGGREGATE_TYPE,
            resource_id: after.id().to_string(),
            resource_version: after.version(),
        },
        business_reason: Some(reason),
        before: Some(audit_view(before)),
        after: Some(audit_view(after)),
        policy: None,
    }
}
