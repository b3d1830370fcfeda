//! Property tests of exceptions: random orders driven by outcomes and by every operator
//! command (cancel some or all items, retry, redo with corrected data, settle by hand, undo by
//! hand, give up an item, abort, hold, release) keep the invariants; and the cancellation
//! preview equals what the cancellation then does, over random order states.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::properties::{Replay, capture, deliver, failure, items};
use super::*;

/// One step: an outcome or an operator's command. `pick` chooses a task or item.
#[derive(Debug, Clone)]
enum Step {
    Dispatch,
    Outcome { pick: usize, kind: u8 },
    Complete,
    Cancel { pick: usize, whole: bool },
    Retry { pick: usize },
    Correct { pick: usize },
    Settle { pick: usize, verified: bool },
    Undo { pick: usize },
    FailItem { pick: usize },
    Abort,
    Hold,
    Release,
    Amend { pick: usize, value: u8 },
}

fn steps(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![
            5 => Just(Step::Dispatch),
            10 => (any::<usize>(), prop_oneof![10 => Just(0u8), 2 => Just(1u8), 2 => Just(2u8), 1 => Just(3u8)])
                .prop_map(|(pick, kind)| Step::Outcome { pick, kind }),
            1 => Just(Step::Complete),
            1 => (any::<usize>(), prop::bool::weighted(0.5)).prop_map(|(pick, whole)| Step::Cancel { pick, whole }),
            1 => any::<usize>().prop_map(|pick| Step::Retry { pick }),
            1 => any::<usize>().prop_map(|pick| Step::Correct { pick }),
            1 => (any::<usize>(), any::<bool>()).prop_map(|(pick, verified)| Step::Settle { pick, verified }),
            1 => any::<usize>().prop_map(|pick| Step::Undo { pick }),
            1 => any::<usize>().prop_map(|pick| Step::FailItem { pick }),
            1 => Just(Step::Abort),
            1 => Just(Step::Hold),
            1 => Just(Step::Release),
            1 => (any::<usize>(), 0u8..3).prop_map(|(pick, value)| Step::Amend { pick, value }),
        ],
        len,
    )
}

/// Captures, validates and decomposes a random order over the demo profiles.
fn decomposed(specs: &[properties::ItemSpec], replay: &mut Replay) -> Result<Order, TestCaseError> {
    let profiles = [demo::internet(), demo::router(), demo::static_ip()];
    let mut order = capture(specs);
    replay.apply(&[OrderChange::Order {
        from: None,
        to: OrderStatus::Acknowledged,
    }])?;
    replay.apply(
        &order
            .items
            .iter()
            .map(|i| OrderChange::Item {
                item: i.id,
                from: None,
                to: ItemStatus::Pending,
            })
            .collect::<Vec<_>>(),
    )?;
    replay.apply(&order.validate().unwrap())?;
    let plan_items: Vec<PlanItem<'_>> = order
        .items
        .iter()
        .zip(specs)
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
    Ok(order)
}

fn pick<T: Copy>(from: &[T], pick: usize) -> Option<T> {
    (!from.is_empty()).then(|| from[pick % from.len()])
}

fn run(order: &mut Order, step: &Step) -> Option<Result<Vec<OrderChange>, OrderError>> {
    let tasks: Vec<FulfilmentTaskId> = order.tasks.iter().map(|t| t.id).collect();
    let items: Vec<OrderItemId> = order.items.iter().map(|i| i.id).collect();
    Some(match *step {
        Step::Dispatch => order.dispatch_ready().map(|(_, changes)| changes),
        Step::Outcome { pick: p, kind } => {
            let in_flight: Vec<_> = order
                .tasks
                .iter()
                .filter(|t| {
                    matches!(
                        t.status,
                        TaskStatus::Dispatched | TaskStatus::InProgress | TaskStatus::TimedOut
                    )
                })
                .map(|t| t.id)
                .collect();
            deliver(order, pick(&in_flight, p)?, kind)
        }
        Step::Complete => order.complete(),
        Step::Cancel { pick: p, whole } => {
            let scope = [pick(&items, p)?];
            order
                .request_cancellation((!whole).then_some(&scope[..]))
                .map(|(_, changes)| changes)
        }
        Step::Retry { pick: p } => order.retry_task(pick(&tasks, p)?),
        Step::Correct { pick: p } => {
            let correction = TaskCorrection {
                characteristics: serde_json::Map::from_iter([("bandwidth".to_owned(), 500.into())]),
            };
            order.retry_with_correction(pick(&tasks, p)?, &correction)
        }
        Step::Settle { pick: p, verified } => {
            let resolution = if verified {
                ManualResolution::VerifiedApplied {
                    external_reference: "VERIFIED-1".into(),
                }
            } else {
                ManualResolution::Skipped
            };
            order.settle_task_manually(pick(&tasks, p)?, &resolution)
        }
        Step::Undo { pick: p } => order.record_manual_undo(pick(&items, p)?),
        Step::FailItem { pick: p } => order.fail_item(pick(&items, p)?),
        Step::Abort => order.abort(),
        Step::Hold => order.hold(),
        Step::Release => order.release(),
        Step::Amend { pick: p, value } => {
            let wanted = [amendment(order, pick(&items, p)?, value)];
            order.request_amendment(&wanted).map(|(_, changes)| changes)
        }
    })
}

/// New characteristics for `item` (value 0 keeps them as they are).
fn amendment(order: &Order, item: OrderItemId, value: u8) -> ItemAmendment {
    let mut characteristics = order.item(item).unwrap().characteristics.clone();
    if value > 0 {
        characteristics.insert("bandwidthMbps".to_owned(), (u64::from(value) * 500).into());
    }
    ItemAmendment {
        item,
        characteristics,
    }
}

fn check_invariants(order: &Order) -> Result<(), TestCaseError> {
    if order.status == OrderStatus::Completed {
        for item in order.items.iter().filter(|i| i.mandatory) {
            prop_assert!(
                item.status.is_terminal_success() || item.status.is_withdrawn(),
                "COMPLETED order, mandatory item {}",
                item.status
            );
        }
    }
    for task in &order.tasks {
        // Nothing starts before its dependencies are met (a redo stands for what it replaced).
        if matches!(
            task.status,
            TaskStatus::Dispatched | TaskStatus::InProgress | TaskStatus::TimedOut
        ) {
            for dep in &task.depends_on {
                prop_assert!(order.satisfied(*dep), "{} started early", task.task_type);
            }
        }
        let item = order.item(task.item).unwrap();
        // A cancelled item never succeeds a step (compensations aside).
        if item.status == ItemStatus::Cancelled {
            prop_assert!(
                task.status != TaskStatus::Succeeded
                    || matches!(task.purpose, TaskPurpose::Compensate { .. })
                    || !task.handling.left_an_effect(),
                "a cancelled item holds a succeeded step"
            );
        }
        // Only a succeeded effect is compensated, once.
        if let TaskPurpose::Compensate { of } = task.purpose {
            let original = order.task(of).unwrap();
            prop_assert!(matches!(
                original.status,
                TaskStatus::Compensating | TaskStatus::Compensated
            ));
            prop_assert_eq!(
                order
                    .tasks
                    .iter()
                    .filter(|t| t.purpose == task.purpose)
                    .count(),
                1
            );
        }
    }
    if matches!(order.status, OrderStatus::Fallout | OrderStatus::Held) {
        // Held: nothing starts. Fallout: only the undoing of a cancellation starts.
        let mut probe = order.clone();
        let (_, changes) = probe.dispatch_ready().unwrap();
        for change in changes {
            if let OrderChange::Task {
                task,
                to: TaskStatus::Dispatched,
                ..
            } = change
            {
                let task = probe.task(task).unwrap();
                prop_assert!(
                    order.status == OrderStatus::Fallout
                        && matches!(task.purpose, TaskPurpose::Compensate { .. }),
                    "{} started {}",
                    order.status,
                    task.task_type
                );
            }
        }
    }
    if order.status == OrderStatus::Cancelled {
        for item in &order.items {
            prop_assert!(
                item.status.is_withdrawn() || item.status == ItemStatus::Skipped,
                "CANCELLED order, item {}",
                item.status
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn random_outcomes_and_operator_commands_keep_every_invariant(specs in items(), history in steps(1..90)) {
        let mut replay = Replay::default();
        let mut order = decomposed(&specs, &mut replay)?;
        replay.matches(&order)?;
        for step in &history {
            let before = order.clone();
            let Some(outcome) = run(&mut order, step) else { continue };
            match outcome {
                Err(_) => prop_assert_eq!(&order, &before, "a refused command changed nothing"),
                Ok(changes) => {
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
    }
}

/// Answers every call in flight (`applied`: succeeded, else refused), then dispatches what is
/// ready, until nothing moves: the cancellation's process run to its end.
fn drive(order: &mut Order, applied: bool) {
    for _ in 0..64 {
        let before = order.clone();
        let _ = order.dispatch_ready();
        let in_flight: Vec<_> = order
            .tasks
            .iter()
            .filter(|t| {
                matches!(
                    t.status,
                    TaskStatus::Dispatched | TaskStatus::InProgress | TaskStatus::TimedOut
                )
            })
            .map(|t| (t.id, matches!(t.purpose, TaskPurpose::Compensate { .. })))
            .collect();
        for (task, compensation) in in_flight {
            let cancelling = order
                .task(task)
                .and_then(|t| order.item(t.item))
                .is_some_and(|i| i.status.is_being_cancelled() || i.status.is_withdrawn());
            // Compensations and calls outside the cancellation are applied; the awaited calls
            // of the cancelled items answer as the case says.
            let _ = if applied || compensation || !cancelling {
                order.record_task_success(task, Some("REF".into()), None)
            } else {
                order.record_task_rejection(task, failure("NOT_APPLIED"))
            };
        }
        let _ = order.dispatch_ready();
        if *order == before {
            return;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]
    #[test]
    fn the_cancellation_preview_equals_what_the_cancellation_does(
        specs in items(),
        history in steps(0..60),
        scope_bits in any::<u8>(),
        whole in prop::bool::weighted(0.4),
    ) {
        let mut replay = Replay::default();
        let mut order = decomposed(&specs, &mut replay)?;
        for step in history.iter().filter(|s| !matches!(s, Step::Cancel { .. } | Step::Undo { .. })) {
            let _ = run(&mut order, step);
        }
        let scope: Vec<OrderItemId> = order
            .items
            .iter()
            .enumerate()
            .filter(|(i, _)| scope_bits & (1 << (i % 8)) != 0)
            .map(|(_, item)| item.id)
            .collect();
        let scope = (!whole && !scope.is_empty()).then_some(scope);
        let before = order.clone();
        let preview = order.assess_cancellation(scope.as_deref());
        prop_assert_eq!(&order, &before, "the preview changed nothing");
        let mut cancelled = order.clone();
        let executed = cancelled.request_cancellation(scope.as_deref());
        match (preview, executed) {
            (Err(p), Err(e)) => {
                prop_assert_eq!(p, e, "the same refusal");
                prop_assert_eq!(&cancelled, &before);
            }
            (Ok(p), Ok((applied, _))) => {
                prop_assert_eq!(&p, &applied, "the command applied the preview");
                // A held order undoes nothing until it is released (an operator's step).
                if cancelled.status == OrderStatus::Held {
                    cancelled.release().unwrap();
                }
                drive(&mut cancelled, false);
                let in_scope: BTreeSet<_> = p.items.iter().map(|i| i.order_item_id).collect();
                for impact in &p.tasks {
                    let task = cancelled.task(impact.task_id).unwrap();
                    let was = before.task(impact.task_id).unwrap();
                    match impact.action {
                        TaskAction::Stop => prop_assert_eq!(task.status, TaskStatus::Cancelled),
                        TaskAction::AwaitInFlight => prop_assert!(
                            !task.status.is_in_flight() && task.status != TaskStatus::Succeeded,
                            "an awaited call that was not applied ends settled, not succeeded: {}", task.status
                        ),
                        TaskAction::Compensate { operation } => {
                            let compensation = cancelled.compensation_of(task.id);
                            prop_assert!(compensation.is_some(), "{} was not compensated", task.task_type);
                            prop_assert_eq!(compensation.unwrap().operation, operation);
                            prop_assert_eq!(task.status, TaskStatus::Compensated);
                        }
                        TaskAction::ManualHandling { reason: ManualReason::CompensationFailed } => {
                            // Its undo (or one it waits for) failed: it stays being undone
                            // until an operator acts.
                            let undo = cancelled.compensation_of(task.id).unwrap();
                            prop_assert!(undo.status != TaskStatus::Succeeded);
                            prop_assert_eq!(task.status, TaskStatus::Compensating);
                        }
                        TaskAction::ManualHandling { .. } => {
                            prop_assert_eq!(task.handling, TaskHandling::ManualUndoRequired);
                            prop_assert!(cancelled.compensation_of(task.id).is_none());
                        }
                        TaskAction::Nothing => prop_assert_eq!(task.status, was.status),
                    }
                }
                for impact in &p.items {
                    let item = cancelled.item(impact.order_item_id).unwrap();
                    match impact.outcome {
                        ItemOutcome::Cancelled => prop_assert_eq!(item.status, ItemStatus::Cancelled),
                        ItemOutcome::Compensated => prop_assert_eq!(item.status, ItemStatus::Compensated),
                        ItemOutcome::ManualHandling => prop_assert!(item.status.is_being_cancelled()),
                        ItemOutcome::AlreadySettled => prop_assert_eq!(item.status, before.item(item.id).unwrap().status),
                    }
                }
                // Nothing outside the scope was touched by the cancellation itself.
                for item in cancelled.items.iter().filter(|i| !in_scope.contains(&i.id)) {
                    prop_assert!(!item.status.is_being_cancelled() && !item.status.is_withdrawn()
                        || before.item(item.id).unwrap().status == item.status);
                }
                if p.whole_order {
                    let manual = p.items.iter().any(|i| i.outcome == ItemOutcome::ManualHandling);
                    prop_assert_eq!(
                        cancelled.status,
                        if manual { OrderStatus::CancellationPending } else { OrderStatus::Cancelled }
                    );
                }
            }
            (p, e) => prop_assert!(false, "preview {:?} but command {:?}", p.map(|_| ()), e.map(|_| ())),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]
    #[test]
    fn the_amendment_preview_equals_what_the_amendment_does(
        specs in items(),
        history in steps(0..60),
        picks in prop::collection::vec((any::<usize>(), 0u8..3), 1..4),
    ) {
        let mut replay = Replay::default();
        let mut order = decomposed(&specs, &mut replay)?;
        for step in &history {
            let _ = run(&mut order, step);
        }
        let mut wanted: Vec<ItemAmendment> = Vec::new();
        for (p, value) in picks {
            let item = order.items[p % order.items.len()].id;
            if wanted.iter().all(|w| w.item != item) {
                wanted.push(amendment(&order, item, value));
            }
        }
        let before = order.clone();
        let preview = order.assess_amendment(&wanted);
        prop_assert_eq!(&order, &before, "the preview changed nothing");
        let mut amended = order.clone();
        match (preview, amended.request_amendment(&wanted)) {
            (Err(p), Err(e)) => {
                prop_assert_eq!(p, e);
                prop_assert_eq!(&amended, &before);
            }
            (Ok(p), Ok((applied, _))) => {
                prop_assert_eq!(&p, &applied, "the command applied the preview");
                for impact in &p.tasks {
                    let task = amended.task(impact.task_id).unwrap();
                    let was = before.task(impact.task_id).unwrap();
                    match impact.action {
                        AmendTaskAction::Keep | AmendTaskAction::Refused => prop_assert_eq!(task, was),
                        AmendTaskAction::Redo => {
                            prop_assert!(amended.replacement_of(task.id).is_some());
                            prop_assert!(amended.compensation_of(task.id).is_none());
                        }
                        AmendTaskAction::CompensateThenRedo { operation } => {
                            let undo = amended.compensation_of(task.id);
                            prop_assert!(undo.is_some());
                            prop_assert_eq!(undo.unwrap().operation, operation);
                            let redo = amended.replacement_of(task.id).unwrap();
                            prop_assert!(amended.task(redo).unwrap().depends_on.contains(&undo.unwrap().id));
                        }
                    }
                }
                for impact in &p.items {
                    let item = amended.item(impact.order_item_id).unwrap();
                    let wanted = wanted.iter().find(|w| w.item == item.id).unwrap();
                    match impact.outcome {
                        AmendItemOutcome::Redone => prop_assert_eq!(&item.characteristics, &wanted.characteristics),
                        _ => prop_assert_eq!(item, before.item(item.id).unwrap()),
                    }
                }
                // Driven to rest, every redone item ends with its redo applied, or the order
                // fell out for another reason.
                drive(&mut amended, true);
                check_invariants(&amended)?;
            }
            (p, e) => prop_assert!(false, "preview {:?} but command {:?}", p.map(|_| ()), e.map(|_| ())),
        }
    }
}
