//! Property tests: random orders (1..6 items with random parents and actions over the demo
//! offerings' profiles) driven by random dispatches and task outcomes (success, rejection,
//! exhaustion, timeout, duplicate delivery, delivery for a task never dispatched), plus random
//! product instance and subscription histories, never break the invariants of
//! state-machines.md. After every step the returned changes are replayed through the tables and
//! must account for every status the aggregate holds.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use domain_kernel::{Lifecycle, TenantId};
use proptest::prelude::*;

use super::*;

#[derive(Debug, Clone)]
pub(super) struct ItemSpec {
    pub(super) action: ItemAction,
    pub(super) offering: usize,
    pub(super) parent: Option<usize>,
    pub(super) mandatory: bool,
}

#[derive(Debug, Clone)]
enum Move {
    Dispatch,
    /// An outcome for a task: `pick` chooses among in-flight tasks when `in_flight`, else among
    /// all (a delivery out of order); `kind`: success, rejection, exhaustion, timeout.
    Outcome {
        pick: usize,
        in_flight: bool,
        kind: u8,
    },
    /// The last outcome delivered again.
    Duplicate,
    Complete,
    Fallout,
    Resume,
}

pub(super) fn items() -> impl Strategy<Value = Vec<ItemSpec>> {
    prop::collection::vec(
        (
            prop_oneof![
                4 => Just(ItemAction::Add),
                2 => Just(ItemAction::Modify),
                2 => Just(ItemAction::Delete),
                1 => Just(ItemAction::NoChange),
            ],
            0usize..3,
            prop::option::of(any::<prop::sample::Index>()),
            prop::bool::weighted(0.8),
        ),
        1..6,
    )
    .prop_map(|specs| {
        specs
            .into_iter()
            .enumerate()
            .map(|(index, (action, offering, parent, mandatory))| ItemSpec {
                action,
                offering,
                // Parents come earlier, so the parent links form a forest.
                parent: parent.filter(|_| index > 0).map(|p| p.index(index)),
                mandatory,
            })
            .collect()
    })
}

fn moves() -> impl Strategy<Value = Vec<Move>> {
    prop::collection::vec(
        prop_oneof![
            4 => Just(Move::Dispatch),
            10 => (any::<usize>(), prop::bool::weighted(0.85), prop_oneof![
                12 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8), 2 => Just(3u8)
            ]).prop_map(|(pick, in_flight, kind)| Move::Outcome { pick, in_flight, kind }),
            1 => Just(Move::Duplicate),
            2 => Just(Move::Complete),
            1 => Just(Move::Fallout),
            1 => Just(Move::Resume),
        ],
        1..80,
    )
}

pub(super) fn failure(code: &str) -> Failure {
    Failure {
        code: code.into(),
        reason: "property test".into(),
        retryable: false,
    }
}

pub(super) fn capture(specs: &[ItemSpec]) -> Order {
    let ids: Vec<OrderItemId> = specs.iter().map(|_| OrderItemId::generate()).collect();
    let items = specs
        .iter()
        .zip(&ids)
        .map(|(spec, id)| NewOrderItem {
            id: *id,
            action: spec.action,
            offering_id: ProductOfferingId::generate(),
            offering_version: 1,
            quantity: 1,
            characteristics: serde_json::Map::new(),
            parent: spec.parent.map(|p| ids[p]),
            product_instance: (spec.action != ItemAction::Add).then(ProductInstanceId::generate),
            mandatory: spec.mandatory,
            recurring_charge: None,
            one_time_charge: None,
        })
        .collect();
    let (order, _) = Order::capture(NewOrder {
        id: OrderId::generate(),
        tenant: TenantId::parse("acme").unwrap(),
        customer: CustomerId::parse("CUST-1").unwrap(),
        origin: OrderOrigin::Direct,
        currency: "EUR".into(),
        items,
    })
    .unwrap();
    order
}

/// The statuses the changes so far say the order, its items and its tasks are in.
#[derive(Default)]
pub(super) struct Replay {
    order: Option<OrderStatus>,
    items: HashMap<OrderItemId, ItemStatus>,
    tasks: HashMap<FulfilmentTaskId, TaskStatus>,
    completed_items: HashMap<OrderItemId, u32>,
    succeeded_tasks: HashMap<FulfilmentTaskId, u32>,
}

fn allowed<S: Lifecycle>(from: Option<S>, to: S, commands: &[S::Command], initial: &[S]) -> bool {
    match from {
        None => initial.contains(&to),
        Some(from) => commands.iter().any(|c| from.apply(*c) == Ok(to)),
    }
}

impl Replay {
    pub(super) fn apply(&mut self, changes: &[OrderChange]) -> Result<(), TestCaseError> {
        for change in changes {
            match *change {
                OrderChange::Order { from, to } => {
                    prop_assert_eq!(from, self.order, "order change from a stale status");
                    prop_assert!(allowed(from, to, &OrderCommand::ALL, &OrderStatus::INITIAL));
                    self.order = Some(to);
                }
                OrderChange::Item { item, from, to } => {
                    prop_assert_eq!(from, self.items.get(&item).copied());
                    prop_assert!(allowed(from, to, &ItemCommand::ALL, &ItemStatus::INITIAL));
                    self.items.insert(item, to);
                    if to == ItemStatus::Completed {
                        *self.completed_items.entry(item).or_default() += 1;
                    }
                }
                OrderChange::Task { task, from, to, .. } => {
                    prop_assert_eq!(from, self.tasks.get(&task).copied());
                    prop_assert!(allowed(from, to, &TaskCommand::ALL, &TaskStatus::INITIAL));
                    self.tasks.insert(task, to);
                    if to == TaskStatus::Succeeded {
                        *self.succeeded_tasks.entry(task).or_default() += 1;
                    }
                }
            }
        }
        Ok(())
    }

    pub(super) fn matches(&self, order: &Order) -> Result<(), TestCaseError> {
        prop_assert_eq!(
            self.order,
            Some(order.status),
            "the changes account for the order"
        );
        for item in &order.items {
            prop_assert_eq!(self.items.get(&item.id), Some(&item.status));
        }
        prop_assert_eq!(self.tasks.len(), order.tasks.len());
        for task in &order.tasks {
            prop_assert_eq!(self.tasks.get(&task.id), Some(&task.status));
        }
        prop_assert!(
            self.completed_items.values().all(|n| *n <= 1),
            "an item completed twice"
        );
        prop_assert!(
            self.succeeded_tasks.values().all(|n| *n <= 1),
            "a task succeeded twice"
        );
        Ok(())
    }
}

fn check_invariants(order: &Order) -> Result<(), TestCaseError> {
    if order.status == OrderStatus::Completed {
        for item in order.items.iter().filter(|i| i.mandatory) {
            prop_assert!(
                item.status.is_terminal_success(),
                "COMPLETED order, item {}",
                item.status
            );
        }
    }
    for task in &order.tasks {
        if matches!(
            task.status,
            TaskStatus::Dispatched
                | TaskStatus::InProgress
                | TaskStatus::Succeeded
                | TaskStatus::TimedOut
        ) {
            for dep in &task.depends_on {
                let dep = order.task(*dep).unwrap();
                prop_assert_eq!(
                    dep.status,
                    TaskStatus::Succeeded,
                    "{} ran before {}",
                    task.task_type,
                    dep.task_type
                );
            }
        }
    }
    if order.status == OrderStatus::Fallout {
        let mut probe = order.clone();
        prop_assert_eq!(
            probe.dispatch_ready().unwrap(),
            (vec![], vec![]),
            "FALLOUT dispatched"
        );
        prop_assert_eq!(&probe, order);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn random_orders_and_outcomes_keep_every_invariant(specs in items(), history in moves()) {
        let profiles = [demo::internet(), demo::router(), demo::static_ip()];
        let mut order = capture(&specs);
        let mut replay = Replay::default();
        replay.apply(&[OrderChange::Order { from: None, to: OrderStatus::Acknowledged }])?;
        replay.apply(&order.items.iter().map(|i| OrderChange::Item { item: i.id, from: None, to: ItemStatus::Pending }).collect::<Vec<_>>())?;
        replay.apply(&order.validate().unwrap())?;
        let plan_items: Vec<PlanItem<'_>> = order
            .items
            .iter()
            .zip(&specs)
            .map(|(item, spec)| PlanItem {
                item: item.id,
                action: item.action,
                parent: item.parent,
                profile: Some(&profiles[spec.offering]),
            })
            .collect();
        match decompose(&plan_items, &mut FulfilmentTaskId::generate) {
            Ok(plan) => replay.apply(&order.decompose(plan).unwrap())?,
            Err(error) => replay.apply(&order.fail_decomposition(failure(error.code())).unwrap())?,
        }
        replay.matches(&order)?;
        let mut last: Option<(FulfilmentTaskId, u8)> = None;
        for step in history {
            let before = order.clone();
            let outcome = match step {
                Move::Dispatch => match order.dispatch_ready() {
                    Ok((batch, changes)) => {
                        let dispatching = matches!(
                            order.status,
                            OrderStatus::InProgress | OrderStatus::PartiallyCompleted
                        );
                        let in_flight: Vec<_> = order
                            .tasks
                            .iter()
                            .filter(|t| dispatching && t.status.is_in_flight())
                            .map(|t| t.id)
                            .collect();
                        prop_assert_eq!(batch, in_flight, "the batch is every task in flight, in sequence");
                        Ok(changes)
                    }
                    Err(error) => Err(error),
                },
                Move::Outcome { pick, in_flight, kind } => {
                    let candidates: Vec<FulfilmentTaskId> = order
                        .tasks
                        .iter()
                        .filter(|t| !in_flight || matches!(t.status, TaskStatus::Dispatched | TaskStatus::InProgress | TaskStatus::TimedOut | TaskStatus::FailedRetryable))
                        .map(|t| t.id)
                        .collect();
                    if candidates.is_empty() {
                        continue;
                    }
                    let task = candidates[pick % candidates.len()];
                    last = Some((task, kind));
                    deliver(&mut order, task, kind)
                }
                Move::Duplicate => match last {
                    Some((task, kind)) => deliver(&mut order, task, kind),
                    None => continue,
                },
                Move::Complete => order.complete(),
                Move::Fallout => order.enter_fallout(failure("WORKFLOW_STEP_FAILED")),
                Move::Resume => order.resume_after_repair(),
            };
            match outcome {
                Err(_) => prop_assert_eq!(&order, &before, "a refused command changed nothing"),
                Ok(changes) => {
                    if changes.is_empty() {
                        prop_assert_eq!(order.status, before.status);
                    }
                    if order == before {
                        prop_assert_eq!(order.version, before.version);
                    } else {
                        prop_assert_eq!(order.version, before.version + 1);
                    }
                    replay.apply(&changes)?;
                }
            }
            replay.matches(&order)?;
            check_invariants(&order)?;
        }
        // Whatever happened, a settled plan in progress completes.
        if order.plan_settled() && order.status == OrderStatus::InProgress {
            prop_assert!(order.complete().is_ok());
        }
    }
}

pub(super) fn deliver(
    order: &mut Order,
    task: FulfilmentTaskId,
    kind: u8,
) -> Result<Vec<OrderChange>, OrderError> {
    match kind {
        0 => order.record_task_success(task, Some("REF".into()), Some("ACTIVE".into())),
        1 => order.record_task_rejection(task, failure("REFUSED")),
        2 => order.record_task_exhausted(task, failure("DOWNSTREAM_DOWN")),
        _ => order.record_task_timed_out(task),
    }
}

fn at(step: usize) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 20, 0, 0, 0)
        .single()
        .unwrap()
        + chrono::Duration::minutes(step as i64)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn random_asset_histories_keep_every_invariant(
        history in prop::collection::vec((0u8..12, prop::bool::weighted(0.8)), 1..40)
    ) {
        let (order, item) = (OrderId::generate(), OrderItemId::generate());
        let (mut asset, first) = ProductInstance::pending_activation(
            NewProductInstance {
                id: ProductInstanceId::generate(),
                tenant: TenantId::parse("acme").unwrap(),
                customer: CustomerId::parse("CUST-1").unwrap(),
                offering_id: ProductOfferingId::generate(),
                offering_version: 1,
                characteristics: serde_json::Map::new(),
                parent: None,
                subscription: None,
                order,
                item,
            },
            at(0),
        );
        let customer = asset.customer.clone();
        let mut entries = vec![first];
        let mut disconnected: Option<ProductInstance> = None;
        for (step, (command, owner)) in history.into_iter().enumerate() {
            let now = at(step + 1);
            // The owner of the pending operation, or another order item.
            let (o, i) = if owner { (asset.last_order, asset.last_item) } else { (OrderId::generate(), OrderItemId::generate()) };
            let before = asset.clone();
            let result = match command {
                0 => asset.activate(now, o, i),
                1 => asset.cancel_activation(now, o, i),
                2 => asset.begin_modification(now, o, i),
                3 => asset.complete_modification(serde_json::Map::from_iter([("step".to_owned(), step.into())]), now, o, i),
                4 => asset.abandon_modification(now, o, i),
                5 => asset.suspend(now, o, i),
                6 => asset.resume(now, o, i),
                7 => asset.begin_disconnect(now, o, i),
                8 => asset.disconnect(now, o, i),
                9 => asset.abandon_disconnect(now, o, i),
                10 => asset.mark_error(now, o, i),
                _ => asset.recover(now, o, i),
            };
            match result {
                Err(_) => prop_assert_eq!(&asset, &before),
                Ok(entry) => {
                    prop_assert_eq!(asset.version, before.version + 1);
                    prop_assert_eq!(entry.version, asset.version);
                    prop_assert_eq!(entry.status, asset.status);
                    prop_assert!(allowed(Some(before.status), asset.status, &AssetCommand::ALL, &[]));
                    entries.push(entry);
                }
            }
            prop_assert_eq!(entries.len() as i64, asset.version, "one history entry per version");
            prop_assert!(asset.status != AssetStatus::Active || asset.activation_date.is_some());
            prop_assert!(asset.status != AssetStatus::Disconnected || asset.termination_date.is_some());
            prop_assert_eq!(&asset.customer, &customer);
            if let Some(frozen) = &disconnected {
                prop_assert_eq!(&asset, frozen, "a DISCONNECTED asset changed");
            }
            if asset.status == AssetStatus::Disconnected {
                disconnected = Some(asset.clone());
            }
        }
    }

    #[test]
    fn random_subscription_histories_keep_every_invariant(history in prop::collection::vec(0u8..6, 1..30)) {
        let customer = CustomerId::parse("CUST-1").unwrap();
        let mut subscription = Subscription::pending(
            SubscriptionId::generate(),
            TenantId::parse("acme").unwrap(),
            customer.clone(),
            OrderId::generate(),
            OrderItemId::generate(),
        );
        for (step, command) in history.into_iter().enumerate() {
            let now = at(step);
            let before = subscription.clone();
            let result = match command {
                0 => subscription.activate(now),
                1 => subscription.cancel(now),
                2 => subscription.suspend(now),
                3 => subscription.resume(now),
                4 => subscription.terminate(now),
                _ => subscription.renew(now),
            };
            match result {
                Err(_) => prop_assert_eq!(&subscription, &before),
                Ok(transition) => {
                    prop_assert_eq!(subscription.version, before.version + 1);
                    prop_assert_eq!(transition.version, subscription.version);
                    prop_assert_eq!(transition.from, before.status);
                }
            }
            prop_assert_eq!(&subscription.customer, &customer);
            prop_assert!(subscription.status != SubscriptionStatus::Active || subscription.start_date.is_some());
            prop_assert!(subscription.status != SubscriptionStatus::Terminated || subscription.end_date.is_some());
        }
    }
}
