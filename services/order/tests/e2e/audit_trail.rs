//! The audit trail of a quote across services (issue 25): sales1 overrides a price beyond their
//! authority, manager1 approves it, sales1 converts the quote. The audit service, consuming the
//! evidence CPQ and approval publish, answers `GET /audit-events?resourceType=QUOTE&resourceId=`
//! with every decision in order: actor, reason, before/after, policy version and leaf hash; the
//! quote's evidence bundle verifies offline.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use super::stack::{Stack, token};

/// Polls the audit service until the quote's evidence includes `event_type`.
async fn wait_evidence(stack: &Stack, audit: &str, quote: Uuid, event_type: &str) -> Vec<Value> {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let page = stack
            .ok(
                "auditor1",
                Method::GET,
                format!("{audit}/audit-events?resourceType=QUOTE&resourceId={quote}&limit=500"),
                None,
            )
            .await;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        if items.iter().any(|e| e["eventType"] == event_type) {
            return items;
        }
        assert!(
            Instant::now() < until,
            "no {event_type} evidence for quote {quote}: {page}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_overridden_approved_converted_quote_has_its_decisions_in_the_audit_log() {
    let stack = Stack::start(true).await;
    let (audit, _audit_db) = stack.start_audit().await;
    let catalog = stack.seed_catalog().await;
    let cpq = &stack.cpq.base;
    let created = stack
        .ok(
            "sales1",
            Method::POST,
            format!("{cpq}/quotes"),
            Some(&json!({
                "customerId": "CUST-AUDIT", "currency": "USD", "priceBookId": catalog.price_book,
                "validUntil": chrono::Utc::now() + chrono::Duration::days(30),
                "items": [{"id": "1", "offeringId": catalog.internet, "quantity": 1, "termMonths": 24,
                           "characteristics": {"bandwidthMbps": 500}}]})),
        )
        .await;
    let quote: Uuid = created["id"].as_str().unwrap().parse().unwrap();
    stack
        .ok(
            "sales1",
            Method::POST,
            format!("{cpq}/quotes/{quote}/price"),
            None,
        )
        .await;
    stack
        .ok(
            "sales1",
            Method::POST,
            format!("{cpq}/quotes/{quote}/items/1/price-override"),
            Some(
                &json!({"charge": "RECURRING_MONTH", "originalPrice": "134.10", "newPrice": "89.00",
                         "reason": "matching the competitor's installation offer"}),
            ),
        )
        .await;
    stack
        .ok(
            "sales1",
            Method::POST,
            format!("{cpq}/quotes/{quote}/submit"),
            None,
        )
        .await;

    // manager1 decides the open MANAGER level of the quote's approval request.
    let until = Instant::now() + Duration::from_secs(60);
    let (request, price_hash) = loop {
        let view = stack
            .ok("sales1", Method::GET, format!("{cpq}/quotes/{quote}"), None)
            .await;
        if view["approvalRequest"]["status"] == "PENDING" {
            break (
                view["approvalRequest"]["requestId"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                view["priceHash"].clone(),
            );
        }
        assert!(
            Instant::now() < until,
            "no pending approval request: {view}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let approval = &stack.approval.base;
    // An operator names manager1 in the approver directory (as `./dev up` does).
    let (status, named) = stack
        .call(
            "ops1",
            Method::PUT,
            format!("{approval}/approvers/manager1"),
            Some(
                &json!({"roles": ["approver-manager"], "groups": ["approver-manager"],
                         "reason": "the audit scenario's approver"}),
            ),
            None,
        )
        .await;
    assert!(status.is_success(), "{status} {named}");
    let (status, decided) = stack
        .call(
            "manager1",
            Method::POST,
            format!("{approval}/approval-requests/{request}/decisions"),
            Some(&json!({"level": "MANAGER", "decision": "APPROVE",
                         "reason": "strategic account, one-off installation discount",
                         "priceHash": price_hash})),
            Some(&format!("decide-{quote}")),
        )
        .await;
    assert!(status.is_success(), "{status} {decided}");
    stack.wait_quote(quote, "APPROVED").await;
    stack
        .ok(
            "sales1",
            Method::POST,
            format!("{cpq}/quotes/{quote}/accept"),
            Some(&json!({"channel": "CUSTOMER_PORTAL", "reference": "PO-AUDIT"})),
        )
        .await;
    stack
        .ok(
            "sales1",
            Method::POST,
            format!("{cpq}/quotes/{quote}/convert-to-order"),
            None,
        )
        .await;

    let events = wait_evidence(&stack, &audit.base, quote, "cpq.quote.converted").await;
    let types: Vec<&str> = events
        .iter()
        .filter_map(|e| e["eventType"].as_str())
        .collect();
    let position = |wanted: &str| {
        types
            .iter()
            .position(|t| *t == wanted)
            .unwrap_or_else(|| panic!("no {wanted} in {types:?}"))
    };
    let overridden = &events[position("cpq.quote.price-overridden")];
    assert_eq!(overridden["actor"]["actorId"], "sales1");
    assert_eq!(
        overridden["businessReason"],
        "matching the competitor's installation offer"
    );
    assert!(!overridden["before"].is_null() && !overridden["after"].is_null());
    assert_ne!(overridden["before"], overridden["after"]);
    let approved = events
        .iter()
        .find(|e| e["actor"]["actorId"] == "manager1")
        .unwrap_or_else(|| panic!("no decision by manager1 in {types:?}"));
    assert_eq!(
        approved["businessReason"],
        "strategic account, one-off installation discount"
    );
    assert!(
        approved["policy"]["policyVersion"]
            .as_str()
            .is_some_and(|v| !v.is_empty()),
        "the approval names its policy version: {approved}"
    );
    let converted = &events[position("cpq.quote.converted")];
    assert_eq!(converted["actor"]["actorId"], "sales1");
    assert!(position("cpq.quote.price-overridden") < position("cpq.quote.converted"));
    let approved_at = events
        .iter()
        .position(|e| e["actor"]["actorId"] == "manager1")
        .unwrap();
    assert!(position("cpq.quote.price-overridden") < approved_at);
    assert!(approved_at < position("cpq.quote.converted"));
    let times: Vec<&str> = events
        .iter()
        .filter_map(|e| e["occurredAt"].as_str())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "in decision order");
    for event in &events {
        assert_eq!(
            event["leafHash"].as_str().map(str::len),
            Some(64),
            "{event}"
        );
        assert_eq!(event["resource"]["resourceType"], "QUOTE");
    }

    // The quote's bundle proves every entry against a signed checkpoint, offline.
    let (status, bundle) = stack
        .call(
            "auditor1",
            Method::GET,
            format!(
                "{}/evidence-bundles?resourceType=QUOTE&resourceId={quote}",
                audit.base
            ),
            None,
            None,
        )
        .await;
    assert!(status.is_success(), "{status} {bundle}");
    let bundle: audit_proof::bundle::EvidenceBundle = serde_json::from_value(bundle).unwrap();
    assert!(bundle.entries.len() >= events.len());
    audit_proof::bundle::verify_bundle(&bundle, None).expect("the quote's bundle verifies");
    let _ = token("auditor1");
}
