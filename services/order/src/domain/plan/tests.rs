use std::collections::HashMap;

use super::super::TaskTemplate;
use super::super::demo;
use super::*;

fn ids() -> impl FnMut() -> FulfilmentTaskId {
    FulfilmentTaskId::generate
}

fn item(
    id: OrderItemId,
    action: ItemAction,
    parent: Option<OrderItemId>,
    profile: Option<&FulfilmentProfile>,
) -> PlanItem<'_> {
    PlanItem {
        item: id,
        action,
        parent,
        profile,
    }
}

/// `TASK_TYPE@item` → the `TASK_TYPE@item` labels it depends on.
fn edges(plan: &Plan, names: &HashMap<OrderItemId, &str>) -> HashMap<String, Vec<String>> {
    let label = |t: &PlannedTask| format!("{}@{}", t.task_type, names[&t.item]);
    let by_id: HashMap<_, _> = plan.tasks.iter().map(|t| (t.id, t)).collect();
    plan.tasks
        .iter()
        .map(|t| {
            let mut deps: Vec<String> = t.depends_on.iter().map(|d| label(by_id[d])).collect();
            deps.sort();
            (label(t), deps)
        })
        .collect()
}

fn assert_topological(plan: &Plan) {
    let position: HashMap<_, _> = plan
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id, i))
        .collect();
    for (index, task) in plan.tasks.iter().enumerate() {
        assert_eq!(task.sequence as usize, index);
        for dep in &task.depends_on {
            assert!(
                position[dep] < index,
                "{} before its dependency",
                task.task_type
            );
        }
    }
}

#[test]
fn the_demo_add_order_gives_ten_tasks_with_the_profiles_edges() {
    let (internet, router, static_ip) = (demo::internet(), demo::router(), demo::static_ip());
    let (i, r, s) = (
        OrderItemId::generate(),
        OrderItemId::generate(),
        OrderItemId::generate(),
    );
    let names = HashMap::from([(i, "internet"), (r, "router"), (s, "ip")]);
    let plan = decompose(
        &[
            item(i, ItemAction::Add, None, Some(&internet)),
            item(r, ItemAction::Add, None, Some(&router)),
            item(s, ItemAction::Add, Some(i), Some(&static_ip)),
        ],
        &mut ids(),
    )
    .unwrap();
    assert_eq!(plan.tasks.len(), 10);
    assert_topological(&plan);
    let e = edges(&plan, &names);
    let expect = |task: &str, deps: &[&str]| {
        assert_eq!(
            e[task],
            deps.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            "{task}"
        );
    };
    expect("RESERVE_INVENTORY@internet", &[]);
    expect("CONFIGURE_CPE@internet", &["RESERVE_INVENTORY@internet"]);
    expect("ACTIVATE_SERVICE@internet", &["RESERVE_INVENTORY@internet"]);
    expect(
        "START_BILLING@internet",
        &["ACTIVATE_SERVICE@internet", "CONFIGURE_CPE@internet"],
    );
    expect("RESERVE_INVENTORY@router", &[]);
    expect("ACTIVATE_SERVICE@router", &["RESERVE_INVENTORY@router"]);
    expect("START_BILLING@router", &["ACTIVATE_SERVICE@router"]);
    expect("RESERVE_INVENTORY@ip", &[]);
    // The add-on's activation waits for its parent's.
    expect(
        "ACTIVATE_SERVICE@ip",
        &["ACTIVATE_SERVICE@internet", "RESERVE_INVENTORY@ip"],
    );
    expect("START_BILLING@ip", &["ACTIVATE_SERVICE@ip"]);
    let billing = plan
        .tasks
        .iter()
        .find(|t| t.item == i && t.task_type == "START_BILLING")
        .unwrap();
    assert_eq!(billing.operation, FulfilmentOperation::BillingStart);
    assert!(billing.reversible && billing.point_of_no_return);
    assert_eq!(
        billing.compensation,
        Some(FulfilmentOperation::BillingReverse)
    );
    assert_eq!(plan.ready_roots().len(), 3);
}

#[test]
fn a_parents_delete_waits_for_its_deleted_add_ons_deactivation() {
    let (internet, static_ip) = (demo::internet(), demo::static_ip());
    let (i, s) = (OrderItemId::generate(), OrderItemId::generate());
    let names = HashMap::from([(i, "internet"), (s, "ip")]);
    let plan = decompose(
        &[
            item(i, ItemAction::Delete, None, Some(&internet)),
            item(s, ItemAction::Delete, Some(i), Some(&static_ip)),
        ],
        &mut ids(),
    )
    .unwrap();
    assert_eq!(plan.tasks.len(), 5);
    assert_topological(&plan);
    let e = edges(&plan, &names);
    assert_eq!(e["DEACTIVATE_SERVICE@internet"], ["DEACTIVATE_SERVICE@ip"]);
    assert_eq!(e["STOP_BILLING@internet"], ["DEACTIVATE_SERVICE@internet"]);
    assert_eq!(e["DEACTIVATE_SERVICE@ip"], Vec::<String>::new());
    // The add-on's tasks come first in the plan, whatever the item order.
    assert_eq!(plan.tasks[0].item, s);

    // A kept add-on (NO_CHANGE) has no plan: nothing to wait for, silently.
    let kept = decompose(
        &[
            item(i, ItemAction::Delete, None, Some(&internet)),
            item(s, ItemAction::NoChange, Some(i), None),
        ],
        &mut ids(),
    )
    .unwrap();
    assert_eq!(kept.tasks.len(), 3);
    assert!(kept.tasks.iter().all(|t| t.item == i));
    assert!(kept.tasks[0].depends_on.is_empty());
}

#[test]
fn an_add_on_under_a_parent_without_that_task_type_skips_the_dependency() {
    let (internet, static_ip) = (demo::internet(), demo::static_ip());
    let (i, s) = (OrderItemId::generate(), OrderItemId::generate());
    // The parent is modified: its plan has no ACTIVATE_SERVICE.
    let plan = decompose(
        &[
            item(i, ItemAction::Modify, None, Some(&internet)),
            item(s, ItemAction::Add, Some(i), Some(&static_ip)),
        ],
        &mut ids(),
    )
    .unwrap();
    let activate = plan
        .tasks
        .iter()
        .find(|t| t.item == s && t.task_type == "ACTIVATE_SERVICE")
        .unwrap();
    assert_eq!(activate.depends_on.len(), 1);
    // A parent outside the order is no dependency either.
    let alone = decompose(
        &[item(s, ItemAction::Add, Some(i), Some(&static_ip))],
        &mut ids(),
    )
    .unwrap();
    assert_eq!(alone.tasks.len(), 3);
}

#[test]
fn no_change_items_get_no_task_and_missing_profiles_are_refused() {
    let internet = demo::internet();
    let (i, j) = (OrderItemId::generate(), OrderItemId::generate());
    let plan = decompose(&[item(i, ItemAction::NoChange, None, None)], &mut ids()).unwrap();
    assert!(plan.tasks.is_empty());

    let refused = decompose(&[item(j, ItemAction::Add, None, None)], &mut ids()).unwrap_err();
    assert_eq!(
        refused,
        DecompositionError::MissingProfile {
            item: j,
            action: ItemAction::Add
        }
    );
    assert_eq!(refused.code(), "FULFILMENT_PROFILE_MISSING");

    let mut add_only = internet.clone();
    add_only.actions.remove(&ItemAction::Modify);
    let refused = decompose(
        &[item(j, ItemAction::Modify, None, Some(&add_only))],
        &mut ids(),
    )
    .unwrap_err();
    assert_eq!(refused.code(), "FULFILMENT_PROFILE_MISSING");
}

fn template(task_type: &str, depends_on: &[&str]) -> TaskTemplate {
    TaskTemplate {
        task_type: task_type.into(),
        operation: FulfilmentOperation::ProvisioningActivate,
        depends_on: depends_on.iter().map(|s| s.to_string()).collect(),
        depends_on_parent: Vec::new(),
        depends_on_children: Vec::new(),
        reversible: false,
        compensation: None,
        point_of_no_return: false,
    }
}

fn profile(templates: Vec<TaskTemplate>) -> FulfilmentProfile {
    FulfilmentProfile {
        starts_subscription: false,
        actions: [(ItemAction::Add, templates)].into_iter().collect(),
    }
}

#[test]
fn unknown_dependencies_and_cycles_are_refused() {
    let i = OrderItemId::generate();
    let broken = profile(vec![template("A", &["NOPE"])]);
    let refused =
        decompose(&[item(i, ItemAction::Add, None, Some(&broken))], &mut ids()).unwrap_err();
    assert_eq!(
        refused,
        DecompositionError::UnknownDependency {
            item: i,
            task_type: "A".into(),
            depends_on: "NOPE".into()
        }
    );
    assert_eq!(refused.code(), "PLAN_DEPENDENCY_UNKNOWN");

    let itself = profile(vec![template("A", &["A"])]);
    let refused =
        decompose(&[item(i, ItemAction::Add, None, Some(&itself))], &mut ids()).unwrap_err();
    assert_eq!(refused.code(), "PLAN_CYCLE");

    // Across items: the parent waits for its child, which waits for the parent.
    let c = OrderItemId::generate();
    let mut parent_task = template("X", &[]);
    parent_task.depends_on_children = vec!["Y".into()];
    let mut child_task = template("Y", &[]);
    child_task.depends_on_parent = vec!["X".into()];
    let mut tail = template("Z", &["X"]);
    tail.operation = FulfilmentOperation::BillingStart;
    let (parent, child) = (profile(vec![parent_task, tail]), profile(vec![child_task]));
    let refused = decompose(
        &[
            item(i, ItemAction::Add, None, Some(&parent)),
            item(c, ItemAction::Add, Some(i), Some(&child)),
        ],
        &mut ids(),
    )
    .unwrap_err();
    assert_eq!(refused.code(), "PLAN_CYCLE");
    let DecompositionError::Cycle { tasks } = refused else {
        unreachable!()
    };
    // The tasks on the cycle, not what merely hangs off it.
    let mut expected = vec![format!("X@{i}"), format!("Y@{c}")];
    expected.sort();
    assert_eq!(tasks, expected);
}

#[test]
fn the_hash_is_stable_across_id_generators_and_item_order_and_tells_plans_apart() {
    let (internet, router, static_ip) = (demo::internet(), demo::router(), demo::static_ip());
    let (i, r, s) = (
        OrderItemId::generate(),
        OrderItemId::generate(),
        OrderItemId::generate(),
    );
    let items = [
        item(i, ItemAction::Add, None, Some(&internet)),
        item(r, ItemAction::Add, None, Some(&router)),
        item(s, ItemAction::Add, Some(i), Some(&static_ip)),
    ];
    let first = decompose(&items, &mut ids()).unwrap();
    let mut reversed = items;
    reversed.reverse();
    let mut counter = 0u128;
    let mut sequential = || {
        counter += 1;
        FulfilmentTaskId::from_uuid(uuid::Uuid::from_u128(counter))
    };
    let second = decompose(&reversed, &mut sequential).unwrap();
    assert_ne!(first.tasks[0].id, second.tasks[0].id);
    assert_topological(&second);
    assert_eq!(first.hash(), second.hash());
    assert_eq!(first.hash().len(), 64);
    assert!(first.hash().chars().all(|c| c.is_ascii_hexdigit()));

    // The add-on without its parent link is another plan.
    let unlinked = decompose(
        &[
            item(i, ItemAction::Add, None, Some(&internet)),
            item(r, ItemAction::Add, None, Some(&router)),
            item(s, ItemAction::Add, None, Some(&static_ip)),
        ],
        &mut ids(),
    )
    .unwrap();
    assert_ne!(first.hash(), unlinked.hash());
    // So is one flag.
    let mut flipped = first.clone();
    flipped.tasks[0].point_of_no_return = !flipped.tasks[0].point_of_no_return;
    assert_ne!(first.hash(), flipped.hash());
}
