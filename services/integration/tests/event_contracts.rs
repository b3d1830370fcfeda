//! Every integration event the service can publish satisfies its contract
//! (`contracts/schemas/events/integration.*`): real external operations, moved by the domain to
//! SUCCEEDED, REJECTED and EXHAUSTED for every operation, give the outbox event of
//! `app::events::outcome_event`, whose envelope is validated as the outbox would write it. The
//! twenty event types are all covered, they go to declared topics keyed by order, and payloads
//! that break the contract are refused.

#![expect(clippy::expect_used, reason = "test set-up fails loudly")]

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::Utc;
use common_kernel::context::RequestContext;
use common_kernel::outbox::{self, NewEvent};
use domain_kernel::access::{Authority, Role};
use domain_kernel::{ActorId, ActorType, TenantId};
use integration::app::events::{AGGREGATE_TYPE, event_types, outcome_event, topic};
use integration::domain::key::{FulfilmentTaskId, OrderId, OrderItemId};
use integration::domain::{
    Answer, BusinessIdentity, ExternalOperation, ExternalSystem, Operation, OperationStatus,
    Rejection, RetryBudget,
};
use integration::infra::adapters::mapping::result_of;
use integration::workers::WORKER_ACTOR;
use serde_json::{Value, json};

/// How an operation settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settled {
    /// The downstream applied it.
    Succeeded,
    /// The downstream refused it.
    Rejected,
    /// Technical failures spent its budget.
    Exhausted,
}

const SETTLED: [Settled; 3] = [Settled::Succeeded, Settled::Rejected, Settled::Exhausted];

/// A budget of one attempt: the first technical failure exhausts it.
fn one_attempt() -> RetryBudget {
    RetryBudget {
        max_attempts: 1,
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(10),
    }
}

fn identity(operation: Operation) -> BusinessIdentity {
    // Order-level effects (CRM, contract, notification) serve no item.
    let item_level = !matches!(
        operation.system(),
        ExternalSystem::Crm | ExternalSystem::Contract | ExternalSystem::Notification
    );
    BusinessIdentity {
        tenant: TenantId::parse("acme").expect("tenant"),
        order_id: OrderId::generate(),
        order_item_id: item_level.then(OrderItemId::generate),
        task_id: FulfilmentTaskId::generate(),
        operation,
    }
}

/// A downstream's answer with every field some adapter reads, so the result is the one the
/// adapter gives the core for `operation`.
fn downstream_answer() -> Value {
    json!({
        "reservationId": "RSV-1001",
        "serviceId": "SVC-2002",
        "chargeId": "CHG-3003",
        "status": "IN_PROGRESS",
        "contractId": "CTR-4004",
        "messageId": "MSG-5005",
    })
}

/// An operation of `operation` settled as `how`, through the aggregate's own transitions.
fn settled(operation: Operation, how: Settled) -> ExternalOperation {
    let mut op = ExternalOperation::new(identity(operation));
    op.begin_attempt().expect("first attempt");
    let answer = match how {
        Settled::Succeeded => Answer::Applied(
            result_of(operation, &downstream_answer()).expect("the adapter reads the answer"),
        ),
        Settled::Rejected => Answer::Rejected(Rejection {
            code: "INSUFFICIENT_STOCK".into(),
            message: "no stock left at DC-1".into(),
        }),
        Settled::Exhausted => Answer::NotApplied {
            reason: "HTTP 503 from the downstream".into(),
        },
    };
    op.record_answer(answer, &one_attempt(), Utc::now())
        .expect("the answer is recorded");
    op
}

fn worker_context() -> RequestContext {
    RequestContext::system(
        TenantId::parse("acme").expect("tenant"),
        ActorId::parse(WORKER_ACTOR).expect("actor"),
        ActorType::WorkflowWorker,
        "workflow",
        Authority {
            roles: vec![Role::WorkflowWorker],
            client: "integration".into(),
            ..Authority::default()
        },
    )
}

/// The envelope the outbox writes for `event`.
fn envelope(event: NewEvent) -> Value {
    serde_json::to_value(outbox::envelope(&worker_context(), event, Utc::now()))
        .expect("envelope serialises")
}

/// The envelope of `operation` settled as `how`, checked against what the event must say.
fn settled_envelope(operation: Operation, how: Settled) -> Value {
    let op = settled(operation, how);
    let event = outcome_event(&op)
        .expect("payload serialises")
        .unwrap_or_else(|| panic!("{operation} {how:?} publishes an event"));
    let (succeeded, failed) = event_types(operation);
    let expected = if how == Settled::Succeeded {
        succeeded
    } else {
        failed
    };
    assert_eq!(event.event_type, expected, "{operation} {how:?}");
    assert_eq!(event.topic, topic(operation.system()));
    assert_eq!(event.aggregate_type, AGGREGATE_TYPE);
    assert_eq!(event.aggregate_id, op.id().to_string());
    assert_eq!(event.partition_key, op.identity().order_id.to_string());
    envelope(event)
}

fn refused(envelope: &Value) -> Vec<String> {
    match event_contracts::validate(envelope) {
        Ok(()) => panic!("accepted: {envelope:#}"),
        Err(error) => error
            .violations()
            .iter()
            .map(|v| v.pointer.clone())
            .collect(),
    }
}

#[test]
fn every_operation_settled_every_way_publishes_a_valid_event_and_all_twenty_are_covered() {
    let mut covered = BTreeSet::new();
    for operation in Operation::ALL {
        for how in SETTLED {
            let envelope = settled_envelope(operation, how);
            event_contracts::validate(&envelope)
                .unwrap_or_else(|e| panic!("{operation} {how:?}: {e}\n{envelope:#}"));
            let payload = &envelope["payload"];
            assert_eq!(payload["operation"], operation.as_str());
            assert_eq!(payload["system"], operation.system().as_str());
            assert_eq!(payload["attempts"], 1);
            match how {
                Settled::Succeeded => {
                    assert_eq!(payload["outcome"], "SUCCEEDED");
                    assert!(payload["failure"].is_null());
                }
                Settled::Rejected => {
                    assert_eq!(payload["outcome"], "REJECTED_BUSINESS");
                    assert_eq!(payload["failure"]["code"], "INSUFFICIENT_STOCK");
                    assert_eq!(payload["failure"]["retryable"], false);
                }
                Settled::Exhausted => {
                    assert_eq!(payload["outcome"], "FAILED_TECHNICAL");
                    assert_eq!(payload["failure"]["code"], "RETRY_BUDGET_EXHAUSTED");
                    assert_eq!(payload["failure"]["retryable"], true);
                }
            }
            covered.insert(
                envelope["eventType"]
                    .as_str()
                    .expect("event type")
                    .to_owned(),
            );
        }
    }
    let contracted: BTreeSet<String> = event_contracts::event_types()
        .expect("schemas load")
        .into_iter()
        .filter(|t| t.starts_with("integration."))
        .map(str::to_owned)
        .collect();
    assert_eq!(contracted.len(), 20, "{contracted:?}");
    assert_eq!(
        covered, contracted,
        "every contract has a publisher and back"
    );
}

#[test]
fn only_settled_operations_publish() {
    let operation = Operation::ProvisioningActivate;
    let mut op = ExternalOperation::new(identity(operation));
    assert_eq!(
        outcome_event(&op)
            .expect("serialises")
            .map(|e| e.event_type),
        None
    );
    op.begin_attempt().expect("attempt");
    assert_eq!(op.status(), OperationStatus::InFlight);
    assert!(outcome_event(&op).expect("serialises").is_none());
    op.record_answer(
        Answer::NotApplied {
            reason: "HTTP 503".into(),
        },
        &RetryBudget::default(),
        Utc::now(),
    )
    .expect("retry wait");
    assert_eq!(op.status(), OperationStatus::RetryWait);
    assert!(outcome_event(&op).expect("serialises").is_none());
    op.begin_attempt().expect("second attempt");
    op.record_answer(
        Answer::Unknown {
            reason: "timed out".into(),
        },
        &RetryBudget::default(),
        Utc::now(),
    )
    .expect("unknown");
    assert_eq!(op.status(), OperationStatus::OutcomeUnknown);
    assert!(
        outcome_event(&op).expect("serialises").is_none(),
        "an unknown outcome is reconciled, never published"
    );
}

#[test]
fn events_go_to_declared_topics_keyed_by_order() {
    let declared = messaging::topics::declared().expect("contracts/topics.json");
    for system in ExternalSystem::ALL {
        let name = topic(system);
        let spec = declared
            .iter()
            .find(|spec| spec.topic == name)
            .unwrap_or_else(|| panic!("{name} ({system}) is not in contracts/topics.json"));
        assert_eq!(spec.key, "orderId", "{name}");
        assert_eq!(spec.owner, "integration", "{name}");
    }
}

#[test]
fn payloads_that_break_the_contract_are_refused() {
    let succeeded = settled_envelope(Operation::InventoryReserve, Settled::Succeeded);
    let rejected = settled_envelope(Operation::InventoryReserve, Settled::Rejected);
    let exhausted = settled_envelope(Operation::BillingStart, Settled::Exhausted);

    // SUCCEEDED without a result.
    let mut no_result = succeeded.clone();
    no_result["payload"]["result"] = Value::Null;
    assert!(refused(&no_result).contains(&"/payload/result".to_owned()));
    let mut missing_result = succeeded.clone();
    missing_result["payload"]
        .as_object_mut()
        .expect("payload")
        .remove("result");
    assert!(refused(&missing_result).contains(&"/payload/result".to_owned()));

    // A success event that says it failed, or carries a failure.
    let mut not_succeeded = succeeded.clone();
    not_succeeded["payload"]["outcome"] = json!("REJECTED_BUSINESS");
    assert!(refused(&not_succeeded).contains(&"/payload/outcome".to_owned()));
    let mut with_failure = succeeded.clone();
    with_failure["payload"]["failure"] = rejected["payload"]["failure"].clone();
    assert!(refused(&with_failure).contains(&"/payload/failure".to_owned()));

    // Another operation's payload under this event type; a state the operation never reaches.
    let mut other_operation = succeeded.clone();
    other_operation["payload"]["operation"] = json!("INVENTORY_RELEASE");
    assert!(refused(&other_operation).contains(&"/payload/operation".to_owned()));
    let mut other_state = succeeded.clone();
    other_state["payload"]["result"]["externalState"] = json!("RELEASED");
    assert!(refused(&other_state).contains(&"/payload/result/externalState".to_owned()));

    // A failure event without its failure, or with a result.
    let mut no_failure = rejected.clone();
    no_failure["payload"]["failure"] = Value::Null;
    assert!(refused(&no_failure).contains(&"/payload/failure".to_owned()));
    let mut with_result = rejected.clone();
    with_result["payload"]["result"] = succeeded["payload"]["result"].clone();
    assert!(refused(&with_result).contains(&"/payload/result".to_owned()));
    let mut succeeded_failure = rejected.clone();
    succeeded_failure["payload"]["outcome"] = json!("SUCCEEDED");
    assert!(refused(&succeeded_failure).contains(&"/payload/outcome".to_owned()));

    // Class, status and retryability agree.
    let mut rejected_but_exhausted = rejected.clone();
    rejected_but_exhausted["payload"]["status"] = json!("EXHAUSTED");
    assert!(refused(&rejected_but_exhausted).contains(&"/payload/status".to_owned()));
    let mut retryable_refusal = rejected.clone();
    retryable_refusal["payload"]["failure"]["retryable"] = json!(true);
    assert!(refused(&retryable_refusal).contains(&"/payload/failure/retryable".to_owned()));
    let mut exhausted_code = exhausted.clone();
    exhausted_code["payload"]["failure"]["code"] = json!("INSUFFICIENT_STOCK");
    assert!(refused(&exhausted_code).contains(&"/payload/failure/code".to_owned()));

    // Shape: camelCase names, nullable fields present, ids and keys in their form.
    let mut no_item = succeeded.clone();
    no_item["payload"]
        .as_object_mut()
        .expect("payload")
        .remove("orderItemId");
    assert!(refused(&no_item).contains(&"/payload/orderItemId".to_owned()));
    let mut bad_key = succeeded.clone();
    bad_key["payload"]["idempotencyKey"] = json!("reserve-1");
    assert!(refused(&bad_key).contains(&"/payload/idempotencyKey".to_owned()));
    let mut bad_order = succeeded.clone();
    bad_order["payload"]["orderId"] = json!("ord-1");
    assert!(refused(&bad_order).contains(&"/payload/orderId".to_owned()));
    let mut unknown_system = succeeded;
    unknown_system["payload"]["system"] = json!("ERP");
    assert!(refused(&unknown_system).contains(&"/payload/system".to_owned()));
    let mut wrong_aggregate = exhausted;
    wrong_aggregate["aggregateType"] = json!("FulfilmentTask");
    assert!(refused(&wrong_aggregate).contains(&"/aggregateType".to_owned()));
}
