//! The fulfilment profile of an offering version: per item action (ADD, MODIFY, DELETE), the
//! task templates the order service turns into fulfilment tasks, and whether adding the offering
//! starts a subscription (ADR 0040). It is part of the version's content, so it is checked
//! here once and frozen with the version on publish.
//!
//! Dependencies inside an action may only name tasks declared earlier in the list: the
//! templates are then already in a valid execution order and a cycle cannot be written down.

use std::collections::{BTreeMap, HashSet};

use super::violation::Violations;

/// Most task templates one action may declare.
pub const MAX_TASKS_PER_ACTION: usize = 20;
/// Most cross-item dependencies (`dependsOnParent`, `dependsOnChildren`) one template may name.
pub const MAX_CROSS_ITEM_DEPENDENCIES: usize = 20;

macro_rules! named_enum {
    ($(#[$meta:meta])* $t:ident { $($(#[$vmeta:meta])* $variant:ident => $name:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $t { $($(#[$vmeta])* $variant),+ }

        impl $t {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// Wire and storage name.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name),+ }
            }

            /// Parses the wire and storage name.
            pub fn parse(value: &str) -> Option<Self> {
                match value { $($name => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

named_enum!(
    /// What an order item does to the customer's installed base. `NO_CHANGE` items have no
    /// tasks, so it is not an action a profile can describe.
    ItemAction {
        /// The offering is added.
        Add => "ADD",
        /// An existing instance changes.
        Modify => "MODIFY",
        /// An existing instance is removed.
        Delete => "DELETE",
    }
);

named_enum!(
    /// An operation of the integration service — the only things a fulfilment task can do.
    Operation {
        /// Reserve network inventory.
        InventoryReserve => "INVENTORY_RESERVE",
        /// Release reserved inventory.
        InventoryRelease => "INVENTORY_RELEASE",
        /// Activate the service.
        ProvisioningActivate => "PROVISIONING_ACTIVATE",
        /// Change an active service.
        ProvisioningModify => "PROVISIONING_MODIFY",
        /// Deactivate the service.
        ProvisioningDeactivate => "PROVISIONING_DEACTIVATE",
        /// Start charging.
        BillingStart => "BILLING_START",
        /// Reverse or stop charging.
        BillingReverse => "BILLING_REVERSE",
        /// Report the order's status to the CRM.
        CrmUpdateOrderStatus => "CRM_UPDATE_ORDER_STATUS",
        /// Register the contract.
        ContractRegister => "CONTRACT_REGISTER",
        /// Notify the customer.
        NotificationSend => "NOTIFICATION_SEND",
    }
);

/// One validated task template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskTemplate {
    /// Name of the task, unique within its action (`^[A-Z][A-Z0-9_]{1,63}$`).
    pub task_type: String,
    /// What the task does.
    pub operation: Operation,
    /// Tasks of the same action that must succeed first; each declared earlier.
    pub depends_on: Vec<String>,
    /// Task types of the parent item's plan this task waits for (add-ons).
    pub depends_on_parent: Vec<String>,
    /// Task types of the add-on items' plans this task waits for.
    pub depends_on_children: Vec<String>,
    /// The operation that undoes the task; `Some` exactly when the task is reversible.
    pub compensation: Option<Operation>,
    /// Once this task succeeded the item can no longer be cancelled.
    pub point_of_no_return: bool,
}

impl TaskTemplate {
    /// Whether a compensation undoes the task.
    pub fn reversible(&self) -> bool {
        self.compensation.is_some()
    }
}

/// A validated fulfilment profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FulfilmentProfile {
    /// Whether an ADD of the offering starts a subscription.
    pub starts_subscription: bool,
    /// Task templates per action, in declaration (and execution) order.
    pub actions: BTreeMap<ItemAction, Vec<TaskTemplate>>,
}

/// A task template as submitted.
#[derive(Debug, Clone, Default)]
pub struct TaskTemplateInput {
    /// Task type.
    pub task_type: String,
    /// Operation name.
    pub operation: String,
    /// Same-action dependencies.
    pub depends_on: Vec<String>,
    /// Parent-plan dependencies.
    pub depends_on_parent: Vec<String>,
    /// Children-plan dependencies.
    pub depends_on_children: Vec<String>,
    /// Whether the task can be undone.
    pub reversible: bool,
    /// Operation name that undoes it.
    pub compensation: Option<String>,
    /// Point of no return.
    pub point_of_no_return: bool,
}

/// A fulfilment profile as submitted: actions keyed by their wire name, so an unknown key is a
/// field error rather than a parse failure.
#[derive(Debug, Clone, Default)]
pub struct FulfilmentProfileInput {
    /// Whether an ADD starts a subscription.
    pub starts_subscription: bool,
    /// Templates per action name.
    pub actions: BTreeMap<String, Vec<TaskTemplateInput>>,
}

/// Validates a profile; every violation is reported under `at` (`/fulfilmentProfile`).
pub fn validate_profile(
    violations: &mut Violations,
    at: &str,
    input: &FulfilmentProfileInput,
) -> FulfilmentProfile {
    let mut actions = BTreeMap::new();
    if input.actions.is_empty() {
        violations.push(
            format!("{at}/actions"),
            "REQUIRED",
            "declare the tasks of at least one of ADD, MODIFY or DELETE (or send no profile)",
        );
    }
    for (name, templates) in &input.actions {
        let path = format!("{at}/actions/{name}");
        let Some(action) = ItemAction::parse(name) else {
            violations.push(
                path,
                "NOT_ALLOWED",
                "must be ADD, MODIFY or DELETE (NO_CHANGE items have no tasks)",
            );
            continue;
        };
        actions.insert(action, validate_action(violations, &path, templates));
    }
    FulfilmentProfile {
        starts_subscription: input.starts_subscription,
        actions,
    }
}

fn validate_action(
    violations: &mut Violations,
    at: &str,
    inputs: &[TaskTemplateInput],
) -> Vec<TaskTemplate> {
    if inputs.is_empty() {
        violations.push(at, "REQUIRED", "an action declares at least one task");
        return Vec::new();
    }
    if inputs.len() > MAX_TASKS_PER_ACTION {
        violations.push(
            at,
            "TOO_MANY",
            format!("at most {MAX_TASKS_PER_ACTION} tasks per action"),
        );
        return Vec::new();
    }
    let declared: HashSet<&str> = inputs.iter().map(|t| t.task_type.as_str()).collect();
    let mut earlier: HashSet<&str> = HashSet::new();
    let mut out = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let task_at = format!("{at}/{i}");
        check_task_type(violations, &format!("{task_at}/taskType"), &input.task_type);
        if earlier.contains(input.task_type.as_str()) {
            violations.push(
                format!("{task_at}/taskType"),
                "DUPLICATE",
                "task types are unique within an action",
            );
        }
        let operation = Operation::parse(&input.operation);
        if operation.is_none() {
            violations.push(
                format!("{task_at}/operation"),
                "NOT_ALLOWED",
                "must be an operation of the integration service",
            );
        }
        check_depends_on(violations, &task_at, input, &declared, &earlier);
        for (field, names) in [
            ("dependsOnParent", &input.depends_on_parent),
            ("dependsOnChildren", &input.depends_on_children),
        ] {
            check_cross_item(violations, &format!("{task_at}/{field}"), names);
        }
        let compensation = check_compensation(violations, &task_at, input);
        earlier.insert(input.task_type.as_str());
        if let Some(operation) = operation {
            out.push(TaskTemplate {
                task_type: input.task_type.clone(),
                operation,
                depends_on: input.depends_on.clone(),
                depends_on_parent: input.depends_on_parent.clone(),
                depends_on_children: input.depends_on_children.clone(),
                compensation,
                point_of_no_return: input.point_of_no_return,
            });
        }
    }
    out
}

/// A task type is an upper-case identifier: a letter, then 1–63 of `A–Z 0–9 _`.
fn is_task_type(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && (2..=64).contains(&name.len())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn check_task_type(violations: &mut Violations, field: &str, name: &str) {
    if !is_task_type(name) {
        violations.push(
            field,
            "INVALID_CODE",
            "must be 2-64 characters of A-Z, 0-9 or '_', starting with a letter",
        );
    }
}

/// Same-action dependencies name tasks declared earlier, each once.
fn check_depends_on(
    violations: &mut Violations,
    task_at: &str,
    input: &TaskTemplateInput,
    declared: &HashSet<&str>,
    earlier: &HashSet<&str>,
) {
    let mut seen = HashSet::new();
    for (j, name) in input.depends_on.iter().enumerate() {
        let field = format!("{task_at}/dependsOn/{j}");
        if !seen.insert(name.as_str()) {
            violations.push(field, "DUPLICATE", "the same dependency is named twice");
        } else if earlier.contains(name.as_str()) {
            // Declared before this task: a valid dependency.
        } else if declared.contains(name.as_str()) {
            violations.push(
                field,
                "FORWARD_REFERENCE",
                "a task may only depend on tasks declared before it in the same action",
            );
        } else {
            violations.push(field, "UNKNOWN_TASK", "no task of this type in the action");
        }
    }
}

/// Cross-item dependencies cannot be resolved here (they name tasks of other offerings' plans),
/// so only their form is checked.
fn check_cross_item(violations: &mut Violations, at: &str, names: &[String]) {
    if names.len() > MAX_CROSS_ITEM_DEPENDENCIES {
        violations.push(
            at,
            "TOO_MANY",
            format!("at most {MAX_CROSS_ITEM_DEPENDENCIES} task types"),
        );
        return;
    }
    let mut seen = HashSet::new();
    for (j, name) in names.iter().enumerate() {
        let field = format!("{at}/{j}");
        check_task_type(violations, &field, name);
        if !seen.insert(name.as_str()) {
            violations.push(field, "DUPLICATE", "the same dependency is named twice");
        }
    }
}

/// A reversible task names the operation that undoes it; an irreversible one names none.
fn check_compensation(
    violations: &mut Violations,
    task_at: &str,
    input: &TaskTemplateInput,
) -> Option<Operation> {
    let field = format!("{task_at}/compensation");
    match (input.reversible, input.compensation.as_deref()) {
        (true, None) => {
            violations.push(
                field,
                "REQUIRED",
                "a reversible task names its compensating operation",
            );
            None
        }
        (false, Some(_)) => {
            violations.push(
                field,
                "NOT_ALLOWED",
                "an irreversible task has no compensation (send null)",
            );
            None
        }
        (true, Some(name)) => {
            let operation = Operation::parse(name);
            if operation.is_none() {
                violations.push(
                    field,
                    "NOT_ALLOWED",
                    "must be an operation of the integration service",
                );
            }
            operation
        }
        (false, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(task_type: &str, operation: &str, depends_on: &[&str]) -> TaskTemplateInput {
        TaskTemplateInput {
            task_type: task_type.into(),
            operation: operation.into(),
            depends_on: depends_on.iter().map(|s| (*s).to_owned()).collect(),
            ..TaskTemplateInput::default()
        }
    }

    fn reversible(mut t: TaskTemplateInput, compensation: &str) -> TaskTemplateInput {
        t.reversible = true;
        t.compensation = Some(compensation.into());
        t
    }

    fn profile(actions: Vec<(&str, Vec<TaskTemplateInput>)>) -> FulfilmentProfileInput {
        FulfilmentProfileInput {
            starts_subscription: true,
            actions: actions
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        }
    }

    /// `(field, code)` of every violation.
    fn refusals(input: &FulfilmentProfileInput) -> Vec<(String, &'static str)> {
        let mut v = Violations::new();
        validate_profile(&mut v, "/fulfilmentProfile", input);
        v.into_vec()
            .into_iter()
            .map(|x| (x.field, x.code))
            .collect()
    }

    fn internet_add() -> Vec<TaskTemplateInput> {
        let mut billing = reversible(
            task(
                "START_BILLING",
                "BILLING_START",
                &["ACTIVATE_SERVICE", "CONFIGURE_CPE"],
            ),
            "BILLING_REVERSE",
        );
        billing.point_of_no_return = true;
        vec![
            reversible(
                task("RESERVE_INVENTORY", "INVENTORY_RESERVE", &[]),
                "INVENTORY_RELEASE",
            ),
            task(
                "CONFIGURE_CPE",
                "PROVISIONING_MODIFY",
                &["RESERVE_INVENTORY"],
            ),
            reversible(
                task(
                    "ACTIVATE_SERVICE",
                    "PROVISIONING_ACTIVATE",
                    &["RESERVE_INVENTORY"],
                ),
                "PROVISIONING_DEACTIVATE",
            ),
            billing,
        ]
    }

    #[test]
    fn a_valid_profile_passes_and_keeps_declaration_order() {
        let mut delete = task("DEACTIVATE_SERVICE", "PROVISIONING_DEACTIVATE", &[]);
        delete.depends_on_children = vec!["DEACTIVATE_SERVICE".into()];
        let mut addon = task("ACTIVATE_SERVICE", "PROVISIONING_ACTIVATE", &[]);
        addon.depends_on_parent = vec!["ACTIVATE_SERVICE".into()];
        let input = profile(vec![
            ("ADD", internet_add()),
            ("DELETE", vec![delete]),
            ("MODIFY", vec![addon]),
        ]);
        let mut v = Violations::new();
        let profile = validate_profile(&mut v, "/fulfilmentProfile", &input);
        assert!(v.is_empty(), "{v:?}");
        assert!(profile.starts_subscription);
        let add = &profile.actions[&ItemAction::Add];
        let order: Vec<&str> = add.iter().map(|t| t.task_type.as_str()).collect();
        assert_eq!(
            order,
            [
                "RESERVE_INVENTORY",
                "CONFIGURE_CPE",
                "ACTIVATE_SERVICE",
                "START_BILLING"
            ]
        );
        assert_eq!(add[0].compensation, Some(Operation::InventoryRelease));
        assert!(!add[1].reversible());
        assert!(add[3].point_of_no_return);
        assert_eq!(
            profile.actions[&ItemAction::Delete][0].depends_on_children,
            ["DEACTIVATE_SERVICE"]
        );
    }

    #[test]
    fn names_round_trip() {
        for op in Operation::ALL {
            assert_eq!(Operation::parse(op.as_str()), Some(*op));
        }
        for action in ItemAction::ALL {
            assert_eq!(ItemAction::parse(action.as_str()), Some(*action));
        }
        assert_eq!(ItemAction::parse("NO_CHANGE"), None);
    }

    #[test]
    fn no_change_and_unknown_actions_are_not_allowed() {
        let input = profile(vec![
            ("NO_CHANGE", vec![task("NOTHING", "NOTIFICATION_SEND", &[])]),
            ("add", vec![task("LOWER", "NOTIFICATION_SEND", &[])]),
        ]);
        assert_eq!(
            refusals(&input),
            [
                (
                    "/fulfilmentProfile/actions/NO_CHANGE".to_owned(),
                    "NOT_ALLOWED"
                ),
                ("/fulfilmentProfile/actions/add".to_owned(), "NOT_ALLOWED"),
            ]
        );
    }

    #[test]
    fn empty_actions_and_empty_action_lists_are_required() {
        assert_eq!(
            refusals(&profile(vec![])),
            [("/fulfilmentProfile/actions".to_owned(), "REQUIRED")]
        );
        assert_eq!(
            refusals(&profile(vec![("MODIFY", vec![])])),
            [("/fulfilmentProfile/actions/MODIFY".to_owned(), "REQUIRED")]
        );
    }

    #[test]
    fn more_than_twenty_tasks_are_too_many() {
        let tasks = (0..=MAX_TASKS_PER_ACTION)
            .map(|i| task(&format!("TASK_{i}"), "NOTIFICATION_SEND", &[]))
            .collect();
        assert_eq!(
            refusals(&profile(vec![("ADD", tasks)])),
            [("/fulfilmentProfile/actions/ADD".to_owned(), "TOO_MANY")]
        );
        let mut many_parents = task("ACTIVATE", "PROVISIONING_ACTIVATE", &[]);
        many_parents.depends_on_parent = (0..=MAX_CROSS_ITEM_DEPENDENCIES)
            .map(|i| format!("PARENT_{i}"))
            .collect();
        assert_eq!(
            refusals(&profile(vec![("ADD", vec![many_parents])])),
            [(
                "/fulfilmentProfile/actions/ADD/0/dependsOnParent".to_owned(),
                "TOO_MANY"
            )]
        );
    }

    #[test]
    fn task_types_are_codes_and_unique_within_the_action() {
        let input = profile(vec![(
            "ADD",
            vec![
                task("RESERVE", "INVENTORY_RESERVE", &[]),
                task("RESERVE", "INVENTORY_RESERVE", &[]),
                task("reserve", "INVENTORY_RESERVE", &[]),
                task("X", "INVENTORY_RESERVE", &[]),
                task("9_LIVES", "INVENTORY_RESERVE", &[]),
            ],
        )]);
        assert_eq!(
            refusals(&input),
            [
                (
                    "/fulfilmentProfile/actions/ADD/1/taskType".to_owned(),
                    "DUPLICATE"
                ),
                (
                    "/fulfilmentProfile/actions/ADD/2/taskType".to_owned(),
                    "INVALID_CODE"
                ),
                (
                    "/fulfilmentProfile/actions/ADD/3/taskType".to_owned(),
                    "INVALID_CODE"
                ),
                (
                    "/fulfilmentProfile/actions/ADD/4/taskType".to_owned(),
                    "INVALID_CODE"
                ),
            ]
        );
        // The same task type in two actions is fine.
        let twice = profile(vec![
            ("ADD", vec![task("NOTIFY", "NOTIFICATION_SEND", &[])]),
            ("DELETE", vec![task("NOTIFY", "NOTIFICATION_SEND", &[])]),
        ]);
        assert!(refusals(&twice).is_empty());
    }

    #[test]
    fn operations_must_be_integration_operations() {
        let input = profile(vec![(
            "ADD",
            vec![
                task("SHIP", "SHIP_PARCEL", &[]),
                reversible(task("RESERVE", "INVENTORY_RESERVE", &[]), "UNDO"),
            ],
        )]);
        assert_eq!(
            refusals(&input),
            [
                (
                    "/fulfilmentProfile/actions/ADD/0/operation".to_owned(),
                    "NOT_ALLOWED"
                ),
                (
                    "/fulfilmentProfile/actions/ADD/1/compensation".to_owned(),
                    "NOT_ALLOWED"
                ),
            ]
        );
    }

    #[test]
    fn dependencies_name_earlier_tasks_of_the_same_action_once() {
        let input = profile(vec![(
            "ADD",
            vec![
                task("FIRST", "INVENTORY_RESERVE", &["SECOND"]),
                task(
                    "SECOND",
                    "PROVISIONING_ACTIVATE",
                    &["SECOND", "FIRST", "FIRST"],
                ),
                task("THIRD", "BILLING_START", &["NOWHERE"]),
            ],
        )]);
        assert_eq!(
            refusals(&input),
            [
                (
                    "/fulfilmentProfile/actions/ADD/0/dependsOn/0".to_owned(),
                    "FORWARD_REFERENCE"
                ),
                (
                    "/fulfilmentProfile/actions/ADD/1/dependsOn/0".to_owned(),
                    "FORWARD_REFERENCE"
                ),
                (
                    "/fulfilmentProfile/actions/ADD/1/dependsOn/2".to_owned(),
                    "DUPLICATE"
                ),
                (
                    "/fulfilmentProfile/actions/ADD/2/dependsOn/0".to_owned(),
                    "UNKNOWN_TASK"
                ),
            ]
        );
        // A task of another action is unknown here, not a forward reference.
        let across = profile(vec![
            ("ADD", vec![task("ACTIVATE", "PROVISIONING_ACTIVATE", &[])]),
            (
                "MODIFY",
                vec![task("CHANGE", "PROVISIONING_MODIFY", &["ACTIVATE"])],
            ),
        ]);
        assert_eq!(
            refusals(&across),
            [(
                "/fulfilmentProfile/actions/MODIFY/0/dependsOn/0".to_owned(),
                "UNKNOWN_TASK"
            )]
        );
    }

    #[test]
    fn cross_item_dependencies_are_task_types_named_once() {
        let mut t = task("ACTIVATE", "PROVISIONING_ACTIVATE", &[]);
        t.depends_on_parent = vec!["ACTIVATE_SERVICE".into(), "ACTIVATE_SERVICE".into()];
        t.depends_on_children = vec!["bad name".into()];
        assert_eq!(
            refusals(&profile(vec![("ADD", vec![t])])),
            [
                (
                    "/fulfilmentProfile/actions/ADD/0/dependsOnParent/1".to_owned(),
                    "DUPLICATE"
                ),
                (
                    "/fulfilmentProfile/actions/ADD/0/dependsOnChildren/0".to_owned(),
                    "INVALID_CODE"
                ),
            ]
        );
    }

    #[test]
    fn compensation_is_required_exactly_when_reversible() {
        let mut missing = task("RESERVE", "INVENTORY_RESERVE", &[]);
        missing.reversible = true;
        let mut extra = task("ACTIVATE", "PROVISIONING_ACTIVATE", &[]);
        extra.compensation = Some("PROVISIONING_DEACTIVATE".into());
        assert_eq!(
            refusals(&profile(vec![("ADD", vec![missing, extra])])),
            [
                (
                    "/fulfilmentProfile/actions/ADD/0/compensation".to_owned(),
                    "REQUIRED"
                ),
                (
                    "/fulfilmentProfile/actions/ADD/1/compensation".to_owned(),
                    "NOT_ALLOWED"
                ),
            ]
        );
    }
}
