//! The same decision sent twice at once (a retried click, two replicas): the request's lock
//! serialises them, the second finds the first's decision and returns it, so one decision
//! row and one transition are recorded.

use approval::app::decide::{self, DecideInput};
use approval::domain::{ApprovalLevel, ApprovalStatus, DecisionOutcome, QuoteId};
use domain_kernel::access::Role;

use crate::harness::{ctx, db, hash};

#[tokio::test]
async fn the_same_decision_twice_at_once_records_one_decision_and_one_transition() {
    let db = db().await;
    let request = db
        .open(QuoteId::generate(), 1, 'a', &[ApprovalLevel::Manager])
        .await;
    let decide_once = || {
        let (ports, pool) = (db.ports.clone(), db.app.clone());
        let input = DecideInput {
            request_id: request.id(),
            level: ApprovalLevel::Manager,
            outcome: DecisionOutcome::Approve { reason: None },
            price_hash: hash('a'),
            on_behalf_of: None,
        };
        tokio::spawn(async move {
            let mut tx = common_kernel::db::begin_for_tenant(&pool, &crate::harness::tenant())
                .await
                .expect("begin");
            let decided = decide::execute(
                &mut tx,
                &ports,
                &ctx("mia", &[Role::ApproverManager]),
                input,
            )
            .await
            .expect("decide");
            tx.commit().await.expect("commit");
            decided
        })
    };
    let (first, second) = (decide_once(), decide_once());
    let (first, second) = (first.await.expect("task"), second.await.expect("task"));
    assert_eq!(
        first.decision, second.decision,
        "both answer the stored decision"
    );
    assert_eq!(
        [first.repeated, second.repeated]
            .iter()
            .filter(|r| **r)
            .count(),
        1,
        "exactly one was a repeat"
    );
    assert_eq!(db.count("SELECT count(*) FROM approval_decision").await, 1);
    assert_eq!(
        db.count("SELECT count(*) FROM approval_history WHERE command = 'COMPLETE_APPROVAL'")
            .await,
        1
    );
    assert_eq!(
        db.count("SELECT count(*) FROM outbox_event WHERE event_type = 'approval.approved.v1'")
            .await,
        1
    );
    let status: String = sqlx::query_scalar("SELECT status FROM approval_request")
        .fetch_one(&db.owner)
        .await
        .expect("status");
    assert_eq!(status, ApprovalStatus::Approved.as_str());
}
