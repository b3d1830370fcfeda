//! Commercial changes: a rejected quote revised, fixed and resubmitted asks only what the fix
//! changed (smart re-approval, with evidence); a revision supersedes a request, its open task
//! disappears, and the new revision cannot be accepted until it is approved.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use super::actions::{Fixture, WAIT, task_key};
use super::events::{EventReader, of};
use super::stack::{Stack, Timing};

impl Stack {
    /// The seller revises the quote, replaces its line at `discount` and prices it again.
    async fn revise_to(&self, seller: &str, quote: Uuid, fixture: Fixture, discount: &str) {
        let base = self.cpq.base.clone();
        for (method, path, body) in [
            (
                Method::POST,
                format!("{base}/quotes/{quote}/revise"),
                Some(json!({"reason": "customer asked"})),
            ),
            (
                Method::PUT,
                format!("{base}/quotes/{quote}/items"),
                Some(
                    json!({"items": [{"offeringId": fixture.offering, "quantity": 1, "termMonths": 12,
                    "discountPercent": discount, "characteristics": {"bandwidthMbps": 500}}]}),
                ),
            ),
            (Method::POST, format!("{base}/quotes/{quote}/price"), None),
        ] {
            let (status, answer) = self
                .call(seller, method.clone(), path.clone(), body.as_ref())
                .await;
            assert!(status.is_success(), "{method} {path}: {status} {answer}");
        }
    }

    async fn accept(&self, quote: Uuid) -> (StatusCode, Value) {
        self.call(
            "sales1",
            Method::POST,
            format!("{}/quotes/{quote}/accept", self.cpq.base),
            Some(&json!({"reference": "PO-9"})),
        )
        .await
    }

    /// Waits until the quote has exactly `count` approval requests; returns them, newest first.
    async fn requests_settle(&self, quote: Uuid, count: usize, newest_status: &str) -> Vec<Value> {
        let until = tokio::time::Instant::now() + WAIT;
        loop {
            let requests = self.requests_of(quote).await;
            if requests.len() == count && requests[0]["status"] == newest_status {
                return requests;
            }
            assert!(
                tokio::time::Instant::now() < until,
                "quote {quote}: wanted {count} requests, the newest {newest_status}: {requests:#?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

fn decide_body(item: &Value, level: &str, verdict: &str) -> Value {
    json!({"level": level, "decision": verdict, "reason": "margin reviewed", "priceHash": item["priceHash"]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rejected_quote_revised_and_resubmitted_skips_the_level_its_fix_did_not_touch() {
    let stack = Stack::start(Timing::RELAXED).await;
    stack.seed_directory().await;
    let fixture = stack.seed_catalog().await;
    let quote = stack.priced_quote("sales1", fixture, "45").await;
    stack.submit("sales1", quote).await;
    let manager = stack.inbox_task("manager1", quote, "MANAGER").await;
    let request = manager["approvalRequestId"].as_str().unwrap().to_owned();
    let (status, body) = stack
        .decide(
            "manager1",
            &request,
            decide_body(&manager, "MANAGER", "APPROVE"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let director = stack.inbox_task("director1", quote, "DIRECTOR").await;
    let key = task_key(&director);
    let (status, body) = stack
        .tasklist_decides(
            "director1",
            &key,
            json!({"decision": "REJECT", "reason": "45 % is beyond this quarter's floor"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    stack.quote_reaches(quote, "REJECTED").await;

    // Revise, fix the discount below the director's threshold, resubmit.
    stack.revise_to("sales1", quote, fixture, "35").await;
    stack.submit("sales1", quote).await;
    let approved = stack.quote_reaches(quote, "APPROVED").await;
    let requests = stack.requests_settle(quote, 2, "APPROVED").await;
    assert_eq!(requests[1]["status"], "REJECTED");
    let newest = stack.request(requests[0]["id"].as_str().unwrap()).await;
    let manager_level = &newest["levels"][0];
    assert_eq!(manager_level["level"], "MANAGER", "{newest:#}");
    assert_eq!(manager_level["state"], "SKIPPED", "{newest:#}");
    let evidence = &manager_level["skip"];
    assert_eq!(evidence["previousRequestId"], request, "{newest:#}");
    assert!(
        evidence["compared"]
            .as_array()
            .is_some_and(|c| c.iter().any(|i| i["comparison"] == "NO_RISKIER")),
        "45 % → 35 % is no riskier: {newest:#}"
    );
    assert_eq!(newest["decisions"], json!([]), "nobody was asked again");
    assert_eq!(approved["approvalRequest"]["status"], "APPROVED");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revision_supersedes_pending_and_approved_requests_removes_tasks_and_blocks_acceptance_until_approved()
 {
    let stack = Stack::start(Timing::RELAXED).await;
    stack.seed_directory().await;
    let fixture = stack.seed_catalog().await;
    let mut events = EventReader::new(&stack.brokers);
    let quote = stack.priced_quote("sales1", fixture, "45").await;
    stack.submit("sales1", quote).await;
    let manager = stack.inbox_task("manager1", quote, "MANAGER").await;
    let first = manager["approvalRequestId"].as_str().unwrap().to_owned();
    stack
        .decide(
            "manager1",
            &first,
            decide_body(&manager, "MANAGER", "APPROVE"),
        )
        .await;
    let director = stack.inbox_task("director1", quote, "DIRECTOR").await;
    let director_key = task_key(&director);

    // The seller revises and reprices while the director's task is open.
    stack.revise_to("sales1", quote, fixture, "45").await;
    events
        .wait_for(
            "approval.superseded.v1",
            of("approval.superseded.v1", first.clone()),
        )
        .await;
    let until = tokio::time::Instant::now() + WAIT;
    loop {
        let open = stack
            .engine_tasks(
                "director1",
                json!({"userTaskKey": director_key, "state": "CREATED"}),
            )
            .await;
        if open.is_empty() && stack.inbox("director1", quote).await.is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "the superseded task stays open: {open:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (status, body) = stack.accept(quote).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a repriced revision is not approved: {body}"
    );

    // Resubmitted, the unchanged manager level is skipped; the director decides again.
    stack.submit("sales1", quote).await;
    stack.quote_reaches(quote, "APPROVAL_PENDING").await;
    let (status, body) = stack.accept(quote).await;
    assert_eq!(status, StatusCode::CONFLICT, "still pending: {body}");
    let again = stack.inbox_task("director1", quote, "DIRECTOR").await;
    assert_ne!(again["approvalRequestId"], json!(first));
    let key = task_key(&again);
    let (status, body) = stack
        .tasklist_decides(
            "director1",
            &key,
            json!({"decision": "APPROVE", "reason": "same deal"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let approved = stack.quote_reaches(quote, "APPROVED").await;
    let second = approved["approvalRequest"]["requestId"]
        .as_str()
        .expect("the approving request")
        .to_owned();

    // An approved quote revised and repriced: the approval no longer vouches for it.
    stack.revise_to("sales1", quote, fixture, "45").await;
    events
        .wait_for(
            "approval.superseded.v1",
            of("approval.superseded.v1", second.clone()),
        )
        .await;
    let (status, body) = stack.accept(quote).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "the new revision is not approved: {body}"
    );
    // Resubmitted unchanged, both levels are vouched for by the superseded approval.
    stack.submit("sales1", quote).await;
    let reapproved = stack.quote_reaches(quote, "APPROVED").await;
    assert_ne!(reapproved["approvalRequest"]["requestId"], json!(second));
    assert_eq!(
        reapproved["approvalRequest"]["decisions"],
        json!([]),
        "{reapproved:#}"
    );
    let (status, body) = stack.accept(quote).await;
    assert!(status.is_success(), "{status} {body}");
    stack.stop().await;
}
