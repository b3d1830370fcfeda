//! Time and people: an overdue level is reminded, then escalated to the next group (with
//! `approval.escalated.v1`), whose member decides it; a manager delegates to a seller for a
//! window, the delegate approves on their behalf with both named, and a cycle is refused.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::actions::task_key;
use super::events::EventReader;
use super::stack::{Stack, Timing};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_overdue_level_is_reminded_then_escalated_to_the_directors_who_decide_it() {
    let stack = Stack::start(Timing {
        level_due_seconds: 2,
        escalate_after_due_seconds: 2,
    })
    .await;
    stack.seed_directory().await;
    let fixture = stack.seed_catalog().await;
    let mut events = EventReader::new(&stack.brokers);
    let quote = stack.priced_quote("sales1", fixture, "30").await;
    stack.submit("sales1", quote).await;
    let manager = stack.inbox_task("manager1", quote, "MANAGER").await;
    let request = manager["approvalRequestId"].as_str().unwrap().to_owned();
    let is_escalation = |kind: &'static str| {
        let request = request.clone();
        move |e: &serde_json::Value| {
            e["eventType"] == "approval.escalated.v1"
                && e["payload"]["requestId"] == request.as_str()
                && e["payload"]["escalation"]["kind"] == kind
        }
    };
    events
        .wait_for("a reminder", is_escalation("REMINDER"))
        .await;
    let moved = events
        .wait_for("an escalation", is_escalation("REASSIGNED_BY_ESCALATION"))
        .await;
    assert!(
        moved["payload"]["escalation"]["to"]
            .to_string()
            .contains("approver-director"),
        "escalated to the directors: {moved:#}"
    );
    // The level stays MANAGER, now in the directors' inbox and no longer in the managers'.
    let escalated = stack.inbox_task("director1", quote, "MANAGER").await;
    assert_ne!(task_key(&escalated), task_key(&manager));
    assert!(stack.inbox("manager1", quote).await.is_empty());
    let key = task_key(&escalated);
    let (status, body) = stack
        .tasklist_decides(
            "director1",
            &key,
            json!({"decision": "APPROVE", "reason": "covering"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    stack.quote_reaches(quote, "APPROVED").await;
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_delegate_approves_on_the_managers_behalf_and_a_cycle_is_refused() {
    let stack = Stack::start(Timing::RELAXED).await;
    stack.seed_directory().await;
    let fixture = stack.seed_catalog().await;
    let window = json!({
        "validFrom": chrono::Utc::now() - chrono::Duration::minutes(1),
        "validUntil": chrono::Utc::now() + chrono::Duration::hours(1),
    });
    let on_stack = &stack;
    let delegate = |from: &'static str, to: &'static str| {
        let body = json!({"delegate": to, "validFrom": window["validFrom"],
                          "validUntil": window["validUntil"], "reason": "on leave this week"});
        let url = format!("{}/approval-delegations", on_stack.approval.base);
        async move { on_stack.call(from, Method::POST, url, Some(&body)).await }
    };
    let (status, body) = delegate("manager1", "sales2").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // The delegate holds no approver authority of their own to pass on.
    let (status, body) = delegate("sales2", "manager1").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "FORBIDDEN_ACTION", "{body}");
    // Between approvers, a grant back to one's own delegator closes a cycle.
    let (status, body) = delegate("manager2", "manager1").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = delegate("manager1", "manager2").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "DELEGATION_CYCLE", "{body}");

    let quote = stack.priced_quote("sales1", fixture, "30").await;
    stack.submit("sales1", quote).await;
    let item = stack.inbox_task("manager1", quote, "MANAGER").await;
    let request = item["approvalRequestId"].as_str().unwrap().to_owned();
    let (status, body) = stack
        .decide(
            "sales2",
            &request,
            json!({"level": "MANAGER", "decision": "APPROVE", "reason": "as agreed with manager1",
                   "priceHash": item["priceHash"], "onBehalfOf": "manager1"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let approved = stack.quote_reaches(quote, "APPROVED").await;
    let decision = &approved["approvalRequest"]["decisions"][0];
    assert_eq!(decision["actor"], "sales2", "{approved:#}");
    assert_eq!(decision["onBehalfOf"], "manager1", "{approved:#}");
    stack.stop().await;
}
