//! What the core asks for, in the core's words, and what it gets back. The fulfilment process
//! hands a worker the `request` of its task; it is read here into one typed command per
//! operation, checked before anything is sent. The result is the core's view of the effect (a
//! reference and a state), never the downstream's document.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Operation;

/// Why a request cannot become a command: the process passed the wrong variables, which no
/// retry fixes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The JSON does not have the operation's shape.
    #[error("the request of {operation} is not well formed: {detail}")]
    Shape {
        /// The operation.
        operation: Operation,
        /// Where and why (serde's path and message).
        detail: String,
    },
    /// A field is out of its range.
    #[error("the request of {operation}: {field} {reason}")]
    Field {
        /// The operation.
        operation: Operation,
        /// The field.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
}

/// Reserve stock for an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReserveInventory {
    /// The stock-keeping unit (the product offering's code in the core).
    pub sku: String,
    /// How many.
    pub quantity: u32,
    /// Where from, when the item says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
}

/// Give a reservation back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReleaseInventory {
    /// The reservation's external reference, from the reserve's result.
    pub reservation_reference: String,
    /// Why, for the downstream's records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Activate a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ActivateService {
    /// The service specification to activate.
    pub service_specification: String,
    /// The customer's account.
    pub customer_account: String,
    /// The configured characteristics.
    #[serde(default)]
    pub characteristics: BTreeMap<String, Value>,
}

/// Change an active service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModifyService {
    /// The service's external reference, from its activation.
    pub service_reference: String,
    /// The characteristics after the change.
    pub characteristics: BTreeMap<String, Value>,
}

/// Terminate a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeactivateService {
    /// The service's external reference.
    pub service_reference: String,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// How often a charge recurs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Recurrence {
    /// Once.
    OneTime,
    /// Every month.
    Monthly,
    /// Every year.
    Yearly,
}

/// Start a charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartBilling {
    /// The billing account.
    pub billing_account: String,
    /// The amount, as a decimal string (never a float).
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// ISO 4217 code.
    pub currency: String,
    /// How often.
    pub recurrence: Recurrence,
    /// The line the customer sees.
    pub description: String,
    /// The subscription the charge belongs to, when it recurs under one (the order service's
    /// id), so billing can tie charges to the subscription version they were triggered for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    /// That subscription's version when the charge was triggered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_version: Option<u32>,
}

/// Stop or reverse a charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReverseCharge {
    /// The charge's external reference, from its start.
    pub charge_reference: String,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Mirror an order's status in the CRM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateCrmOrderStatus {
    /// The customer's CRM account.
    pub customer_account: String,
    /// The order's status in the core's words.
    pub order_status: String,
    /// A note for the account team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Register a signed contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterContract {
    /// The customer's account.
    pub customer_account: String,
    /// Where the signed document is.
    pub document_reference: String,
    /// When it was signed (ISO-8601).
    pub signed_at: String,
    /// Who signed.
    pub signatory: String,
}

/// How a message reaches the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Channel {
    /// E-mail.
    Email,
    /// Text message.
    Sms,
}

/// Send a customer message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendNotification {
    /// The address or number.
    pub recipient: String,
    /// E-mail or SMS.
    pub channel: Channel,
    /// The template.
    pub template: String,
    /// The template's parameters.
    #[serde(default)]
    pub parameters: BTreeMap<String, Value>,
}

/// One command per operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternalCommand {
    /// [`Operation::InventoryReserve`].
    ReserveInventory(ReserveInventory),
    /// [`Operation::InventoryRelease`].
    ReleaseInventory(ReleaseInventory),
    /// [`Operation::ProvisioningActivate`].
    ActivateService(ActivateService),
    /// [`Operation::ProvisioningModify`].
    ModifyService(ModifyService),
    /// [`Operation::ProvisioningDeactivate`].
    DeactivateService(DeactivateService),
    /// [`Operation::BillingStart`].
    StartBilling(StartBilling),
    /// [`Operation::BillingReverse`].
    ReverseCharge(ReverseCharge),
    /// [`Operation::CrmUpdateOrderStatus`].
    UpdateCrmOrderStatus(UpdateCrmOrderStatus),
    /// [`Operation::ContractRegister`].
    RegisterContract(RegisterContract),
    /// [`Operation::NotificationSend`].
    SendNotification(SendNotification),
}

fn read<T: DeserializeOwned>(operation: Operation, request: &Value) -> Result<T, CommandError> {
    T::deserialize(request).map_err(|e| CommandError::Shape {
        operation,
        detail: e.to_string(),
    })
}

fn text(operation: Operation, field: &'static str, value: &str) -> Result<(), CommandError> {
    if value.trim().is_empty() || value.len() > 200 {
        return Err(CommandError::Field {
            operation,
            field,
            reason: "must be 1 to 200 characters",
        });
    }
    Ok(())
}

impl ExternalCommand {
    /// Reads `request` as `operation`'s command and checks its fields.
    pub fn from_request(operation: Operation, request: &Value) -> Result<Self, CommandError> {
        let command = match operation {
            Operation::InventoryReserve => {
                let c: ReserveInventory = read(operation, request)?;
                text(operation, "sku", &c.sku)?;
                if c.quantity == 0 {
                    return Err(CommandError::Field {
                        operation,
                        field: "quantity",
                        reason: "must be at least 1",
                    });
                }
                Self::ReserveInventory(c)
            }
            Operation::InventoryRelease => {
                let c: ReleaseInventory = read(operation, request)?;
                text(operation, "reservationReference", &c.reservation_reference)?;
                Self::ReleaseInventory(c)
            }
            Operation::ProvisioningActivate => {
                let c: ActivateService = read(operation, request)?;
                text(operation, "serviceSpecification", &c.service_specification)?;
                text(operation, "customerAccount", &c.customer_account)?;
                Self::ActivateService(c)
            }
            Operation::ProvisioningModify => {
                let c: ModifyService = read(operation, request)?;
                text(operation, "serviceReference", &c.service_reference)?;
                Self::ModifyService(c)
            }
            Operation::ProvisioningDeactivate => {
                let c: DeactivateService = read(operation, request)?;
                text(operation, "serviceReference", &c.service_reference)?;
                Self::DeactivateService(c)
            }
            Operation::BillingStart => {
                let c: StartBilling = read(operation, request)?;
                text(operation, "billingAccount", &c.billing_account)?;
                text(operation, "description", &c.description)?;
                if c.currency.len() != 3 || !c.currency.bytes().all(|b| b.is_ascii_uppercase()) {
                    return Err(CommandError::Field {
                        operation,
                        field: "currency",
                        reason: "must be an ISO 4217 code such as EUR",
                    });
                }
                Self::StartBilling(c)
            }
            Operation::BillingReverse => {
                let c: ReverseCharge = read(operation, request)?;
                text(operation, "chargeReference", &c.charge_reference)?;
                Self::ReverseCharge(c)
            }
            Operation::CrmUpdateOrderStatus => {
                let c: UpdateCrmOrderStatus = read(operation, request)?;
                text(operation, "customerAccount", &c.customer_account)?;
                text(operation, "orderStatus", &c.order_status)?;
                Self::UpdateCrmOrderStatus(c)
            }
            Operation::ContractRegister => {
                let c: RegisterContract = read(operation, request)?;
                text(operation, "customerAccount", &c.customer_account)?;
                text(operation, "documentReference", &c.document_reference)?;
                text(operation, "signatory", &c.signatory)?;
                Self::RegisterContract(c)
            }
            Operation::NotificationSend => {
                let c: SendNotification = read(operation, request)?;
                text(operation, "recipient", &c.recipient)?;
                text(operation, "template", &c.template)?;
                Self::SendNotification(c)
            }
        };
        Ok(command)
    }

    /// The command as JSON in the core's words (stored with the operation, never sent as is).
    pub fn to_json(&self) -> Result<Value, serde_json::Error> {
        match self {
            Self::ReserveInventory(c) => serde_json::to_value(c),
            Self::ReleaseInventory(c) => serde_json::to_value(c),
            Self::ActivateService(c) => serde_json::to_value(c),
            Self::ModifyService(c) => serde_json::to_value(c),
            Self::DeactivateService(c) => serde_json::to_value(c),
            Self::StartBilling(c) => serde_json::to_value(c),
            Self::ReverseCharge(c) => serde_json::to_value(c),
            Self::UpdateCrmOrderStatus(c) => serde_json::to_value(c),
            Self::RegisterContract(c) => serde_json::to_value(c),
            Self::SendNotification(c) => serde_json::to_value(c),
        }
    }

    /// The operation this command performs.
    pub fn operation(&self) -> Operation {
        match self {
            Self::ReserveInventory(_) => Operation::InventoryReserve,
            Self::ReleaseInventory(_) => Operation::InventoryRelease,
            Self::ActivateService(_) => Operation::ProvisioningActivate,
            Self::ModifyService(_) => Operation::ProvisioningModify,
            Self::DeactivateService(_) => Operation::ProvisioningDeactivate,
            Self::StartBilling(_) => Operation::BillingStart,
            Self::ReverseCharge(_) => Operation::BillingReverse,
            Self::UpdateCrmOrderStatus(_) => Operation::CrmUpdateOrderStatus,
            Self::RegisterContract(_) => Operation::ContractRegister,
            Self::SendNotification(_) => Operation::NotificationSend,
        }
    }
}

/// The core's view of an applied effect: what to call it by later (a reservation to release, a
/// service to deactivate, a charge to reverse) and the state it is in, in the core's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CoreResult {
    /// The downstream's id of what the effect created or changed, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_reference: Option<String>,
    /// `RESERVED`, `RELEASED`, `ACTIVE`, `TERMINATED`, `CHARGING`, `REVERSED`, `UPDATED`,
    /// `REGISTERED` or `QUEUED`.
    pub external_state: String,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_operation_reads_its_own_shape_and_refuses_others() {
        let good = [
            (
                Operation::InventoryReserve,
                json!({"sku": "ROUTER-X", "quantity": 2}),
            ),
            (
                Operation::InventoryRelease,
                json!({"reservationReference": "RSV-1"}),
            ),
            (
                Operation::ProvisioningActivate,
                json!({"serviceSpecification": "FIBER", "customerAccount": "C-1", "characteristics": {"speed": "1G"}}),
            ),
            (
                Operation::ProvisioningModify,
                json!({"serviceReference": "SVC-1", "characteristics": {}}),
            ),
            (
                Operation::ProvisioningDeactivate,
                json!({"serviceReference": "SVC-1"}),
            ),
            (
                Operation::BillingStart,
                json!({"billingAccount": "BA-1", "amount": "49.90", "currency": "EUR", "recurrence": "MONTHLY", "description": "Fiber"}),
            ),
            (
                Operation::BillingReverse,
                json!({"chargeReference": "CHG-1"}),
            ),
            (
                Operation::CrmUpdateOrderStatus,
                json!({"customerAccount": "C-1", "orderStatus": "COMPLETED"}),
            ),
            (
                Operation::ContractRegister,
                json!({"customerAccount": "C-1", "documentReference": "doc-1", "signedAt": "2026-12-01T10:00:00Z", "signatory": "Ann"}),
            ),
            (
                Operation::NotificationSend,
                json!({"recipient": "a@example.com", "channel": "EMAIL", "template": "order-completed"}),
            ),
        ];
        for (operation, request) in &good {
            let command = ExternalCommand::from_request(*operation, request).unwrap();
            assert_eq!(command.operation(), *operation);
            // The same JSON under another operation is refused (unknown or missing fields).
            for other in Operation::ALL.into_iter().filter(|o| o != operation) {
                assert!(
                    ExternalCommand::from_request(other, request).is_err(),
                    "{other} accepted the request of {operation}"
                );
            }
        }
    }

    #[test]
    fn fields_are_checked_before_anything_is_sent() {
        let cases = [
            (
                Operation::InventoryReserve,
                json!({"sku": "X", "quantity": 0}),
                "quantity",
            ),
            (
                Operation::InventoryReserve,
                json!({"sku": " ", "quantity": 1}),
                "sku",
            ),
            (
                Operation::BillingStart,
                json!({"billingAccount": "BA", "amount": "1", "currency": "eur", "recurrence": "ONE_TIME", "description": "d"}),
                "currency",
            ),
        ];
        for (operation, request, field) in cases {
            match ExternalCommand::from_request(operation, &request) {
                Err(CommandError::Field { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{request}: {other:?}"),
            }
        }
        let float = json!({"billingAccount": "BA", "amount": 1.5, "currency": "EUR", "recurrence": "ONE_TIME", "description": "d"});
        assert!(matches!(
            ExternalCommand::from_request(Operation::BillingStart, &float),
            Err(CommandError::Shape { .. })
        ));
    }
}
