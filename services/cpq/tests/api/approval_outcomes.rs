//! CPQ follows the approval service (ADR 0035): each approval event's effect on the quote,
//! through the consumer's handler on the jobs role's pool; events about another revision or
//! price, or for a quote that no longer waits, move nothing and are recorded with why; accept
//! waits for an approval of the current revision and price.

use cpq::app::approval_outcomes::ApprovalEffect;
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use crate::approval_support::ApprovalEvent;
use crate::harness::{TestApp, expect_problem};

/// One history row: command, from, to, actor, via, reason.
type HistoryRow = (
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
);

async fn history(app: &TestApp, quote: Uuid) -> Vec<HistoryRow> {
    sqlx::query_as(
        "SELECT command, from_status, to_status, actor_id, via, reason FROM quote_history \
         WHERE quote_id = $1 ORDER BY history_id",
    )
    .bind(quote)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

/// The audit evidence payloads about `quote`, in commit order.
async fn evidence(app: &TestApp, quote: Uuid) -> Vec<Value> {
    app.outbox()
        .await
        .into_iter()
        .filter(|(_, _, t, e)| {
            t == "audit.evidence-submitted.v1" && e["aggregateId"] == quote.to_string()
        })
        .map(|(_, _, _, envelope)| envelope["payload"].clone())
        .collect()
}

/// The quote event types written for `quote`, in commit order.
async fn quote_events(app: &TestApp, quote: Uuid) -> Vec<String> {
    app.outbox()
        .await
        .into_iter()
        .filter(|(topic, key, _, _)| topic == "cpq.quote.events.v1" && *key == quote.to_string())
        .map(|(_, _, event_type, _)| event_type)
        .collect()
}

/// A priced and submitted quote; returns it and its view.
async fn submitted(app: &TestApp) -> (Uuid, Value) {
    let quote = app.configured_quote().await;
    app.command(quote, "price").await;
    let view = app.command(quote, "submit").await;
    assert_eq!(view["status"], "SUBMITTED", "{view}");
    (quote, view)
}

/// A quote whose request did not approve: accept is refused, and its seller's revise opens
/// draft revision 2 with no request yet.
async fn cannot_accept_but_revises(app: &TestApp, quote: Uuid) {
    expect_problem(
        app.post_empty(&format!("/quotes/{quote}/accept")).await,
        StatusCode::CONFLICT,
        "ILLEGAL_TRANSITION",
    )
    .await;
    let revised = app.command(quote, "revise").await;
    assert_eq!(
        (revised["status"].as_str(), revised["revision"].as_i64()),
        (Some("DRAFT"), Some(2))
    );
    assert!(
        app.quote(quote).await["approvalRequest"].is_null(),
        "no request for revision 2 yet"
    );
    assert_eq!(
        quote_events(app, quote).await.last().map(String::as_str),
        Some("cpq.quote.revised.v1")
    );
}

fn moved(from: &str, to: &str) -> ApprovalEffect {
    let status = |s| cpq::domain::quote::QuoteStatus::parse(s).unwrap();
    ApprovalEffect::Moved {
        from: status(from),
        to: status(to),
    }
}

#[tokio::test]
async fn pending_escalated_approved_then_accepted_with_the_approvers_evidence() {
    let app = TestApp::spawn().await;
    let (quote, view) = submitted(&app).await;
    expect_problem(
        app.post_empty(&format!("/quotes/{quote}/accept")).await,
        StatusCode::CONFLICT,
        "ILLEGAL_TRANSITION",
    )
    .await;

    let requested = ApprovalEvent::requested(&view, "PENDING");
    assert_eq!(
        app.deliver(&requested).await,
        moved("SUBMITTED", "APPROVAL_PENDING")
    );
    let pending = app.quote(quote).await;
    assert_eq!(pending["status"], "APPROVAL_PENDING");
    assert_eq!(pending["pricingState"], "PRICED");
    assert_eq!(
        pending["approvalRequest"]["requestId"],
        requested.request.to_string()
    );
    assert_eq!(pending["approvalRequest"]["policyId"], "quote-approval");
    assert_eq!(pending["approvalRequest"]["policyVersion"], "1");
    expect_problem(
        app.post_empty(&format!("/quotes/{quote}/accept")).await,
        StatusCode::CONFLICT,
        "ILLEGAL_TRANSITION",
    )
    .await;

    // An escalation is evidence only.
    let escalated = requested.then("approval.escalated.v1", "PENDING");
    assert_eq!(
        app.deliver(&escalated).await,
        ApprovalEffect::Unmoved("EVIDENCE_ONLY")
    );
    assert_eq!(
        app.quote(quote).await["aggregateVersion"],
        pending["aggregateVersion"]
    );

    let approved = escalated.approved();
    assert_eq!(
        app.deliver(&approved).await,
        moved("APPROVAL_PENDING", "APPROVED")
    );
    let view = app.quote(quote).await;
    assert_eq!(view["status"], "APPROVED");
    assert_eq!(view["pricingState"], "FROZEN");
    assert_eq!(view["approval"]["approvedPriceHash"], view["priceHash"]);
    assert_eq!(view["approval"]["approvedBy"], "manager1");
    let request = &view["approvalRequest"];
    assert_eq!(request["status"], "APPROVED");
    assert_eq!(request["levels"][0]["state"], "SATISFIED");
    assert_eq!(request["decisions"][0]["actor"], "manager1");
    assert_eq!(request["decisions"][0]["decision"], "APPROVE");
    assert_eq!(request["decisions"][0]["level"], "MANAGER");
    assert!(request["decisions"][0]["onBehalfOf"].is_null());
    assert_eq!(request["decisions"][0]["reason"], "fine by me");

    let rows = history(&app, quote).await;
    let approval_rows: Vec<String> = rows[3..]
        .iter()
        .map(|(c, f, t, a, v, _)| {
            format!(
                "{c} {} -> {t} by {a} via {}",
                f.as_deref().unwrap_or("-"),
                v.as_deref().unwrap_or("-")
            )
        })
        .collect();
    assert_eq!(
        approval_rows,
        [
            "APPROVAL_REQUESTED SUBMITTED -> APPROVAL_PENDING by approval-service via approval",
            "APPROVAL_EVIDENCE_RECORDED APPROVAL_PENDING -> APPROVAL_PENDING by approval-service via approval",
            "APPROVE APPROVAL_PENDING -> APPROVED by manager1 via approval",
        ]
    );
    assert_eq!(
        quote_events(&app, quote).await[2..],
        [
            "cpq.quote.submitted.v2",
            "cpq.quote.approval-pending.v1",
            "cpq.quote.approved.v1"
        ]
    );
    // Audit: who (the approver, via the approval service), before and after, revision, hash and
    // the approval service's policy.
    let audit = evidence(&app, quote).await;
    let approval = audit
        .iter()
        .find(|e| e["eventType"] == "cpq.quote.approved")
        .unwrap();
    assert_eq!(approval["actor"]["actorId"], "manager1");
    assert_eq!(approval["via"], "approval");
    assert_eq!(approval["before"]["status"], "APPROVAL_PENDING");
    assert_eq!(approval["after"]["status"], "APPROVED");
    assert_eq!(approval["after"]["revision"], 1);
    assert_eq!(approval["after"]["approvedPriceHash"], view["priceHash"]);
    assert_eq!(approval["policy"]["policyId"], "quote-approval");
    assert_eq!(approval["policy"]["policyVersion"], "1");
    assert!(
        audit
            .iter()
            .any(|e| e["eventType"] == "cpq.quote.approval-evidence-recorded")
    );

    let accepted = app.command(quote, "accept").await;
    assert_eq!(accepted["status"], "ACCEPTED");
    assert_eq!(accepted["approvalRequest"]["status"], "APPROVED");
    // Superseded after the fact: evidence, the accepted quote stays.
    let superseded = {
        let mut next = approved.then("approval.superseded.v1", "SUPERSEDED");
        next.reason = Some("late supersession".into());
        next
    };
    assert_eq!(
        app.deliver(&superseded).await,
        ApprovalEffect::Unmoved("EVIDENCE_ONLY")
    );
    assert_eq!(app.quote(quote).await["status"], "ACCEPTED");
    app.stop().await;
}

#[tokio::test]
async fn a_rejection_then_a_revise_opens_a_new_draft_revision() {
    let app = TestApp::spawn().await;
    let (quote, view) = submitted(&app).await;
    let rejected = ApprovalEvent::requested(&view, "PENDING").rejected("margin too thin");
    // Decided before CPQ saw it PENDING: the outcome still counts.
    assert_eq!(app.deliver(&rejected).await, moved("SUBMITTED", "REJECTED"));
    let view = app.quote(quote).await;
    assert_eq!(view["status"], "REJECTED");
    assert!(view["approval"].is_null());
    assert_eq!(view["approvalRequest"]["status"], "REJECTED");
    assert_eq!(
        view["approvalRequest"]["decisions"][0]["reason"],
        "margin too thin"
    );
    let last = history(&app, quote).await.pop().unwrap();
    assert_eq!(
        (last.0.as_str(), last.5.as_deref()),
        ("REJECT", Some("margin too thin"))
    );
    cannot_accept_but_revises(&app, quote).await;
    app.stop().await;
}

#[tokio::test]
async fn an_expired_or_recalled_request_shows_on_the_quote_which_waits_for_its_revise() {
    let app = TestApp::spawn().await;
    let (quote, view) = submitted(&app).await;
    let requested = ApprovalEvent::requested(&view, "PENDING");
    assert_eq!(
        app.deliver(&requested).await,
        moved("SUBMITTED", "APPROVAL_PENDING")
    );
    let pending = app.quote(quote).await;

    // Nobody decided in time: the quote shows it and stays where it is (EXPIRED never approves).
    let expired = requested.then("approval.expired.v1", "EXPIRED");
    assert_eq!(
        app.deliver(&expired).await,
        ApprovalEffect::Unmoved("EVIDENCE_ONLY")
    );
    let view = app.quote(quote).await;
    assert_eq!(view["status"], "APPROVAL_PENDING");
    assert_eq!(view["approvalRequest"]["status"], "EXPIRED");
    assert_eq!(view["aggregateVersion"], pending["aggregateVersion"]);
    cannot_accept_but_revises(&app, quote).await;

    // Another quote's request is recalled by its submitter: the same, as CANCELLED.
    let (other, view) = submitted(&app).await;
    let requested = ApprovalEvent::requested(&view, "PENDING");
    app.deliver(&requested).await;
    let recalled = {
        let mut next = requested.then("approval.recalled.v1", "CANCELLED");
        next.reason = Some("customer asked for a new bundle".into());
        next
    };
    assert_eq!(
        app.deliver(&recalled).await,
        ApprovalEffect::Unmoved("EVIDENCE_ONLY")
    );
    let view = app.quote(other).await;
    assert_eq!(view["status"], "APPROVAL_PENDING");
    assert_eq!(view["approvalRequest"]["status"], "CANCELLED");
    assert_eq!(
        view["approvalRequest"]["requestId"],
        requested.request.to_string()
    );
    app.stop().await;
}

#[tokio::test]
async fn outcomes_for_another_price_or_revision_are_ignored_with_the_reason() {
    let app = TestApp::spawn().await;
    let (quote, view) = submitted(&app).await;
    let before = app.footprint().await;

    let mut other_price = ApprovalEvent::requested(&view, "NOT_REQUIRED");
    other_price.price_hash = "0".repeat(64);
    assert_eq!(
        app.deliver(&other_price).await,
        ApprovalEffect::Unmoved("PRICE_HASH_MISMATCH")
    );
    let after = app.quote(quote).await;
    assert_eq!(after["status"], "SUBMITTED");
    assert_eq!(after["aggregateVersion"], view["aggregateVersion"]);
    assert!(after["approval"].is_null());
    let (command, from, to, _, via, reason) = history(&app, quote).await.pop().unwrap();
    assert_eq!(
        (command.as_str(), from.as_deref(), to.as_str()),
        ("APPROVAL_EVENT_IGNORED", Some("SUBMITTED"), "SUBMITTED")
    );
    assert_eq!(via.as_deref(), Some("approval"));
    assert!(
        reason
            .as_deref()
            .unwrap()
            .starts_with("PRICE_HASH_MISMATCH: about price hash 000"),
        "{reason:?}"
    );
    let ignored = evidence(&app, quote).await.pop().unwrap();
    assert_eq!(ignored["eventType"], "cpq.quote.approval-event-ignored");
    assert_eq!(
        ignored["after"]["approvalEvent"]["reasonCode"],
        "PRICE_HASH_MISMATCH"
    );
    assert_eq!(
        ignored["after"]["approvalEvent"]["priceHash"],
        "0".repeat(64)
    );
    // Only history, evidence and the audit event were added: no quote row changed.
    let grown: Vec<(String, i64)> = app
        .footprint()
        .await
        .into_iter()
        .zip(before)
        .filter(|(now, then)| now != then)
        .map(|((table, now), (_, then))| (table, now - then))
        .collect();
    assert_eq!(
        grown,
        [
            ("quote_history".to_owned(), 1),
            ("outbox_event".to_owned(), 1),
            ("outbox_pending".to_owned(), 1)
        ]
    );

    // Revision 1's approval arrives after the seller opened revision 2.
    app.command(quote, "revise").await;
    let stale = ApprovalEvent::requested(&view, "NOT_REQUIRED");
    assert_eq!(
        app.deliver(&stale).await,
        ApprovalEffect::Unmoved("STALE_REVISION")
    );
    let after = app.quote(quote).await;
    assert_eq!(
        (after["status"].as_str(), after["revision"].as_i64()),
        (Some("DRAFT"), Some(2))
    );
    assert!(
        after["approvalRequest"].is_null(),
        "revision 1's request is not revision 2's"
    );
    let reason = history(&app, quote).await.pop().unwrap().5.unwrap();
    assert_eq!(
        reason,
        "STALE_REVISION: about revision 1; the quote is at revision 2"
    );

    // An event for a quote the tenant does not have is refused (dead-lettered by the consumer).
    let mut unknown = ApprovalEvent::requested(&view, "NOT_REQUIRED");
    unknown.quote = Uuid::now_v7();
    let jobs = app.jobs_pool().await;
    let mut tx = jobs.begin().await.unwrap();
    let incoming = service_host::messaging::consumer::IncomingEvent {
        event_id: unknown.event_id,
        event_type: unknown.event_type.to_owned(),
        aggregate_type: "ApprovalRequest".into(),
        aggregate_id: unknown.request.to_string(),
        aggregate_version: 1,
        envelope: unknown.envelope(),
        topic: "t".into(),
        partition: 0,
        offset: 0,
    };
    let refused = app
        .approval_handler()
        .apply(&mut tx, &incoming)
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, service_host::messaging::consumer::HandlerError::Permanent(why) if why.contains("not found")),
        "{refused:?}"
    );
    tx.rollback().await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn the_same_outcome_twice_moves_the_quote_once() {
    let app = TestApp::spawn().await;
    let (quote, view) = submitted(&app).await;
    let not_required = ApprovalEvent::requested(&view, "NOT_REQUIRED");
    assert_eq!(
        app.deliver(&not_required).await,
        moved("SUBMITTED", "APPROVED")
    );
    // Redelivered past the inbox (a new event id, as a replayed outbox would): the quote no
    // longer waits, so nothing moves.
    let again = ApprovalEvent {
        event_id: Uuid::now_v7(),
        ..not_required.clone()
    };
    assert_eq!(
        app.deliver(&again).await,
        ApprovalEffect::Unmoved("NOT_AWAITING_APPROVAL")
    );
    let commands: Vec<String> = history(&app, quote)
        .await
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(
        commands
            .iter()
            .filter(|c| *c == "APPROVAL_NOT_REQUIRED")
            .count(),
        1,
        "{commands:?}"
    );
    assert_eq!(
        quote_events(&app, quote)
            .await
            .iter()
            .filter(|t| *t == "cpq.quote.approved.v1")
            .count(),
        1
    );
    let approved = app.quote(quote).await;
    assert_eq!(
        approved["aggregateVersion"],
        view["aggregateVersion"].as_i64().unwrap() + 1
    );
    app.stop().await;
}
