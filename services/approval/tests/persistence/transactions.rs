//! Rows, history, outbox event and audit evidence share the command's transaction: a rollback
//! leaves none of them, a commit leaves all, and every envelope written satisfies its contract.

use approval::app::decide::{self, DecideInput};
use approval::domain::{ApprovalLevel, DecisionOutcome, QuoteId, Reason};
use common_kernel::audit::AUDIT_EVENT_TYPE;
use domain_kernel::access::Role;
use serde_json::Value;

use crate::harness::{ctx, db, hash, open_in};

const COUNTS: &str = "SELECT (SELECT count(*) FROM approval_request) + (SELECT count(*) FROM approval_history) \
     + (SELECT count(*) FROM approval_decision) + (SELECT count(*) FROM outbox_event)";

#[tokio::test]
async fn a_rollback_leaves_neither_rows_nor_events_nor_evidence() {
    let db = db().await;
    let mut tx = db.tx().await;
    let request = open_in(
        &mut tx,
        &db.ports,
        QuoteId::generate(),
        1,
        'a',
        &[ApprovalLevel::Manager],
    )
    .await
    .expect("open");
    decide::execute(
        &mut tx,
        &db.ports,
        &ctx("mia", &[Role::ApproverManager]),
        DecideInput {
            request_id: request.id(),
            level: ApprovalLevel::Manager,
            outcome: DecisionOutcome::Reject {
                reason: Reason::parse("margin too thin").expect("reason"),
            },
            price_hash: hash('a'),
            on_behalf_of: None,
        },
    )
    .await
    .expect("reject");
    let written: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox_event")
        .fetch_one(&mut *tx)
        .await
        .expect("inside");
    assert_eq!(
        written, 4,
        "requested + rejected events and two audit records, inside"
    );
    tx.rollback().await.expect("rollback");
    assert_eq!(db.count(COUNTS).await, 0);
}

#[tokio::test]
async fn a_commit_leaves_events_and_evidence_that_satisfy_their_contracts() {
    let db = db().await;
    let request = db
        .open(QuoteId::generate(), 1, 'a', &[ApprovalLevel::Manager])
        .await;
    let mut tx = db.tx().await;
    decide::execute(
        &mut tx,
        &db.ports,
        &ctx("mia", &[Role::ApproverManager]),
        DecideInput {
            request_id: request.id(),
            level: ApprovalLevel::Manager,
            outcome: DecisionOutcome::Approve { reason: None },
            price_hash: hash('a'),
            on_behalf_of: None,
        },
    )
    .await
    .expect("approve");
    tx.commit().await.expect("commit");
    let envelopes: Vec<Value> =
        sqlx::query_scalar("SELECT envelope FROM outbox_event ORDER BY outbox_seq")
            .fetch_all(&db.owner)
            .await
            .expect("envelopes");
    let types: Vec<&str> = envelopes
        .iter()
        .map(|e| e["eventType"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        types,
        [
            "approval.requested.v1",
            AUDIT_EVENT_TYPE,
            "approval.approved.v1",
            AUDIT_EVENT_TYPE
        ]
    );
    for envelope in &envelopes {
        event_contracts::validate(envelope).unwrap_or_else(|e| panic!("{e:?}: {envelope:#}"));
    }
    let evidence = &envelopes[3]["payload"];
    assert_eq!(evidence["actor"]["actorId"], "mia");
    assert_eq!(evidence["via"], "cpq-service");
    assert_eq!(evidence["policy"]["policyVersion"], "2026-12-01");
    assert_eq!(evidence["before"]["status"], "PENDING");
    assert_eq!(evidence["after"]["status"], "APPROVED");
    assert_eq!(evidence["after"]["quote"]["revision"], 1);
    assert_eq!(evidence["after"]["quote"]["priceHash"], hash('a').as_str());
    let history: (String, Option<String>) = sqlx::query_as(
        "SELECT actor_id, via FROM approval_history WHERE command = 'COMPLETE_APPROVAL'",
    )
    .fetch_one(&db.owner)
    .await
    .expect("history");
    assert_eq!(history, ("mia".to_owned(), Some("cpq-service".to_owned())));
}
