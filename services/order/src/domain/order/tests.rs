use domain_kernel::TenantId;
use rust_decimal::Decimal;

use super::super::{Plan, PlanItem, ProductInstanceId, ProductOfferingId, decompose, demo};
use super::*;

pub(super) fn new_item(action: ItemAction, parent: Option<OrderItemId>) -> NewOrderItem {
    NewOrderItem {
        id: OrderItemId::generate(),
        action,
        offering_id: ProductOfferingId::generate(),
        offering_version: 1,
        quantity: 1,
        characteristics: serde_json::Map::new(),
        parent,
        product_instance: (action != ItemAction::Add).then(ProductInstanceId::generate),
        mandatory: true,
        recurring_charge: Some(Decimal::new(4999, 2)),
        one_time_charge: None,
    }
}

pub(super) fn new_order(items: Vec<NewOrderItem>) -> NewOrder {
    NewOrder {
        id: OrderId::generate(),
        tenant: TenantId::parse("acme").unwrap(),
        customer: CustomerId::parse("CUST-1").unwrap(),
        origin: OrderOrigin::Direct,
        currency: "EUR".into(),
        items,
    }
}

pub(super) fn failure(code: &str) -> Failure {
    Failure {
        code: code.into(),
        reason: "because".into(),
        retryable: false,
    }
}

/// The demo order: internet, router, and a static IP add-on of the internet, all ADD.
pub(super) struct Demo {
    pub(super) order: Order,
    pub(super) internet: OrderItemId,
    pub(super) router: OrderItemId,
    pub(super) ip: OrderItemId,
}

impl Demo {
    pub(super) fn captured() -> Self {
        let internet = new_item(ItemAction::Add, None);
        let router = new_item(ItemAction::Add, None);
        let ip = new_item(ItemAction::Add, Some(internet.id));
        let (ids, items) = ((internet.id, router.id, ip.id), vec![internet, router, ip]);
        let (order, _) = Order::capture(new_order(items)).unwrap();
        Self {
            order,
            internet: ids.0,
            router: ids.1,
            ip: ids.2,
        }
    }

    pub(super) fn plan(&self) -> Plan {
        let (internet, router, ip) = (demo::internet(), demo::router(), demo::static_ip());
        let items: Vec<PlanItem<'_>> = self
            .order
            .items
            .iter()
            .map(|i| PlanItem {
                item: i.id,
                action: i.action,
                parent: i.parent,
                profile: Some(if i.id == self.internet {
                    &internet
                } else if i.id == self.router {
                    &router
                } else {
                    &ip
                }),
            })
            .collect();
        decompose(&items, &mut FulfilmentTaskId::generate).unwrap()
    }

    pub(super) fn decomposed() -> Self {
        let mut demo = Self::captured();
        demo.order.validate().unwrap();
        let plan = demo.plan();
        demo.order.decompose(plan).unwrap();
        demo
    }

    pub(super) fn task(&self, item: OrderItemId, task_type: &str) -> FulfilmentTaskId {
        self.order
            .tasks
            .iter()
            .find(|t| t.item == item && t.task_type == task_type)
            .unwrap()
            .id
    }
}

#[test]
fn capture_acknowledges_with_pending_items_and_checks_the_shape() {
    let demo = Demo::captured();
    assert_eq!(demo.order.status, OrderStatus::Acknowledged);
    assert_eq!(demo.order.version, 1);
    assert_eq!(
        demo.order.items.iter().map(|i| i.line).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(
        demo.order
            .items
            .iter()
            .all(|i| i.status == ItemStatus::Pending)
    );

    let refuse = |items: Vec<NewOrderItem>| Order::capture(new_order(items)).unwrap_err().code();
    assert_eq!(refuse(vec![]), "EMPTY_ORDER");
    let many = (0..101).map(|_| new_item(ItemAction::Add, None)).collect();
    assert_eq!(refuse(many), "TOO_MANY_ITEMS");
    assert_eq!(
        refuse(vec![new_item(
            ItemAction::Add,
            Some(OrderItemId::generate())
        )]),
        "PARENT_NOT_IN_ORDER"
    );
    let mut own = new_item(ItemAction::Add, None);
    own.parent = Some(own.id);
    assert_eq!(refuse(vec![own]), "PARENT_IS_SELF");
    let (mut a, mut b) = (
        new_item(ItemAction::Add, None),
        new_item(ItemAction::Add, None),
    );
    a.parent = Some(b.id);
    b.parent = Some(a.id);
    assert_eq!(refuse(vec![a, b]), "PARENT_CYCLE");
    for action in [ItemAction::Modify, ItemAction::Delete, ItemAction::NoChange] {
        let mut item = new_item(action, None);
        item.product_instance = None;
        assert_eq!(refuse(vec![item]), "ITEM_NEEDS_PRODUCT_INSTANCE");
    }
    let mut add = new_item(ItemAction::Add, None);
    add.product_instance = Some(ProductInstanceId::generate());
    assert_eq!(refuse(vec![add]), "ITEM_ADD_WITH_PRODUCT_INSTANCE");
    let mut none = new_item(ItemAction::Add, None);
    none.quantity = 0;
    assert_eq!(refuse(vec![none]), "INVALID_QUANTITY");
    let twice = new_item(ItemAction::Add, None);
    assert_eq!(refuse(vec![twice.clone(), twice]), "DUPLICATE_ITEM");
    let mut negative = new_item(ItemAction::Add, None);
    negative.one_time_charge = Some(Decimal::new(-1, 0));
    assert_eq!(refuse(vec![negative]), "NEGATIVE_CHARGE");
    let mut bad = new_order(vec![new_item(ItemAction::Add, None)]);
    bad.currency = "EURO".into();
    assert_eq!(Order::capture(bad).unwrap_err().code(), "INVALID_CURRENCY");
}

#[test]
fn validation_and_decomposition_are_idempotent_and_the_plan_never_changes_silently() {
    let mut demo = Demo::captured();
    let changes = demo.order.validate().unwrap();
    assert_eq!(changes.len(), 4);
    assert_eq!(demo.order.validate().unwrap(), vec![]);
    assert_eq!(demo.order.version, 2);

    let plan = demo.plan();
    let changes = demo.order.decompose(plan.clone()).unwrap();
    // Order, 10 tasks created, 3 items.
    assert_eq!(changes.len(), 14);
    assert_eq!(demo.order.status, OrderStatus::Decomposed);
    assert_eq!(demo.order.plan_hash.as_deref(), Some(plan.hash().as_str()));
    let status = |item| demo.order.item(item).unwrap().status;
    assert_eq!(status(demo.internet), ItemStatus::Ready);
    assert_eq!(status(demo.router), ItemStatus::Ready);
    assert_eq!(status(demo.ip), ItemStatus::Blocked);
    let ready = demo
        .order
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Ready)
        .count();
    assert_eq!(ready, 3);

    // The same plan with other ids is the same plan.
    let again = demo.plan();
    assert_eq!(demo.order.decompose(again).unwrap(), vec![]);
    let mut other = demo.plan();
    other.tasks.pop();
    let before = demo.order.clone();
    assert_eq!(
        demo.order.decompose(other).unwrap_err().code(),
        "PLAN_CHANGED"
    );
    assert_eq!(demo.order, before);
}

#[test]
fn a_plan_that_does_not_fit_the_order_is_refused() {
    let mut demo = Demo::captured();
    demo.order.validate().unwrap();
    let mut plan = demo.plan();
    plan.tasks[0].item = OrderItemId::generate();
    assert_eq!(
        demo.order.decompose(plan).unwrap_err().code(),
        "PLAN_INVALID"
    );
    let mut plan = demo.plan();
    plan.tasks.swap(0, 9);
    assert_eq!(
        demo.order.decompose(plan).unwrap_err().code(),
        "PLAN_INVALID"
    );
    assert_eq!(demo.order.status, OrderStatus::Validated);
}

#[test]
fn the_demo_order_runs_to_completion_in_dependency_waves() {
    let mut demo = Demo::decomposed();
    let (batch, changes) = demo.order.dispatch_ready().unwrap();
    assert_eq!(batch.len(), 3);
    assert_eq!(demo.order.status, OrderStatus::InProgress);
    assert!(changes.contains(&OrderChange::Item {
        item: demo.ip,
        from: Some(ItemStatus::Blocked),
        to: ItemStatus::Ready
    }));
    // A redelivered dispatch gets the same batch and changes nothing.
    let version = demo.order.version;
    assert_eq!(
        demo.order.dispatch_ready().unwrap(),
        (batch.clone(), vec![])
    );
    assert_eq!(demo.order.version, version);

    let ip_activate = demo.task(demo.ip, "ACTIVATE_SERVICE");
    let waves: [&[(OrderItemId, &str)]; 3] = [
        &[
            (demo.internet, "RESERVE_INVENTORY"),
            (demo.router, "RESERVE_INVENTORY"),
            (demo.ip, "RESERVE_INVENTORY"),
        ],
        &[
            (demo.internet, "CONFIGURE_CPE"),
            (demo.internet, "ACTIVATE_SERVICE"),
            (demo.router, "ACTIVATE_SERVICE"),
        ],
        &[
            (demo.internet, "START_BILLING"),
            (demo.router, "START_BILLING"),
            (demo.ip, "ACTIVATE_SERVICE"),
        ],
    ];
    for wave in waves {
        // The add-on's activation stays waiting until the internet's succeeded.
        if demo.order.task(ip_activate).unwrap().status == TaskStatus::WaitingDependency {
            assert_eq!(
                demo.order
                    .record_task_success(ip_activate, None, None)
                    .unwrap_err()
                    .code(),
                "DEPENDENCY_NOT_SUCCEEDED"
            );
        }
        for (item, task_type) in wave {
            let id = demo.task(*item, task_type);
            assert!(
                demo.order.task(id).unwrap().status.is_in_flight(),
                "{task_type}"
            );
            demo.order
                .record_task_success(id, Some("REF".into()), Some("ACTIVE".into()))
                .unwrap();
            assert_eq!(
                demo.order.record_task_success(id, None, None).unwrap(),
                vec![]
            );
        }
        demo.order.dispatch_ready().unwrap();
    }
    let ip_billing = demo.task(demo.ip, "START_BILLING");
    assert!(!demo.order.plan_settled());
    assert_eq!(
        demo.order.complete().unwrap_err().code(),
        "ORDER_NOT_COMPLETABLE"
    );
    let changes = demo
        .order
        .record_task_success(ip_billing, None, None)
        .unwrap();
    assert_eq!(
        changes.last(),
        Some(&OrderChange::Item {
            item: demo.ip,
            from: Some(ItemStatus::InProgress),
            to: ItemStatus::Completed
        })
    );
    assert!(demo.order.plan_settled());
    assert_eq!(
        demo.order.complete().unwrap(),
        vec![OrderChange::Order {
            from: Some(OrderStatus::InProgress),
            to: OrderStatus::Completed
        }]
    );
    assert_eq!(demo.order.complete().unwrap(), vec![]);
    assert_eq!(demo.order.dispatch_ready().unwrap(), (vec![], vec![]));
    let task = demo.order.task(ip_billing).unwrap();
    assert_eq!((task.attempts, task.version), (1, 4));
}

#[test]
fn a_rejection_sends_the_order_to_fallout_where_nothing_is_dispatched() {
    let mut demo = Demo::decomposed();
    demo.order.dispatch_ready().unwrap();
    let reserve = demo.task(demo.router, "RESERVE_INVENTORY");
    let changes = demo
        .order
        .record_task_rejection(reserve, failure("INSUFFICIENT_STOCK"))
        .unwrap();
    assert_eq!(changes.len(), 3);
    assert_eq!(demo.order.status, OrderStatus::Fallout);
    assert_eq!(
        demo.order.failure.as_ref().unwrap().code,
        "INSUFFICIENT_STOCK"
    );
    let item = demo.order.item(demo.router).unwrap();
    assert_eq!(item.status, ItemStatus::Failed);
    assert!(!item.failure.as_ref().unwrap().retryable);
    assert_eq!(
        demo.order
            .record_task_rejection(reserve, failure("INSUFFICIENT_STOCK"))
            .unwrap(),
        vec![]
    );

    // Other in-flight tasks still report; nothing new is dispatched.
    let internet_reserve = demo.task(demo.internet, "RESERVE_INVENTORY");
    demo.order
        .record_task_success(internet_reserve, None, None)
        .unwrap();
    assert_eq!(demo.order.dispatch_ready().unwrap(), (vec![], vec![]));
    assert_eq!(
        demo.order.complete().unwrap_err().code(),
        "ILLEGAL_TRANSITION"
    );
    assert_eq!(
        demo.order.resume_after_repair().unwrap_err().code(),
        "FAILURE_NOT_RETRYABLE"
    );
    assert_eq!(demo.order.enter_fallout(failure("X")).unwrap(), vec![]);
}

#[test]
fn an_exhausted_task_is_retried_after_repair_or_settled_by_a_late_success() {
    let mut demo = Demo::decomposed();
    demo.order.dispatch_ready().unwrap();
    let reserve = demo.task(demo.internet, "RESERVE_INVENTORY");
    demo.order
        .record_task_exhausted(reserve, failure("DOWNSTREAM_DOWN"))
        .unwrap();
    assert_eq!(demo.order.status, OrderStatus::Fallout);
    assert!(
        demo.order
            .item(demo.internet)
            .unwrap()
            .failure
            .as_ref()
            .unwrap()
            .retryable
    );

    // A late success (reconciliation, an incident resolved in the engine) settles the task and
    // un-fails the item; with nothing failed any more the order goes on (its fallout resolves
    // itself, so leaving the order in FALLOUT would strand it).
    let mut late = demo.order.clone();
    late.record_task_success(reserve, None, None).unwrap();
    assert_eq!(
        late.item(demo.internet).unwrap().status,
        ItemStatus::InProgress
    );
    assert_eq!(late.status, OrderStatus::InProgress);

    // Or the operator repairs and the task goes out again.
    demo.order.resume_after_repair().unwrap();
    assert_eq!(demo.order.status, OrderStatus::InProgress);
    assert_eq!(demo.order.task(reserve).unwrap().status, TaskStatus::Ready);
    assert_eq!(
        demo.order.item(demo.internet).unwrap().status,
        ItemStatus::InProgress
    );
    let (batch, _) = demo.order.dispatch_ready().unwrap();
    assert!(batch.contains(&reserve));
    assert_eq!(demo.order.task(reserve).unwrap().attempts, 2);
}

#[test]
fn a_timeout_moves_only_the_task_and_outcomes_out_of_order_are_refused() {
    let mut demo = Demo::decomposed();
    demo.order.dispatch_ready().unwrap();
    let reserve = demo.task(demo.internet, "RESERVE_INVENTORY");
    let changes = demo.order.record_task_timed_out(reserve).unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(demo.order.record_task_timed_out(reserve).unwrap(), vec![]);
    assert_eq!(demo.order.status, OrderStatus::InProgress);
    // A timed-out task is not re-dispatched.
    let (batch, _) = demo.order.dispatch_ready().unwrap();
    assert!(!batch.contains(&reserve));

    // Success for a task never dispatched: refused, nothing changes.
    let billing = demo.task(demo.internet, "START_BILLING");
    let before = demo.order.clone();
    assert!(demo.order.record_task_success(billing, None, None).is_err());
    assert!(
        demo.order
            .record_task_exhausted(billing, failure("X"))
            .is_err()
    );
    assert_eq!(demo.order, before);
    assert_eq!(
        demo.order
            .record_task_success(FulfilmentTaskId::generate(), None, None)
            .unwrap_err()
            .code(),
        "TASK_NOT_IN_ORDER"
    );
    demo.order.record_task_success(reserve, None, None).unwrap();
}

#[test]
fn a_task_of_a_cancelled_item_never_succeeds() {
    let mut demo = Demo::decomposed();
    demo.order.dispatch_ready().unwrap();
    let reserve = demo.task(demo.router, "RESERVE_INVENTORY");
    let router = demo
        .order
        .items
        .iter_mut()
        .find(|i| i.id == demo.router)
        .unwrap();
    router.status = ItemStatus::Cancelled;
    assert_eq!(
        demo.order
            .record_task_success(reserve, None, None)
            .unwrap_err()
            .code(),
        "TASK_CANCELLED"
    );
}

#[test]
fn failed_validation_and_decomposition() {
    let mut demo = Demo::captured();
    demo.order
        .fail_validation(failure("OFFERING_RETIRED"))
        .unwrap();
    assert_eq!(demo.order.status, OrderStatus::Failed);
    assert_eq!(demo.order.fail_validation(failure("X")).unwrap(), vec![]);
    assert_eq!(
        demo.order.validate().unwrap_err().code(),
        "ILLEGAL_TRANSITION"
    );
    assert_eq!(demo.order.dispatch_ready().unwrap(), (vec![], vec![]));

    let mut demo = Demo::captured();
    assert_eq!(
        demo.order.dispatch_ready().unwrap_err().code(),
        "ILLEGAL_TRANSITION"
    );
    demo.order.validate().unwrap();
    demo.order
        .fail_decomposition(failure("FULFILMENT_PROFILE_MISSING"))
        .unwrap();
    assert_eq!(demo.order.status, OrderStatus::Fallout);
    assert_eq!(
        demo.order.resume_after_repair().unwrap_err().code(),
        "ORDER_NOT_DECOMPOSED"
    );

    let mut demo = Demo::decomposed();
    demo.order.dispatch_ready().unwrap();
    assert_eq!(
        demo.order
            .fail_decomposition(failure("X"))
            .unwrap_err()
            .code(),
        "ILLEGAL_TRANSITION"
    );
}

#[test]
fn no_change_items_are_skipped_and_an_item_without_tasks_completes_at_dispatch() {
    let parent = new_item(ItemAction::NoChange, None);
    let add_on = new_item(ItemAction::Add, Some(parent.id));
    let (parent_id, add_on_id) = (parent.id, add_on.id);
    let (mut order, _) = Order::capture(new_order(vec![parent, add_on])).unwrap();
    order.validate().unwrap();
    let ip = demo::static_ip();
    let plan = decompose(
        &[
            PlanItem {
                item: parent_id,
                action: ItemAction::NoChange,
                parent: None,
                profile: None,
            },
            PlanItem {
                item: add_on_id,
                action: ItemAction::Add,
                parent: Some(parent_id),
                profile: Some(&ip),
            },
        ],
        &mut FulfilmentTaskId::generate,
    )
    .unwrap();
    order.decompose(plan).unwrap();
    assert_eq!(order.item(parent_id).unwrap().status, ItemStatus::Skipped);
    assert_eq!(order.item(add_on_id).unwrap().status, ItemStatus::Ready);

    let (only, _) = Order::capture(new_order(vec![new_item(ItemAction::Add, None)])).unwrap();
    let mut only = only;
    only.validate().unwrap();
    only.decompose(Plan::default()).unwrap();
    only.dispatch_ready().unwrap();
    assert!(only.plan_settled());
    only.complete().unwrap();
}

#[test]
fn runnable_tasks_are_the_unsettled_ones_whose_dependencies_succeeded() {
    let mut demo = Demo::decomposed();
    assert_eq!(demo.order.runnable_tasks().len(), 3);
    demo.order.dispatch_ready().unwrap();
    let reserve = demo.task(demo.internet, "RESERVE_INVENTORY");
    demo.order.record_task_success(reserve, None, None).unwrap();
    let runnable: Vec<&str> = demo
        .order
        .runnable_tasks()
        .iter()
        .filter(|t| t.item == demo.internet)
        .map(|t| t.task_type.as_str())
        .collect();
    assert_eq!(runnable, ["CONFIGURE_CPE", "ACTIVATE_SERVICE"]);
}

#[test]
fn error_codes_are_stable_screaming_snake_names() {
    let item = OrderItemId::generate();
    let task = FulfilmentTaskId::generate();
    let errors = [
        OrderError::from(domain_kernel::TransitionError {
            from: OrderStatus::Closed,
            command: OrderCommand::Close,
        }),
        OrderError::EmptyOrder,
        OrderError::TooManyItems {
            count: 101,
            max: 100,
        },
        OrderError::DuplicateItem { item },
        OrderError::InvalidQuantity { item },
        OrderError::ParentNotInOrder { item, parent: item },
        OrderError::ParentIsSelf { item },
        OrderError::ParentCycle { item },
        OrderError::NeedsProductInstance {
            item,
            action: ItemAction::Modify,
        },
        OrderError::AddWithProductInstance { item },
        OrderError::NegativeCharge { item },
        OrderError::InvalidCurrency("X".into()),
        OrderError::InvalidPlan("x".into()),
        OrderError::PlanChanged {
            current: "a".into(),
            proposed: "b".into(),
        },
        OrderError::TaskNotInOrder { task },
        OrderError::TaskCancelled { task },
        OrderError::DependencyNotSucceeded {
            task,
            dependency: task,
        },
        OrderError::NotCompletable("x".into()),
        OrderError::NotDecomposed,
        OrderError::FailureNotRetryable { item },
    ];
    let codes: std::collections::BTreeSet<&str> = errors.iter().map(OrderError::code).collect();
    assert_eq!(codes.len(), errors.len(), "one code per variant");
    for code in codes {
        assert!(
            code.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
            "{code}"
        );
    }
    assert_eq!(
        errors[0].to_string(),
        "Close is not allowed when the order is CLOSED"
    );
}
