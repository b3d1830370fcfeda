//! The catalog's fulfilment profile as the order reads it (specs/catalog-fulfilment-profile.md):
//! per action, the task templates an item of the offering version decomposes into. The catalog
//! validates the profile when the version is written; the order only reads it, ignoring fields it
//! does not know so the catalog can add some.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{FulfilmentOperation, ItemAction};

/// What it takes to fulfil an offering version, per item action.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfilmentProfile {
    /// An ADD of this offering starts a subscription (add-ons join their parent's).
    #[serde(default)]
    pub starts_subscription: bool,
    /// The task templates per action; an action absent here cannot be decomposed.
    #[serde(default)]
    pub actions: BTreeMap<ItemAction, Vec<TaskTemplate>>,
}

/// One task of an action's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskTemplate {
    /// The task's name within the action (`RESERVE_INVENTORY`), unique there.
    pub task_type: String,
    /// The external operation it performs.
    pub operation: FulfilmentOperation,
    /// Task types of the same item that must succeed first.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Task types of the parent item's plan that must succeed first (an add-on waiting for its
    /// parent), when the parent is in the same order.
    #[serde(default)]
    pub depends_on_parent: Vec<String>,
    /// Task types of the child items' plans that must succeed first (a parent's DELETE waiting
    /// for its add-ons).
    #[serde(default)]
    pub depends_on_children: Vec<String>,
    /// Whether a successful effect can be undone.
    #[serde(default)]
    pub reversible: bool,
    /// The operation that undoes it, when reversible.
    #[serde(default)]
    pub compensation: Option<FulfilmentOperation>,
    /// Once it succeeded, the item can no longer be cancelled by compensation.
    #[serde(default)]
    pub point_of_no_return: bool,
}

impl FulfilmentProfile {
    /// The templates of an action, if the profile declares it.
    pub fn templates(&self, action: ItemAction) -> Option<&[TaskTemplate]> {
        self.actions.get(&action).map(Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_catalog_wire_shape_and_ignores_unknown_fields() {
        let profile: FulfilmentProfile = serde_json::from_value(serde_json::json!({
            "startsSubscription": true,
            "someFutureField": 1,
            "actions": {
                "ADD": [
                    {"taskType": "RESERVE_INVENTORY", "operation": "INVENTORY_RESERVE", "dependsOn": [],
                     "reversible": true, "compensation": "INVENTORY_RELEASE", "pointOfNoReturn": false},
                    {"taskType": "ACTIVATE_SERVICE", "operation": "PROVISIONING_ACTIVATE",
                     "dependsOn": ["RESERVE_INVENTORY"], "dependsOnParent": ["ACTIVATE_SERVICE"],
                     "reversible": true, "compensation": "PROVISIONING_DEACTIVATE", "hint": "x"}
                ],
                "DELETE": [
                    {"taskType": "DEACTIVATE_SERVICE", "operation": "PROVISIONING_DEACTIVATE",
                     "dependsOnChildren": ["DEACTIVATE_SERVICE"], "reversible": false, "compensation": null,
                     "pointOfNoReturn": true}
                ]
            }
        }))
        .unwrap();
        assert!(profile.starts_subscription);
        let add = profile.templates(ItemAction::Add).unwrap();
        assert_eq!(add.len(), 2);
        assert_eq!(add[1].depends_on, ["RESERVE_INVENTORY"]);
        assert_eq!(add[1].depends_on_parent, ["ACTIVATE_SERVICE"]);
        assert!(add[1].depends_on_children.is_empty());
        assert!(!add[1].point_of_no_return);
        assert_eq!(
            add[1].compensation,
            Some(FulfilmentOperation::ProvisioningDeactivate)
        );
        let delete = profile.templates(ItemAction::Delete).unwrap();
        assert_eq!(delete[0].depends_on_children, ["DEACTIVATE_SERVICE"]);
        assert!(delete[0].point_of_no_return);
        assert_eq!(profile.templates(ItemAction::Modify), None);

        let bare: FulfilmentProfile = serde_json::from_value(serde_json::json!({})).unwrap();
        assert_eq!(bare, FulfilmentProfile::default());
    }

    #[test]
    fn an_unknown_operation_is_refused() {
        let refused = serde_json::from_value::<TaskTemplate>(serde_json::json!({
            "taskType": "X", "operation": "TELEPORT"
        }));
        assert!(refused.is_err());
    }
}
