//! Expiry, deciding on someone's behalf, and a schema guard surfacing as its stable code.

use approval::app::decide::{self, DecideInput};
use approval::app::error::AppError;
use approval::app::expire;
use approval::app::open_request::{self, OpenInput};
use approval::app::ports::GuardViolation;
use approval::domain::{
    ApprovalLevel, ApprovalStatus, DecisionOutcome, Delegation, DelegationId, QuoteId,
};
use domain_kernel::ActorId;
use domain_kernel::access::Role;

use crate::harness::{SUBMITTER, ctx, db, hash, later, open_in, plan, quote_ref, snapshot};

#[tokio::test]
async fn expiry_closes_pending_requests_whose_time_is_over() {
    let db = db().await;
    let quote = QuoteId::generate();
    let mut tx = db.tx().await;
    let input = OpenInput {
        quote: quote_ref(quote, 1, 'a'),
        snapshot: snapshot(&[ApprovalLevel::Manager]),
        chain: vec![plan(ApprovalLevel::Manager, later(-5))],
        skips: Vec::new(),
        expires_at: later(-1),
    };
    let due = open_request::execute(
        &mut tx,
        &db.ports,
        &ctx(SUBMITTER, &[Role::SalesAgent]),
        input,
    )
    .await
    .expect("open");
    open_in(
        &mut tx,
        &db.ports,
        QuoteId::generate(),
        1,
        'b',
        &[ApprovalLevel::Manager],
    )
    .await
    .expect("open another");
    let expired = expire::execute(
        &mut tx,
        &db.ports,
        &ctx("approval-expiry", &[Role::Operator]),
        10,
    )
    .await
    .expect("expire");
    tx.commit().await.expect("commit");
    assert_eq!(expired, vec![due.id()]);
    let statuses: Vec<String> =
        sqlx::query_scalar("SELECT status FROM approval_request ORDER BY status")
            .fetch_all(&db.owner)
            .await
            .expect("statuses");
    assert_eq!(
        statuses,
        [
            ApprovalStatus::Expired.as_str(),
            ApprovalStatus::Pending.as_str()
        ]
    );
    // Consumers (CPQ, ops) learn it: one event, about the expired request only, as its
    // contract describes it.
    let events: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT envelope FROM outbox_event WHERE event_type = 'approval.expired.v1'",
    )
    .fetch_all(&db.owner)
    .await
    .expect("events");
    assert_eq!(events.len(), 1);
    event_contracts::validate(&events[0]).unwrap_or_else(|e| panic!("{e:?}: {:#}", events[0]));
    assert_eq!(events[0]["aggregateId"], due.id().to_string());
    assert_eq!(events[0]["payload"]["status"], "EXPIRED");
    assert_eq!(events[0]["payload"]["fromStatus"], "PENDING");
}

#[tokio::test]
async fn a_delegate_decides_for_the_principal_and_both_are_recorded() {
    let db = db().await;
    let request = db
        .open(QuoteId::generate(), 1, 'a', &[ApprovalLevel::Manager])
        .await;
    let mut tx = db.tx().await;
    let who = |n: &str| ActorId::parse(n).expect("actor");
    db.ports
        .requests
        .insert_delegation(
            &mut tx,
            &ctx("mia", &[Role::ApproverManager]),
            &Delegation {
                id: DelegationId::generate(),
                delegator: who("mia"),
                delegate: who("max"),
                valid_from: later(-10),
                valid_until: later(60),
            },
        )
        .await
        .expect("delegate");
    let decided = decide::execute(
        &mut tx,
        &db.ports,
        &ctx("max", &[Role::ApproverManager]),
        DecideInput {
            request_id: request.id(),
            level: ApprovalLevel::Manager,
            outcome: DecisionOutcome::Approve { reason: None },
            price_hash: hash('a'),
            on_behalf_of: Some(who("mia")),
        },
    )
    .await
    .expect("on behalf");
    tx.commit().await.expect("commit");
    assert_eq!(decided.decision.principal(), &who("mia"));
    let row: (String, Option<String>) =
        sqlx::query_as("SELECT actor_id, on_behalf_of FROM approval_decision")
            .fetch_one(&db.owner)
            .await
            .expect("decision");
    assert_eq!(row, ("max".to_owned(), Some("mia".to_owned())));
}

#[tokio::test]
async fn a_second_open_request_for_one_revision_is_refused_by_name() {
    let db = db().await;
    let quote = QuoteId::generate();
    db.open(quote, 1, 'a', &[ApprovalLevel::Manager]).await;
    let mut tx = db.tx().await;
    let refused = open_in(&mut tx, &db.ports, quote, 1, 'a', &[ApprovalLevel::Manager])
        .await
        .expect_err("one open request per revision");
    assert!(
        matches!(refused, AppError::Guard(GuardViolation::OpenRequestExists)),
        "{refused:?}"
    );
    assert_eq!(refused.code(), "APPROVAL_REQUEST_ALREADY_OPEN");
}
