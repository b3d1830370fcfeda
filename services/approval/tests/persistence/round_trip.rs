//! What is saved is what is restored: a request after opening, decisions, an escalation and a
//! reassignment reads back equal to the aggregate in memory.

use approval::app::decide::{self, DecideInput};
use approval::app::escalate;
use approval::app::queries;
use approval::app::reassign::{self, ReassignInput};
use approval::domain::{
    ApprovalLevel, ApprovalStatus, Assignment, DecisionOutcome, Quorum, QuoteId, Reason,
};
use domain_kernel::access::Role;

use crate::harness::{self, SUBMITTER, ctx, db, group, hash, later};

#[tokio::test]
async fn a_request_reads_back_equal_after_each_command() {
    let db = db().await;
    let levels = [ApprovalLevel::Manager, ApprovalLevel::Director];
    let opened = db.open(QuoteId::generate(), 1, 'a', &levels).await;
    let viewer = ctx(SUBMITTER, &[Role::SalesAgent]);

    let mut tx = db.tx().await;
    let found = queries::find(&mut tx, &db.ports, &viewer, opened.id())
        .await
        .expect("find");
    assert_eq!(found, opened, "opened");

    let approve = DecideInput {
        request_id: opened.id(),
        level: ApprovalLevel::Manager,
        outcome: DecisionOutcome::Approve {
            reason: Some(Reason::parse("margin fine").expect("reason")),
        },
        price_hash: hash('a'),
        on_behalf_of: None,
    };
    let decided = decide::execute(
        &mut tx,
        &db.ports,
        &ctx("mia", &[Role::ApproverManager]),
        approve,
    )
    .await
    .expect("decide");
    assert!(!decided.repeated);
    let found = queries::find(&mut tx, &db.ports, &viewer, opened.id())
        .await
        .expect("find");
    assert_eq!(found, decided.request, "after a decision");

    let moved = reassign::execute(
        &mut tx,
        &db.ports,
        &ctx("olga", &[Role::Operator]),
        ReassignInput {
            request_id: opened.id(),
            level: ApprovalLevel::Director,
            to: Assignment::Parallel {
                groups: vec![group("directors"), group("emea-directors")],
                quorum: Quorum::Any,
            },
            due: later(-1),
            reason: Reason::parse("holiday").expect("reason"),
        },
    )
    .await
    .expect("reassign");
    let reminded = escalate::execute(
        &mut tx,
        &db.ports,
        &ctx("zeebe-worker", &[Role::Operator]),
        opened.id(),
        later(30),
    )
    .await
    .expect("escalate");
    assert_eq!(reminded.escalations().len(), 2);
    assert_ne!(moved, reminded);
    let found = queries::find(&mut tx, &db.ports, &viewer, opened.id())
        .await
        .expect("find");
    assert_eq!(found, reminded, "after a reassignment and a reminder");
    assert_eq!(found.status(), ApprovalStatus::Pending);
    assert_eq!(found.version().get(), 4);
    tx.commit().await.expect("commit");
}

#[tokio::test]
async fn no_level_means_not_required_and_reads_back() {
    let db = db().await;
    let quote = QuoteId::generate();
    let opened = db.open(quote, 1, 'b', &[]).await;
    assert_eq!(opened.status(), ApprovalStatus::NotRequired);
    let mut tx = db.tx().await;
    let by_quote = queries::by_quote(
        &mut tx,
        &db.ports,
        &harness::ctx(SUBMITTER, &[Role::SalesAgent]),
        quote,
    )
    .await
    .expect("by quote");
    assert_eq!(by_quote, vec![opened]);
}

#[tokio::test]
async fn open_tasks_list_the_open_level_of_pending_requests() {
    let db = db().await;
    let first = db
        .open(
            QuoteId::generate(),
            1,
            'c',
            &[ApprovalLevel::Manager, ApprovalLevel::Director],
        )
        .await;
    db.open(QuoteId::generate(), 1, 'd', &[]).await;
    let mut tx = db.tx().await;
    let managers = queries::my_tasks(
        &mut tx,
        &db.ports,
        &ctx("mia", &[Role::ApproverManager]),
        10,
    )
    .await
    .expect("tasks");
    assert_eq!(managers.len(), 1);
    assert_eq!(managers[0].request_id, first.id());
    assert_eq!(managers[0].level, ApprovalLevel::Manager);
    let directors = queries::my_tasks(
        &mut tx,
        &db.ports,
        &ctx("dan", &[Role::ApproverDirector]),
        10,
    )
    .await
    .expect("tasks");
    assert!(directors.is_empty(), "the director level is not open yet");
}
