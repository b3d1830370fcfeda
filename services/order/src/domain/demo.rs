//! The demo offerings' fulfilment profiles (specs/catalog-fulfilment-profile.md, "Demo data"),
//! in the catalog's wire shape, for the decomposition, aggregate and property tests.

use serde_json::json;

use super::FulfilmentProfile;

fn parse(value: serde_json::Value) -> FulfilmentProfile {
    serde_json::from_value(value).unwrap()
}

/// Business Internet.
pub fn internet() -> FulfilmentProfile {
    parse(json!({
        "startsSubscription": true,
        "actions": {
            "ADD": [
                {"taskType": "RESERVE_INVENTORY", "operation": "INVENTORY_RESERVE",
                 "reversible": true, "compensation": "INVENTORY_RELEASE"},
                {"taskType": "CONFIGURE_CPE", "operation": "PROVISIONING_MODIFY",
                 "dependsOn": ["RESERVE_INVENTORY"], "reversible": false},
                {"taskType": "ACTIVATE_SERVICE", "operation": "PROVISIONING_ACTIVATE",
                 "dependsOn": ["RESERVE_INVENTORY"], "reversible": true,
                 "compensation": "PROVISIONING_DEACTIVATE"},
                {"taskType": "START_BILLING", "operation": "BILLING_START",
                 "dependsOn": ["ACTIVATE_SERVICE", "CONFIGURE_CPE"], "reversible": true,
                 "compensation": "BILLING_REVERSE", "pointOfNoReturn": true}
            ],
            "MODIFY": [
                {"taskType": "MODIFY_SERVICE", "operation": "PROVISIONING_MODIFY"},
                {"taskType": "UPDATE_BILLING", "operation": "BILLING_START",
                 "dependsOn": ["MODIFY_SERVICE"], "reversible": true,
                 "compensation": "BILLING_REVERSE", "pointOfNoReturn": true}
            ],
            "DELETE": [
                {"taskType": "DEACTIVATE_SERVICE", "operation": "PROVISIONING_DEACTIVATE",
                 "dependsOnChildren": ["DEACTIVATE_SERVICE"], "pointOfNoReturn": true},
                {"taskType": "STOP_BILLING", "operation": "BILLING_REVERSE",
                 "dependsOn": ["DEACTIVATE_SERVICE"]},
                {"taskType": "RELEASE_INVENTORY", "operation": "INVENTORY_RELEASE",
                 "dependsOn": ["DEACTIVATE_SERVICE"]}
            ]
        }
    }))
}

/// Managed Router.
pub fn router() -> FulfilmentProfile {
    parse(json!({
        "startsSubscription": false,
        "actions": {
            "ADD": [
                {"taskType": "RESERVE_INVENTORY", "operation": "INVENTORY_RESERVE",
                 "reversible": true, "compensation": "INVENTORY_RELEASE"},
                {"taskType": "ACTIVATE_SERVICE", "operation": "PROVISIONING_ACTIVATE",
                 "dependsOn": ["RESERVE_INVENTORY"], "reversible": true,
                 "compensation": "PROVISIONING_DEACTIVATE"},
                {"taskType": "START_BILLING", "operation": "BILLING_START",
                 "dependsOn": ["ACTIVATE_SERVICE"], "reversible": true,
                 "compensation": "BILLING_REVERSE", "pointOfNoReturn": true}
            ],
            "MODIFY": [
                {"taskType": "MODIFY_SERVICE", "operation": "PROVISIONING_MODIFY"}
            ],
            "DELETE": [
                {"taskType": "DEACTIVATE_SERVICE", "operation": "PROVISIONING_DEACTIVATE",
                 "pointOfNoReturn": true},
                {"taskType": "RELEASE_INVENTORY", "operation": "INVENTORY_RELEASE",
                 "dependsOn": ["DEACTIVATE_SERVICE"]}
            ]
        }
    }))
}

/// Static IP, an add-on of Business Internet.
pub fn static_ip() -> FulfilmentProfile {
    parse(json!({
        "startsSubscription": false,
        "actions": {
            "ADD": [
                {"taskType": "RESERVE_INVENTORY", "operation": "INVENTORY_RESERVE",
                 "reversible": true, "compensation": "INVENTORY_RELEASE"},
                {"taskType": "ACTIVATE_SERVICE", "operation": "PROVISIONING_ACTIVATE",
                 "dependsOn": ["RESERVE_INVENTORY"], "dependsOnParent": ["ACTIVATE_SERVICE"],
                 "reversible": true, "compensation": "PROVISIONING_DEACTIVATE"},
                {"taskType": "START_BILLING", "operation": "BILLING_START",
                 "dependsOn": ["ACTIVATE_SERVICE"], "reversible": true,
                 "compensation": "BILLING_REVERSE", "pointOfNoReturn": true}
            ],
            "MODIFY": [
                {"taskType": "MODIFY_SERVICE", "operation": "PROVISIONING_MODIFY"}
            ],
            "DELETE": [
                {"taskType": "DEACTIVATE_SERVICE", "operation": "PROVISIONING_DEACTIVATE",
                 "pointOfNoReturn": true},
                {"taskType": "STOP_BILLING", "operation": "BILLING_REVERSE",
                 "dependsOn": ["DEACTIVATE_SERVICE"]}
            ]
        }
    }))
}
