//! Property tests: random sequences of attempts, answers, reconciliations and re-arms never
//! break the operation's invariants. An effect is never sent while its outcome is unknown, a
//! settled operation never changes, the budget is never overspent, and the stored shape always
//! restores.

use chrono::{TimeZone, Utc};
use domain_kernel::{Lifecycle, TenantId};
use proptest::prelude::*;

use super::key::{FulfilmentTaskId, OrderId, OrderItemId};
use super::operation::OperationParts;
use super::*;

#[derive(Debug, Clone)]
enum Move {
    Send,
    Answer(u8),
    Reconcile(u8),
    CrashFound,
    Rearm,
}

fn moves() -> impl Strategy<Value = Vec<Move>> {
    prop::collection::vec(
        prop_oneof![
            3 => Just(Move::Send),
            3 => (0u8..4).prop_map(Move::Answer),
            2 => (0u8..3).prop_map(Move::Reconcile),
            1 => Just(Move::CrashFound),
            1 => Just(Move::Rearm),
        ],
        1..60,
    )
}

fn result() -> CoreResult {
    CoreResult {
        external_reference: Some("SVC-1".into()),
        external_state: "ACTIVE".into(),
    }
}

fn snapshot(operation: &ExternalOperation) -> OperationParts {
    OperationParts {
        id: operation.id(),
        identity: operation.identity().clone(),
        status: operation.status(),
        attempts: operation.attempts(),
        failures: operation.failures(),
        unanswered_reconciliations: operation.unanswered_reconciliations(),
        unknown_since: operation.unknown_since(),
        result: operation.result().cloned(),
        rejection: operation.rejection().cloned(),
        last_error: operation.last_error().map(str::to_owned),
        version: operation.version(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn random_histories_keep_every_invariant(history in moves(), max_attempts in 1u32..5) {
        let budget = RetryBudget { max_attempts, ..RetryBudget::default() };
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).single().unwrap();
        let mut operation = ExternalOperation::new(BusinessIdentity {
            tenant: TenantId::parse("acme").unwrap(),
            order_id: OrderId::generate(),
            order_item_id: Some(OrderItemId::generate()),
            task_id: FulfilmentTaskId::generate(),
            operation: Operation::ProvisioningActivate,
        });
        let key = operation.key().clone();
        let mut sent = 0u32;
        let mut settled: Option<OperationStatus> = None;
        for step in history {
            let before = operation.clone();
            let was_unknown = operation.needs_reconciliation();
            let outcome = match step {
                Move::Send => operation.begin_attempt().map(|_| None),
                Move::Answer(kind) => operation.record_answer(match kind {
                    0 => Answer::Applied(result()),
                    1 => Answer::Rejected(Rejection { code: "NO".into(), message: "no".into() }),
                    2 => Answer::NotApplied { reason: "503".into() },
                    _ => Answer::Unknown { reason: "timeout".into() },
                }, &budget, now).map(Some),
                Move::Reconcile(kind) => operation.reconcile(match kind {
                    0 => StatusAnswer::Applied(result()),
                    1 => StatusAnswer::NotApplied,
                    _ => StatusAnswer::Unanswered { reason: "down".into() },
                }, &budget).map(Some),
                Move::CrashFound => operation.mark_unanswered(now).map(Some),
                Move::Rearm => operation.rearm().map(|()| None),
            };
            match outcome {
                Err(_) => prop_assert_eq!(&operation, &before, "a refused command changed nothing"),
                Ok(_) => {
                    prop_assert_eq!(operation.version(), before.version() + 1);
                    if matches!(step, Move::Send) {
                        sent += 1;
                        prop_assert!(!was_unknown, "sent while the outcome was unknown");
                    }
                }
            }
            if let Some(status) = settled {
                prop_assert_eq!(operation.status(), status, "a settled operation changed");
            }
            if operation.status().is_final() {
                settled = Some(operation.status());
            }
            prop_assert_eq!(operation.attempts(), sent);
            prop_assert!(operation.failures() <= max_attempts);
            prop_assert!(
                operation.status() != OperationStatus::Exhausted || operation.failures() == max_attempts,
                "exhausted only when the budget is spent"
            );
            prop_assert_eq!(operation.key(), &key, "the key never changes");
            let restored = ExternalOperation::restore(snapshot(&operation));
            prop_assert_eq!(restored.as_ref(), Ok(&operation));
        }
    }
}
