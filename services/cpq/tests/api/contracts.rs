//! Event contracts (ADR 0010) against what CPQ really writes: every quote command is driven,
//! and every envelope in the outbox must satisfy the JSON Schema of its event type, sit on the
//! topic the schema names, and keep the envelope's cross-field promises.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::approval_support::ApprovalEvent;
use crate::harness::{TestApp, expect_status, id_of};

/// Contracts CPQ no longer writes but keeps while their events may be on the topic (ADR 0010):
/// the submit that decided approval in-process ended with ADR 0035.
const RETIRED: [&str; 1] = ["cpq.quote.submitted.v1"];

/// The `x-topic` annotation of an event type's schema.
fn topic_of(event_type: &str) -> Option<String> {
    let file = format!("{event_type}.schema.json");
    event_contracts::schema_files()
        .iter()
        .find(|(name, _)| *name == file)
        .and_then(|(_, text)| serde_json::from_str::<Value>(text).ok())
        .and_then(|schema| schema["x-topic"].as_str().map(str::to_owned))
}

/// Drives every CPQ command at least once.
async fn drive_every_command(app: &TestApp) {
    // created (DRAFT) → items-replaced ×2 → priced → price-overridden → submitted →
    // approval-pending → rejected → revised → items-replaced → priced → submitted → approved →
    // accepted → converted (the approval outcomes through CPQ's consumer handler).
    let created = expect_status(
        app.post("/quotes", &app.create_body(3600, json!(null)))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let quote = id_of(&created, "id");
    let items = json!({"items": [app.item("1", 2)]});
    expect_status(
        app.put(&format!("/quotes/{quote}/items"), &items).await,
        StatusCode::OK,
    )
    .await;
    app.command(quote, "price").await;
    let override_body = json!({"charge": "ONE_TIME", "originalPrice": "100.00", "newPrice": "90.00", "reason": "goodwill"});
    expect_status(
        app.post(
            &format!("/quotes/{quote}/items/1/price-override"),
            &override_body,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let submitted = app.command(quote, "submit").await;
    let pending = ApprovalEvent::requested(&submitted, "PENDING");
    app.deliver(&pending).await;
    app.deliver(&pending.rejected("too deep a cut")).await;
    assert_eq!(app.quote(quote).await["status"], "REJECTED");
    app.command(quote, "revise").await;
    expect_status(
        app.put(&format!("/quotes/{quote}/items"), &items).await,
        StatusCode::OK,
    )
    .await;
    app.command(quote, "price").await;
    app.command(quote, "submit").await;
    app.approve(quote).await;
    app.command(quote, "accept").await;
    app.command(quote, "convert-to-order").await;

    // cancelled, and expired (by the job).
    let other = app.configured_quote().await;
    app.command(other, "cancel").await;
    let short = expect_status(
        app.post("/quotes", &app.create_body(1, json!(null))).await,
        StatusCode::CREATED,
    )
    .await;
    let short = id_of(&short, "id");
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if app.quote(short).await["status"] == "EXPIRED" {
            break;
        }
    }
}

#[tokio::test]
async fn every_envelope_cpq_writes_satisfies_its_contract() {
    let app = TestApp::spawn().await;
    drive_every_command(&app).await;
    let rows = app.outbox().await;

    let mut failures = Vec::new();
    let mut seen = BTreeSet::new();
    for (topic, key, event_type, envelope) in &rows {
        seen.insert(event_type.clone());
        if let Err(error) = event_contracts::validate(envelope) {
            failures.push(format!("{error}\n    envelope: {envelope}"));
        }
        let mut expect = |ok: bool, what: &str| {
            if !ok {
                failures.push(format!("{event_type}: {what}\n    envelope: {envelope}"));
            }
        };
        expect(envelope["eventType"] == *event_type, "eventType = column");
        expect(envelope["partitionKey"] == *key, "partitionKey = column");
        expect(
            topic_of(event_type).as_deref() == Some(topic.as_str()),
            "topic = the schema's x-topic",
        );
        if event_type == "audit.evidence-submitted.v1" {
            expect(
                envelope["partitionKey"] == envelope["businessTransactionId"],
                "audit is keyed by business transaction",
            );
        } else {
            expect(
                envelope["partitionKey"] == envelope["aggregateId"]
                    && envelope["payload"]["quoteId"] == envelope["aggregateId"],
                "keyed by quote id",
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} envelopes break their contract:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );

    // Every CPQ contract was exercised, and nothing was written without one.
    let contracts: BTreeSet<String> = event_contracts::event_types()
        .unwrap()
        .into_iter()
        .filter(|t| t.starts_with("cpq.") || *t == "audit.evidence-submitted.v1")
        .filter(|t| !RETIRED.contains(t))
        .map(str::to_owned)
        .collect();
    assert_eq!(seen, contracts, "event types written vs contracts");
    app.stop().await;
}

#[tokio::test]
async fn a_mutated_conversion_event_is_rejected_with_a_pointer_to_the_field() {
    let app = TestApp::spawn().await;
    let quote = app.accepted_quote().await;
    app.command(quote, "convert-to-order").await;
    let converted = app
        .outbox()
        .await
        .into_iter()
        .find(|(_, _, t, _)| t == "cpq.quote.converted.v1")
        .map(|(_, _, _, envelope)| envelope)
        .unwrap();
    event_contracts::validate(&converted).unwrap();
    let mut mutated = converted.clone();
    mutated["payload"]["snapshot"]["priceHash"] = json!("not-a-hash");
    mutated["payload"]["snapshot"]["items"][0]["configurationStatus"] = json!("VALID");
    mutated["payload"]["toStatus"] = json!("ACCEPTED");
    let error = event_contracts::validate(&mutated).unwrap_err();
    let pointers: Vec<&str> = error
        .violations()
        .iter()
        .map(|v| v.pointer.as_str())
        .collect();
    for expected in [
        "/payload/snapshot/priceHash",
        "/payload/snapshot/items/0/configurationStatus",
        "/payload/toStatus",
    ] {
        assert!(pointers.contains(&expected), "{expected} in {pointers:?}");
    }
    app.stop().await;
}
