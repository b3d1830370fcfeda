//! Decomposition: an order's items, each with its offering version's fulfilment profile, become
//! one plan of fulfilment tasks with dependencies, in a topological order.
//!
//! Rules (specs/order-domain.md):
//! - A NO_CHANGE item gets no task. Any other item needs its profile to declare its action,
//!   else [`DecompositionError::MissingProfile`].
//! - `dependsOn` names task types of the same item; an unknown name is
//!   [`DecompositionError::UnknownDependency`] (the catalog refuses it, so it means a corrupt
//!   profile).
//! - `dependsOnParent` names task types of the parent item's plan when the parent is in the
//!   same order. A name the parent's plan does not have is skipped silently: the parent's action
//!   decides its plan (an add-on added under a NO_CHANGE or MODIFY parent has nothing to wait
//!   for). The same holds for `dependsOnChildren`, per child: a parent's DELETE waits for the
//!   DEACTIVATE_SERVICE of a child that is deleted too, not of one that is kept.
//! - Dependencies across items can form a cycle: [`DecompositionError::Cycle`] names its tasks.
//!
//! The plan's [`Plan::hash`] covers what the plan does, not the task ids it was given, so the
//! same order always decomposes to the same hash and a redelivered decomposition is recognised.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{FulfilmentOperation, FulfilmentProfile, FulfilmentTaskId, ItemAction, OrderItemId};

/// One order item as the decomposition sees it.
#[derive(Debug, Clone, Copy)]
pub struct PlanItem<'a> {
    /// The item.
    pub item: OrderItemId,
    /// What it does.
    pub action: ItemAction,
    /// Its parent item, if it is an add-on.
    pub parent: Option<OrderItemId>,
    /// Its offering version's profile, if the version has one.
    pub profile: Option<&'a FulfilmentProfile>,
}

/// One task of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedTask {
    /// Its id (from the caller's generator).
    pub id: FulfilmentTaskId,
    /// The item it fulfils.
    pub item: OrderItemId,
    /// Its type within the item's action.
    pub task_type: String,
    /// The external operation.
    pub operation: FulfilmentOperation,
    /// Tasks that must succeed first, in sequence order.
    pub depends_on: Vec<FulfilmentTaskId>,
    /// Whether a successful effect can be undone.
    pub reversible: bool,
    /// The undoing operation.
    pub compensation: Option<FulfilmentOperation>,
    /// No compensation after it succeeded.
    pub point_of_no_return: bool,
    /// Its position in the plan (a topological order).
    pub sequence: u32,
}

/// An order's fulfilment plan: tasks in a topological order, `sequence` = index.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// The tasks; every dependency comes before its dependent.
    pub tasks: Vec<PlannedTask>,
}

/// Why an order cannot be decomposed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecompositionError {
    /// The item's offering version has no profile for the item's action.
    #[error("item {item}: its offering version has no fulfilment profile for {action}")]
    MissingProfile {
        /// The item.
        item: OrderItemId,
        /// Its action.
        action: ItemAction,
    },
    /// A template depends on a task type its action does not declare.
    #[error(
        "item {item}: task {task_type} depends on {depends_on}, which the profile does not declare"
    )]
    UnknownDependency {
        /// The item.
        item: OrderItemId,
        /// The dependent task type.
        task_type: String,
        /// The unknown task type.
        depends_on: String,
    },
    /// Dependencies form a cycle (possible across items).
    #[error("the plan's dependencies form a cycle through {}", tasks.join(", "))]
    Cycle {
        /// The tasks on (or between) cycles, as `TASK_TYPE@item`.
        tasks: Vec<String>,
    },
}

impl DecompositionError {
    /// Stable code for fallout and problem responses.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingProfile { .. } => "FULFILMENT_PROFILE_MISSING",
            Self::UnknownDependency { .. } => "PLAN_DEPENDENCY_UNKNOWN",
            Self::Cycle { .. } => "PLAN_CYCLE",
        }
    }
}

/// A task before it has an id and a place.
struct Node<'a> {
    item: OrderItemId,
    template: &'a super::TaskTemplate,
    depends_on: BTreeSet<usize>,
}

/// Decomposes the items into a plan. `new_id` is called once per task, in plan order.
pub fn decompose(
    items: &[PlanItem<'_>],
    new_id: &mut dyn FnMut() -> FulfilmentTaskId,
) -> Result<Plan, DecompositionError> {
    // Every task of every item, items in the given order and templates in profile order.
    let mut nodes: Vec<Node<'_>> = Vec::new();
    // (item, task type) -> node; the first template of a type wins (the catalog keeps them
    // unique within an action).
    let mut by_type: HashMap<(OrderItemId, &str), usize> = HashMap::new();
    for plan_item in items {
        if plan_item.action == ItemAction::NoChange {
            continue;
        }
        let templates = plan_item
            .profile
            .and_then(|p| p.templates(plan_item.action))
            .ok_or(DecompositionError::MissingProfile {
                item: plan_item.item,
                action: plan_item.action,
            })?;
        for template in templates {
            by_type
                .entry((plan_item.item, template.task_type.as_str()))
                .or_insert(nodes.len());
            nodes.push(Node {
                item: plan_item.item,
                template,
                depends_on: BTreeSet::new(),
            });
        }
    }
    let in_order: BTreeSet<OrderItemId> = items.iter().map(|i| i.item).collect();
    let parent_of: HashMap<OrderItemId, OrderItemId> = items
        .iter()
        .filter_map(|i| {
            i.parent
                .filter(|p| in_order.contains(p))
                .map(|p| (i.item, p))
        })
        .collect();
    let mut edges = Vec::with_capacity(nodes.len());
    for (index, node) in nodes.iter().enumerate() {
        let (item, template) = (node.item, node.template);
        if template.depends_on.contains(&template.task_type) {
            // A task depending on itself is the smallest cycle.
            return Err(DecompositionError::Cycle {
                tasks: vec![label(node)],
            });
        }
        let mut depends_on = BTreeSet::new();
        for name in &template.depends_on {
            let found = by_type.get(&(item, name.as_str())).ok_or_else(|| {
                DecompositionError::UnknownDependency {
                    item,
                    task_type: template.task_type.clone(),
                    depends_on: name.clone(),
                }
            })?;
            depends_on.insert(*found);
        }
        if let Some(parent) = parent_of.get(&item) {
            for name in &template.depends_on_parent {
                depends_on.extend(by_type.get(&(*parent, name.as_str())));
            }
        }
        for child in items
            .iter()
            .filter(|i| parent_of.get(&i.item) == Some(&item))
        {
            for name in &template.depends_on_children {
                depends_on.extend(by_type.get(&(child.item, name.as_str())));
            }
        }
        // A duplicate task type resolves to its first template, which may be this one.
        depends_on.remove(&index);
        edges.push(depends_on);
    }
    for (node, depends_on) in nodes.iter_mut().zip(edges) {
        node.depends_on = depends_on;
    }
    let order = topological_order(&nodes)?;
    let mut ids = vec![None; nodes.len()];
    let mut tasks = Vec::with_capacity(nodes.len());
    for (sequence, &index) in order.iter().enumerate() {
        let id = new_id();
        ids[index] = Some(id);
        let node = &nodes[index];
        tasks.push(PlannedTask {
            id,
            item: node.item,
            task_type: node.template.task_type.clone(),
            operation: node.template.operation,
            // Dependencies come earlier in the order, so they have their ids already.
            depends_on: Vec::new(),
            reversible: node.template.reversible,
            compensation: node.template.compensation,
            point_of_no_return: node.template.point_of_no_return,
            sequence: u32::try_from(sequence).unwrap_or(u32::MAX),
        });
    }
    let position: HashMap<usize, usize> = order.iter().enumerate().map(|(p, &i)| (i, p)).collect();
    for (task, &index) in tasks.iter_mut().zip(&order) {
        let mut deps: Vec<usize> = nodes[index]
            .depends_on
            .iter()
            .map(|d| position[d])
            .collect();
        deps.sort_unstable();
        task.depends_on = deps.into_iter().filter_map(|p| ids[order[p]]).collect();
    }
    Ok(Plan { tasks })
}

fn label(node: &Node<'_>) -> String {
    format!("{}@{}", node.template.task_type, node.item)
}

/// Kahn's algorithm, always taking the earliest ready node so the order is deterministic for a
/// given item order.
fn topological_order(nodes: &[Node<'_>]) -> Result<Vec<usize>, DecompositionError> {
    let mut waiting: Vec<usize> = nodes.iter().map(|n| n.depends_on.len()).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (index, node) in nodes.iter().enumerate() {
        for &dep in &node.depends_on {
            dependents[dep].push(index);
        }
    }
    let mut ready: BTreeSet<usize> = (0..nodes.len()).filter(|&i| waiting[i] == 0).collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(next) = ready.pop_first() {
        order.push(next);
        for &dependent in &dependents[next] {
            waiting[dependent] -= 1;
            if waiting[dependent] == 0 {
                ready.insert(dependent);
            }
        }
    }
    if order.len() == nodes.len() {
        return Ok(order);
    }
    // Left: the cycles and what hangs off them. Peel the nodes nothing left depends on, so what
    // remains is on a cycle or between two.
    let placed: BTreeSet<usize> = order.into_iter().collect();
    let mut left: BTreeSet<usize> = (0..nodes.len()).filter(|i| !placed.contains(i)).collect();
    loop {
        let leaves: Vec<usize> = left
            .iter()
            .copied()
            .filter(|&i| !dependents[i].iter().any(|d| left.contains(d)))
            .collect();
        if leaves.is_empty() {
            break;
        }
        for leaf in leaves {
            left.remove(&leaf);
        }
    }
    let mut tasks: Vec<String> = left.into_iter().map(|i| label(&nodes[i])).collect();
    tasks.sort();
    Err(DecompositionError::Cycle { tasks })
}

/// One task in the hash's canonical encoding.
#[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
struct CanonicalTask<'a> {
    item: String,
    task_type: &'a str,
    operation: &'static str,
    depends_on: Vec<(String, &'a str)>,
    reversible: bool,
    compensation: Option<&'static str>,
    point_of_no_return: bool,
}

impl Plan {
    /// Hex SHA-256 of the plan's canonical encoding: the compact JSON array of one array per
    /// task, `[item, taskType, operation, [[dependencyItem, dependencyTaskType], …sorted],
    /// reversible, compensation|null, pointOfNoReturn]`, the tasks sorted. Task ids and
    /// sequence numbers are left out: they depend on the id generator and on the order the
    /// items were given in, not on what the plan does.
    pub fn hash(&self) -> String {
        let by_id: HashMap<FulfilmentTaskId, &PlannedTask> =
            self.tasks.iter().map(|t| (t.id, t)).collect();
        let mut canonical: Vec<CanonicalTask<'_>> = self
            .tasks
            .iter()
            .map(|task| {
                let mut depends_on: Vec<(String, &str)> = task
                    .depends_on
                    .iter()
                    .map(|id| match by_id.get(id) {
                        Some(dep) => (dep.item.to_string(), dep.task_type.as_str()),
                        // Not in the plan: keep the raw id so the hash still differs.
                        None => (id.to_string(), ""),
                    })
                    .collect();
                depends_on.sort();
                CanonicalTask {
                    item: task.item.to_string(),
                    task_type: &task.task_type,
                    operation: task.operation.as_str(),
                    depends_on,
                    reversible: task.reversible,
                    compensation: task.compensation.map(FulfilmentOperation::as_str),
                    point_of_no_return: task.point_of_no_return,
                }
            })
            .collect();
        canonical.sort();
        let tuples: Vec<serde_json::Value> = canonical
            .into_iter()
            .map(|t| {
                serde_json::json!([
                    t.item,
                    t.task_type,
                    t.operation,
                    t.depends_on,
                    t.reversible,
                    t.compensation,
                    t.point_of_no_return
                ])
            })
            .collect();
        let encoded = serde_json::Value::Array(tuples).to_string();
        hex::encode(Sha256::digest(encoded.as_bytes()))
    }

    /// The tasks that depend on nothing: what the first dispatch sends.
    pub fn ready_roots(&self) -> Vec<&PlannedTask> {
        self.tasks
            .iter()
            .filter(|t| t.depends_on.is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests;
