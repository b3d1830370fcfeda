//! The downstream systems and the operations the platform asks of them. The list is closed: a
//! new operation is a new variant, a new job type and a new adapter mapping, reviewed together.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A downstream system the platform talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExternalSystem {
    /// Stock and reservations.
    Inventory,
    /// Network and service activation.
    Provisioning,
    /// Charges and their reversal.
    Billing,
    /// The customer relationship system that mirrors order status.
    Crm,
    /// The contract repository that registers signed contracts.
    Contract,
    /// Customer messages.
    Notification,
}

impl ExternalSystem {
    /// Every system, in configuration order.
    pub const ALL: [Self; 6] = [
        Self::Inventory,
        Self::Provisioning,
        Self::Billing,
        Self::Crm,
        Self::Contract,
        Self::Notification,
    ];

    /// The stored and configured name (`INVENTORY`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inventory => "INVENTORY",
            Self::Provisioning => "PROVISIONING",
            Self::Billing => "BILLING",
            Self::Crm => "CRM",
            Self::Contract => "CONTRACT",
            Self::Notification => "NOTIFICATION",
        }
    }

    /// The lower-case name used in job types and settings (`inventory`).
    pub fn slug(self) -> &'static str {
        match self {
            Self::Inventory => "inventory",
            Self::Provisioning => "provisioning",
            Self::Billing => "billing",
            Self::Crm => "crm",
            Self::Contract => "contract",
            Self::Notification => "notification",
        }
    }

    /// Reads a stored or query name, either case.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(value))
    }

    /// The BPMN error code a business refusal of this system is thrown with; the fulfilment
    /// process catches it on the task's boundary (workflow/README.md).
    pub fn rejection_error_code(self) -> &'static str {
        match self {
            Self::Inventory => "INVENTORY_REJECTED",
            Self::Provisioning => "PROVISIONING_REJECTED",
            Self::Billing => "BILLING_REJECTED",
            Self::Crm => "CRM_REJECTED",
            Self::Contract => "CONTRACT_REJECTED",
            Self::Notification => "NOTIFICATION_REJECTED",
        }
    }
}

impl fmt::Display for ExternalSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One side effect the platform asks of a downstream system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Operation {
    /// Hold stock for an order item.
    InventoryReserve,
    /// Give a reservation back (compensates a reserve).
    InventoryRelease,
    /// Activate a service.
    ProvisioningActivate,
    /// Change an active service's characteristics.
    ProvisioningModify,
    /// Terminate a service (compensates an activation).
    ProvisioningDeactivate,
    /// Start a charge.
    BillingStart,
    /// Stop or reverse a charge (compensates a start).
    BillingReverse,
    /// Mirror an order's status on the customer's CRM account.
    CrmUpdateOrderStatus,
    /// Register a signed contract.
    ContractRegister,
    /// Send a customer message.
    NotificationSend,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Self; 10] = [
        Self::InventoryReserve,
        Self::InventoryRelease,
        Self::ProvisioningActivate,
        Self::ProvisioningModify,
        Self::ProvisioningDeactivate,
        Self::BillingStart,
        Self::BillingReverse,
        Self::CrmUpdateOrderStatus,
        Self::ContractRegister,
        Self::NotificationSend,
    ];

    /// The system it is asked of.
    pub fn system(self) -> ExternalSystem {
        match self {
            Self::InventoryReserve | Self::InventoryRelease => ExternalSystem::Inventory,
            Self::ProvisioningActivate
            | Self::ProvisioningModify
            | Self::ProvisioningDeactivate => ExternalSystem::Provisioning,
            Self::BillingStart | Self::BillingReverse => ExternalSystem::Billing,
            Self::CrmUpdateOrderStatus => ExternalSystem::Crm,
            Self::ContractRegister => ExternalSystem::Contract,
            Self::NotificationSend => ExternalSystem::Notification,
        }
    }

    /// The operation's name within its system (`reserve`), as the job type and the
    /// downstream simulator's effects log spell it.
    pub fn name(self) -> &'static str {
        match self {
            Self::InventoryReserve => "reserve",
            Self::InventoryRelease => "release",
            Self::ProvisioningActivate => "activate",
            Self::ProvisioningModify => "modify",
            Self::ProvisioningDeactivate => "deactivate",
            Self::BillingStart => "start",
            Self::BillingReverse => "reverse",
            Self::CrmUpdateOrderStatus => "update-order-status",
            Self::ContractRegister => "register",
            Self::NotificationSend => "send",
        }
    }

    /// The stored name (`INVENTORY_RESERVE`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InventoryReserve => "INVENTORY_RESERVE",
            Self::InventoryRelease => "INVENTORY_RELEASE",
            Self::ProvisioningActivate => "PROVISIONING_ACTIVATE",
            Self::ProvisioningModify => "PROVISIONING_MODIFY",
            Self::ProvisioningDeactivate => "PROVISIONING_DEACTIVATE",
            Self::BillingStart => "BILLING_START",
            Self::BillingReverse => "BILLING_REVERSE",
            Self::CrmUpdateOrderStatus => "CRM_UPDATE_ORDER_STATUS",
            Self::ContractRegister => "CONTRACT_REGISTER",
            Self::NotificationSend => "NOTIFICATION_SEND",
        }
    }

    /// Reads a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == value)
    }

    /// The job type whose worker performs it: `integration.<system>.<operation>`.
    pub fn job_type(self) -> String {
        format!("integration.{}.{}", self.system().slug(), self.name())
    }

    /// The operation a successful one is undone with, when it can be (state-machines.md,
    /// "Compensation").
    pub fn compensation(self) -> Option<Self> {
        match self {
            Self::InventoryReserve => Some(Self::InventoryRelease),
            Self::ProvisioningActivate => Some(Self::ProvisioningDeactivate),
            Self::BillingStart => Some(Self::BillingReverse),
            _ => None,
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_job_types_are_unique() {
        let mut job_types = std::collections::BTreeSet::new();
        for operation in Operation::ALL {
            assert_eq!(Operation::parse(operation.as_str()), Some(operation));
            assert!(operation.as_str().starts_with(operation.system().as_str()));
            assert!(job_types.insert(operation.job_type()));
        }
        for system in ExternalSystem::ALL {
            assert_eq!(ExternalSystem::parse(system.slug()), Some(system));
        }
        assert_eq!(
            Operation::ProvisioningActivate.job_type(),
            "integration.provisioning.activate"
        );
        assert_eq!(
            Operation::CrmUpdateOrderStatus.job_type(),
            "integration.crm.update-order-status"
        );
    }

    #[test]
    fn compensations_undo_within_the_same_system() {
        for operation in Operation::ALL {
            if let Some(undo) = operation.compensation() {
                assert_eq!(undo.system(), operation.system());
                assert_eq!(undo.compensation(), None);
            }
        }
    }
}
