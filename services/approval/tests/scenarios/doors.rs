//! The two front doors end in one command: a Tasklist approval moves the quote, a director
//! cannot take the manager's level in either door, refusals carry stable codes, and the same
//! decision through both doors at once is recorded once.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::actions::task_key;
use super::events::{EventReader, of};
use super::stack::{Stack, Timing};

fn decision(level: &str, verdict: &str, price_hash: &Value) -> Value {
    json!({"level": level, "decision": verdict, "reason": "checked the margin", "priceHash": price_hash})
}

fn assert_denied(status: StatusCode, body: &Value, code: &str) {
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains(code), "expected {code}: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_percent_is_approved_by_a_manager_in_tasklist_then_accepted_and_converted() {
    let stack = Stack::start(Timing::RELAXED).await;
    stack.seed_directory().await;
    let fixture = stack.seed_catalog().await;
    let quote = stack.priced_quote("sales1", fixture, "30").await;
    stack.submit("sales1", quote).await;
    stack.quote_reaches(quote, "APPROVAL_PENDING").await;

    // The portal inbox and the task list show the same task, to the manager only.
    let item = stack.inbox_task("manager1", quote, "MANAGER").await;
    assert_eq!(item["quoteId"], quote.to_string());
    assert!(stack.inbox("director1", quote).await.is_empty());
    let key = task_key(&item);
    let listed = stack
        .engine_tasks(
            "manager1",
            json!({"candidateGroup": "approver-manager", "state": "CREATED"}),
        )
        .await;
    assert!(listed.iter().any(|t| task_key(t) == key), "{listed:?}");

    let (status, body) = stack
        .tasklist_decides(
            "manager1",
            &key,
            json!({"decision": "APPROVE", "reason": "strategic account"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let approved = stack.quote_reaches(quote, "APPROVED").await;
    assert_eq!(
        approved["approvalRequest"]["status"], "APPROVED",
        "{approved:#}"
    );
    let decisions = approved["approvalRequest"]["decisions"].as_array().unwrap();
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0]["actor"], "manager1");
    assert_eq!(decisions[0]["level"], "MANAGER");

    let (status, accepted) = stack
        .call(
            "sales1",
            Method::POST,
            format!("{}/quotes/{quote}/accept", stack.cpq.base),
            Some(&json!({"reference": "PO-1"})),
        )
        .await;
    assert!(status.is_success(), "{status} {accepted}");
    assert_eq!(accepted["status"], "ACCEPTED");
    let (status, order) = stack
        .call(
            "sales1",
            Method::POST,
            format!("{}/quotes/{quote}/convert-to-order", stack.cpq.base),
            None,
        )
        .await;
    assert!(status.is_success(), "{status} {order}");
    assert!(order["orderId"].is_string(), "{order}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_five_percent_needs_the_manager_then_the_director_and_never_the_other_way() {
    let stack = Stack::start(Timing::RELAXED).await;
    stack.seed_directory().await;
    let fixture = stack.seed_catalog().await;
    let quote = stack.priced_quote("sales1", fixture, "45").await;
    stack.submit("sales1", quote).await;
    let item = stack.inbox_task("manager1", quote, "MANAGER").await;
    let request = item["approvalRequestId"].as_str().unwrap().to_owned();
    let hash = item["priceHash"].clone();

    // A director cannot decide the manager's level: not in the portal …
    let (status, body) = stack
        .decide("director1", &request, decision("MANAGER", "APPROVE", &hash))
        .await;
    assert!(status.is_client_error(), "{status} {body}");
    assert_eq!(body["code"], "APPROVAL_LEVEL_NOT_COVERED", "{body}");
    // … nor in the task list: the completion is denied and the task stays open.
    let key = task_key(&item);
    let (status, body) = stack
        .tasklist_decides(
            "director1",
            &key,
            json!({"decision": "APPROVE", "reason": "fine"}),
        )
        .await;
    assert_denied(status, &body, "APPROVAL_LEVEL_NOT_COVERED");
    assert_eq!(stack.approval_rows("approval_decision", "true").await, 0);

    // The manager approves in the portal; then, and only then, the director's task opens.
    let (status, body) = stack
        .decide("manager1", &request, decision("MANAGER", "APPROVE", &hash))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let director = stack.inbox_task("director1", quote, "DIRECTOR").await;
    // cpq follows the approval's events (ADR 0035): the quote reaches the state, it is not
    // there the instant the director's task opens.
    stack.quote_reaches(quote, "APPROVAL_PENDING").await;
    let key = task_key(&director);
    let (status, body) = stack
        .tasklist_decides(
            "director1",
            &key,
            json!({"decision": "APPROVE", "reason": "margin holds"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let approved = stack.quote_reaches(quote, "APPROVED").await;
    let levels: Vec<&Value> = approved["approvalRequest"]["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["level"])
        .collect();
    assert_eq!(levels, [&json!("MANAGER"), &json!("DIRECTOR")]);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refusals_carry_stable_codes_in_both_doors() {
    let stack = Stack::start(Timing::RELAXED).await;
    stack.seed_directory().await;
    let fixture = stack.seed_catalog().await;
    // manager1 sells too (authority 25 %): a 30 % quote of theirs needs a manager.
    let quote = stack.priced_quote("manager1", fixture, "30").await;
    stack.submit("manager1", quote).await;
    let item = stack.inbox_task("manager1", quote, "MANAGER").await;
    let request = item["approvalRequestId"].as_str().unwrap().to_owned();
    let hash = item["priceHash"].clone();
    let key = task_key(&item);

    // The submitter never approves their own quote.
    let (status, body) = stack
        .decide("manager1", &request, decision("MANAGER", "APPROVE", &hash))
        .await;
    assert!(status.is_client_error(), "{status} {body}");
    assert_eq!(body["code"], "APPROVAL_SELF_DECISION", "{body}");
    let (status, body) = stack
        .tasklist_decides("manager1", &key, json!({"decision": "APPROVE"}))
        .await;
    assert_denied(status, &body, "APPROVAL_SELF_DECISION");

    // An approver without authority for the level, in both doors.
    let (status, body) = stack
        .decide("finance1", &request, decision("MANAGER", "APPROVE", &hash))
        .await;
    assert!(status.is_client_error(), "{status} {body}");
    assert_eq!(body["code"], "APPROVAL_LEVEL_NOT_COVERED", "{body}");
    stack.claim("ops1", &key, "finance1").await;
    let (status, body) = stack
        .complete("finance1", &key, json!({"decision": "APPROVE"}))
        .await;
    assert!(
        status == StatusCode::CONFLICT || status == StatusCode::FORBIDDEN,
        "{status} {body}"
    );
    assert_eq!(stack.approval_rows("approval_decision", "true").await, 0);

    // Another manager rejects; the rejected request is never reused.
    let other = stack
        .decide("manager2", &request, decision("MANAGER", "REJECT", &hash))
        .await;
    assert_eq!(other.0, StatusCode::CREATED, "{}", other.1);
    stack.quote_reaches(quote, "REJECTED").await;
    let (status, body) = stack
        .decide("manager2", &request, decision("MANAGER", "APPROVE", &hash))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        ["ILLEGAL_TRANSITION", "APPROVAL_ALREADY_DECIDED"]
            .contains(&body["code"].as_str().unwrap()),
        "{body}"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_decision_through_both_doors_at_once_is_recorded_once() {
    let stack = Stack::start(Timing::RELAXED).await;
    stack.seed_directory().await;
    let fixture = stack.seed_catalog().await;
    let mut events = EventReader::new(&stack.brokers);
    let quote = stack.priced_quote("sales1", fixture, "30").await;
    stack.submit("sales1", quote).await;
    let item = stack.inbox_task("manager1", quote, "MANAGER").await;
    let request = item["approvalRequestId"].as_str().unwrap().to_owned();
    let key = task_key(&item);
    stack.claim("manager1", &key, "manager1").await;
    let body = json!({"level": "MANAGER", "decision": "APPROVE", "reason": "ok", "priceHash": item["priceHash"]});
    let (rest, tasklist) = tokio::join!(
        stack.decide("manager1", &request, body),
        stack.complete(
            "manager1",
            &key,
            json!({"decision": "APPROVE", "reason": "ok"})
        ),
    );
    assert!(rest.0.is_success(), "{rest:?}");
    // The task completes through one door or is already gone because the other completed it.
    assert!(
        tasklist.0.is_success()
            || tasklist.0 == StatusCode::CONFLICT
            || tasklist.0 == StatusCode::NOT_FOUND,
        "{tasklist:?}"
    );
    stack.quote_reaches(quote, "APPROVED").await;
    events
        .wait_for(
            "approval.approved.v1",
            of("approval.approved.v1", request.clone()),
        )
        .await;
    assert_eq!(stack.approval_rows("approval_decision", "true").await, 1);
    assert_eq!(events.count("approval.approved.v1", &request), 1);
    let transitions: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM quote_history WHERE quote_id = $1 AND to_status = 'APPROVED'",
    )
    .bind(quote)
    .fetch_one(&stack.cpq_db)
    .await
    .expect("quote history");
    assert_eq!(transitions, 1, "one quote transition");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_quote_within_policy_is_approved_within_a_second_of_its_submit() {
    let stack = Stack::start(Timing::RELAXED).await;
    let fixture = stack.seed_catalog().await;
    // 5 % is within sales1's own 10 %: the policy requires no level.
    let quote = stack.priced_quote("sales1", fixture, "5").await;
    let submitted_at = std::time::Instant::now();
    let answer = stack.submit("sales1", quote).await;
    assert_eq!(
        answer["status"], "SUBMITTED",
        "CPQ decides nothing itself: {answer}"
    );
    let approved = stack.quote_reaches(quote, "APPROVED").await;
    let took = submitted_at.elapsed();
    assert!(
        took < std::time::Duration::from_secs(1),
        "NOT_REQUIRED took {took:?} to reach CPQ (ADR 0035: within 1 s)"
    );
    assert_eq!(
        approved["approvalRequest"]["status"], "NOT_REQUIRED",
        "{approved:#}"
    );
    assert_eq!(approved["approvalRequest"]["decisions"], json!([]));
    stack.stop().await;
}
