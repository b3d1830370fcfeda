//! How a fulfilment profile is stored: one jsonb document on its offering version row
//! (migration `20261208000001`). The stored form names actions and operations by their wire
//! names and keeps only the compensation (a task is reversible exactly when it has one).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::fulfilment::{FulfilmentProfile, TaskTemplate};

/// A stored fulfilment profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfilmentProfileRecord {
    /// Whether an ADD starts a subscription.
    pub starts_subscription: bool,
    /// Task templates per action name (ADD, MODIFY, DELETE), in declaration order.
    pub actions: BTreeMap<String, Vec<TaskTemplateRecord>>,
}

/// A stored task template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskTemplateRecord {
    /// Task type.
    pub task_type: String,
    /// Operation name.
    pub operation: String,
    /// Same-action dependencies.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Parent-plan dependencies.
    #[serde(default)]
    pub depends_on_parent: Vec<String>,
    /// Children-plan dependencies.
    #[serde(default)]
    pub depends_on_children: Vec<String>,
    /// Compensating operation name; `None` for an irreversible task.
    #[serde(default)]
    pub compensation: Option<String>,
    /// Point of no return.
    #[serde(default)]
    pub point_of_no_return: bool,
}

impl From<&TaskTemplate> for TaskTemplateRecord {
    fn from(t: &TaskTemplate) -> Self {
        Self {
            task_type: t.task_type.clone(),
            operation: t.operation.as_str().to_owned(),
            depends_on: t.depends_on.clone(),
            depends_on_parent: t.depends_on_parent.clone(),
            depends_on_children: t.depends_on_children.clone(),
            compensation: t.compensation.map(|c| c.as_str().to_owned()),
            point_of_no_return: t.point_of_no_return,
        }
    }
}

impl From<&FulfilmentProfile> for FulfilmentProfileRecord {
    fn from(profile: &FulfilmentProfile) -> Self {
        Self {
            starts_subscription: profile.starts_subscription,
            actions: profile
                .actions
                .iter()
                .map(|(action, tasks)| {
                    (
                        action.as_str().to_owned(),
                        tasks.iter().map(Into::into).collect(),
                    )
                })
                .collect(),
        }
    }
}
