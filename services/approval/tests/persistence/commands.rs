//! Refusals and the closing commands: the submitter never decides, a level is decided only
//! with its own permission and role and in order, supersession closes what no longer matches
//! the quote, a recall needs the submitter; a refusal writes nothing.

use approval::app::decide::{self, DecideInput};
use approval::app::error::AppError;
use approval::app::recall;
use approval::app::supersede::{self, SupersedeInput};
use approval::domain::{
    ApprovalError, ApprovalLevel, ApprovalStatus, DecisionOutcome, QuoteId, QuoteRevision, Reason,
};
use domain_kernel::access::Role;

use crate::harness::{Db, SUBMITTER, ctx, db, hash};

fn approve(request: &approval::domain::ApprovalRequest, level: ApprovalLevel) -> DecideInput {
    DecideInput {
        request_id: request.id(),
        level,
        outcome: DecisionOutcome::Approve { reason: None },
        price_hash: request.quote().price_hash.clone(),
        on_behalf_of: None,
    }
}

async fn decide_as(
    db: &Db,
    actor: &str,
    roles: &[Role],
    input: DecideInput,
) -> Result<decide::Decided, AppError> {
    let mut tx = db.tx().await;
    let result = decide::execute(&mut tx, &db.ports, &ctx(actor, roles), input).await;
    if result.is_ok() {
        tx.commit().await.expect("commit");
    }
    result
}

#[tokio::test]
async fn the_submitter_never_decides_their_own_request() {
    let db = db().await;
    let request = db
        .open(QuoteId::generate(), 1, 'a', &[ApprovalLevel::Manager])
        .await;
    let refused = decide_as(
        &db,
        SUBMITTER,
        &[Role::ApproverManager],
        approve(&request, ApprovalLevel::Manager),
    )
    .await
    .expect_err("refused");
    assert!(
        matches!(refused, AppError::Refused(ApprovalError::SelfDecision)),
        "{refused:?}"
    );
    assert_eq!(refused.code(), "APPROVAL_SELF_DECISION");
    assert_eq!(db.count("SELECT count(*) FROM approval_decision").await, 0);
}

#[tokio::test]
async fn a_level_needs_its_permission_its_role_and_its_turn() {
    let db = db().await;
    let levels = [ApprovalLevel::Manager, ApprovalLevel::Director];
    let request = db.open(QuoteId::generate(), 1, 'a', &levels).await;
    // The permission table: someone without any approver role decides nothing.
    let forbidden = decide_as(
        &db,
        "sam",
        &[Role::SalesAgent],
        approve(&request, ApprovalLevel::Manager),
    )
    .await
    .expect_err("forbidden");
    assert!(matches!(forbidden, AppError::Forbidden(_)), "{forbidden:?}");
    assert_eq!(forbidden.code(), "FORBIDDEN_ACTION");
    // The director may, but not before the manager's level …
    let early = decide_as(
        &db,
        "dan",
        &[Role::ApproverDirector],
        approve(&request, ApprovalLevel::Director),
    )
    .await
    .expect_err("not open");
    assert_eq!(early.code(), "APPROVAL_LEVEL_NOT_OPEN");
    // … and the permission table lets a director act at manager level, the chain does not.
    let covered = decide_as(
        &db,
        "dan",
        &[Role::ApproverDirector],
        approve(&request, ApprovalLevel::Manager),
    )
    .await
    .expect_err("not covered");
    assert_eq!(covered.code(), "APPROVAL_LEVEL_NOT_COVERED");
    assert_eq!(db.count("SELECT count(*) FROM approval_decision").await, 0);
    assert_eq!(
        db.count("SELECT count(*) FROM approval_history").await,
        1,
        "only the opening"
    );
    decide_as(
        &db,
        "mia",
        &[Role::ApproverManager],
        approve(&request, ApprovalLevel::Manager),
    )
    .await
    .expect("the manager decides");
    // A manager never decides the director's level, even once it is open.
    let manager_at_director = decide_as(
        &db,
        "max",
        &[Role::ApproverManager],
        approve(&request, ApprovalLevel::Director),
    )
    .await
    .expect_err("not covered");
    assert_eq!(manager_at_director.code(), "APPROVAL_LEVEL_NOT_COVERED");
    let done = decide_as(
        &db,
        "dan",
        &[Role::ApproverDirector],
        approve(&request, ApprovalLevel::Director),
    )
    .await
    .expect("then the director");
    assert_eq!(done.request.status(), ApprovalStatus::Approved);
}

#[tokio::test]
async fn supersession_closes_every_request_that_no_longer_matches_the_quote() {
    let db = db().await;
    let quote = QuoteId::generate();
    let pending = db.open(quote, 1, 'a', &[ApprovalLevel::Manager]).await;
    let not_required = db.open(quote, 2, 'b', &[]).await;
    // The request for exactly the current revision and hash stays.
    db.open(quote, 3, 'c', &[]).await;
    let mut tx = db.tx().await;
    let superseded = supersede::execute(
        &mut tx,
        &db.ports,
        &ctx(SUBMITTER, &[Role::SalesAgent]),
        SupersedeInput {
            quote_id: quote,
            revision: QuoteRevision::new(3).expect("revision"),
            price_hash: Some(hash('c')),
            reason: Reason::parse("quote revised").expect("reason"),
        },
    )
    .await
    .expect("supersede");
    tx.commit().await.expect("commit");
    let mut expected = vec![pending.id(), not_required.id()];
    expected.sort_by_key(|id| id.as_uuid());
    let mut got = superseded.clone();
    got.sort_by_key(|id| id.as_uuid());
    assert_eq!(got, expected);
    let statuses: Vec<(String,)> =
        sqlx::query_as("SELECT status FROM approval_request ORDER BY quote_revision")
            .fetch_all(&db.owner)
            .await
            .expect("statuses");
    let statuses: Vec<&str> = statuses.iter().map(|(s,)| s.as_str()).collect();
    assert_eq!(statuses, ["SUPERSEDED", "SUPERSEDED", "NOT_REQUIRED"]);
    assert_eq!(
        db.count("SELECT count(*) FROM outbox_event WHERE event_type = 'approval.superseded.v1'")
            .await,
        2
    );
}

#[tokio::test]
async fn only_the_submitter_recalls() {
    let db = db().await;
    let request = db
        .open(QuoteId::generate(), 1, 'a', &[ApprovalLevel::Manager])
        .await;
    let reason = Reason::parse("customer withdrew").expect("reason");
    let mut tx = db.tx().await;
    let refused = recall::execute(
        &mut tx,
        &db.ports,
        &ctx("sam", &[Role::SalesAgent]),
        request.id(),
        reason.clone(),
    )
    .await
    .expect_err("not the submitter");
    assert_eq!(refused.code(), "APPROVAL_RECALL_NOT_SUBMITTER");
    let recalled = recall::execute(
        &mut tx,
        &db.ports,
        &ctx(SUBMITTER, &[Role::SalesAgent]),
        request.id(),
        reason,
    )
    .await
    .expect("recall");
    tx.commit().await.expect("commit");
    assert_eq!(recalled.status(), ApprovalStatus::Cancelled);
    assert_eq!(
        db.count("SELECT count(*) FROM approval_request WHERE closed_at IS NOT NULL")
            .await,
        1
    );
    assert_eq!(
        db.count(
            "SELECT count(*) FROM outbox_event WHERE event_type = 'approval.recalled.v1' \
             AND envelope #>> '{payload,status}' = 'CANCELLED' \
             AND envelope #>> '{payload,reason}' = 'customer withdrew'"
        )
        .await,
        1
    );
}
