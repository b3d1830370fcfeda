//! The external operations a fulfilment task asks of the integration service. The list is the
//! integration service's closed list (`services/integration/src/domain/system.rs`), repeated
//! here because the order service never links the integration crate: the two meet on the wire
//! names and the job types, which the tests below pin.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One side effect a task asks of a downstream system, through the integration service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FulfilmentOperation {
    /// Hold stock for an order item.
    InventoryReserve,
    /// Give a reservation back.
    InventoryRelease,
    /// Activate a service.
    ProvisioningActivate,
    /// Change an active service.
    ProvisioningModify,
    /// Terminate a service.
    ProvisioningDeactivate,
    /// Start a charge.
    BillingStart,
    /// Stop or reverse a charge.
    BillingReverse,
    /// Mirror the order's status in the CRM.
    CrmUpdateOrderStatus,
    /// Register a signed contract.
    ContractRegister,
    /// Send a customer message.
    NotificationSend,
}

impl FulfilmentOperation {
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

    /// The wire and stored name (`INVENTORY_RESERVE`).
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

    /// Reads a wire or stored name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == value)
    }

    /// The downstream system's name as the integration service stores it (`INVENTORY`).
    pub fn system_name(self) -> &'static str {
        match self {
            Self::InventoryReserve | Self::InventoryRelease => "INVENTORY",
            Self::ProvisioningActivate
            | Self::ProvisioningModify
            | Self::ProvisioningDeactivate => "PROVISIONING",
            Self::BillingStart | Self::BillingReverse => "BILLING",
            Self::CrmUpdateOrderStatus => "CRM",
            Self::ContractRegister => "CONTRACT",
            Self::NotificationSend => "NOTIFICATION",
        }
    }

    /// The operation's name within its system, as the integration job type spells it.
    fn action_name(self) -> &'static str {
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

    /// The job type of the integration worker that performs it:
    /// `integration.<system>.<operation>` (`integration.inventory.reserve`).
    pub fn job_type(self) -> String {
        format!(
            "integration.{}.{}",
            self.system_name().to_ascii_lowercase(),
            self.action_name()
        )
    }
}

impl fmt::Display for FulfilmentOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_job_types_match_the_integration_service() {
        // Copied from the integration service's job types (system.rs): a drift here is a
        // broken contract between the two services.
        let expected = [
            (
                "INVENTORY_RESERVE",
                "INVENTORY",
                "integration.inventory.reserve",
            ),
            (
                "INVENTORY_RELEASE",
                "INVENTORY",
                "integration.inventory.release",
            ),
            (
                "PROVISIONING_ACTIVATE",
                "PROVISIONING",
                "integration.provisioning.activate",
            ),
            (
                "PROVISIONING_MODIFY",
                "PROVISIONING",
                "integration.provisioning.modify",
            ),
            (
                "PROVISIONING_DEACTIVATE",
                "PROVISIONING",
                "integration.provisioning.deactivate",
            ),
            ("BILLING_START", "BILLING", "integration.billing.start"),
            ("BILLING_REVERSE", "BILLING", "integration.billing.reverse"),
            (
                "CRM_UPDATE_ORDER_STATUS",
                "CRM",
                "integration.crm.update-order-status",
            ),
            (
                "CONTRACT_REGISTER",
                "CONTRACT",
                "integration.contract.register",
            ),
            (
                "NOTIFICATION_SEND",
                "NOTIFICATION",
                "integration.notification.send",
            ),
        ];
        assert_eq!(expected.len(), FulfilmentOperation::ALL.len());
        for (operation, (name, system, job_type)) in
            FulfilmentOperation::ALL.into_iter().zip(expected)
        {
            assert_eq!(operation.as_str(), name);
            assert_eq!(FulfilmentOperation::parse(name), Some(operation));
            assert_eq!(operation.system_name(), system);
            assert_eq!(operation.job_type(), job_type);
            assert_eq!(
                serde_json::to_string(&operation).unwrap(),
                format!("\"{name}\"")
            );
        }
        assert_eq!(FulfilmentOperation::parse("inventory_reserve"), None);
    }
}
