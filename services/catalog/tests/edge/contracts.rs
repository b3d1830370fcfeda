//! Event contracts (ADR 0010) against what the catalog really writes: every command is driven
//! once, and every envelope in the outbox must satisfy the JSON Schema of its event type, sit on
//! the topic the schema names, and keep the envelope's cross-field promises.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, expect_status, id_of};
use crate::price_books::{create_price_book, publish_price_book};

/// One outbox row: topic, partition key, event type column and the envelope.
type Row = (String, String, String, Value);

async fn outbox(app: &TestApp) -> Vec<Row> {
    sqlx::query_as(
        "SELECT topic, partition_key, event_type, envelope FROM outbox_event ORDER BY outbox_seq",
    )
    .fetch_all(&app.db)
    .await
    .unwrap()
}

/// POSTs a lifecycle command with a body and expects success.
async fn lifecycle(app: &TestApp, offering: Uuid, command: &str, body: Value) -> Value {
    let response = app
        .post(&format!("/product-offerings/{offering}/{command}"), &body)
        .await;
    expect_status(response, StatusCode::OK).await
}

/// Drives every catalog command once; returns the main offering.
async fn drive_every_command(app: &TestApp) -> Uuid {
    // Specifications: the harness's (integer, enumerated) and one with a decimal range.
    let spec = app.create_spec("CT-SPEC").await;
    let response = app
        .post(
            "/product-specifications",
            &json!({
                "code": "CT-UPLINK",
                "name": "Uplink",
                "description": "Decimal characteristic with a range",
                "characteristics": [
                    {"name": "uplinkGbps", "valueType": "DECIMAL", "required": false,
                     "range": {"min": "0.5", "max": "10"}, "defaultValue": "1.5", "unit": "Gbps",
                     "description": "Uplink capacity"},
                    {"name": "managed", "valueType": "BOOLEAN", "required": true}
                ]
            }),
        )
        .await;
    let uplink = id_of(&expect_status(response, StatusCode::CREATED).await, "id");

    // Offerings: an add-on, and the main offering that requires it.
    let addon = app.create_offering_with("CT-ADDON", spec, json!([])).await;
    let offering = app
        .create_offering_with(
            "CT-MAIN",
            spec,
            json!([{"type": "REQUIRES", "targetOfferingId": addon, "minCardinality": 1, "maxCardinality": 2}]),
        )
        .await;

    // v1: submit, return, edit, submit again, publish (with the request context headers a
    // portal sends, traceparent included).
    app.command(offering, "submit-for-review").await;
    lifecycle(app, offering, "return-to-draft", json!({"reason": "typo"})).await;
    let response = app
        .patch(
            &format!("/product-offerings/{offering}/versions/1"),
            &json!({"name": "Main offering", "description": "Edited", "productSpecificationId": uplink,
                    "fulfilmentProfile": {
                        "startsSubscription": true,
                        "actions": {
                            "ADD": [
                                {"taskType": "RESERVE_INVENTORY", "operation": "INVENTORY_RESERVE",
                                 "reversible": true, "compensation": "INVENTORY_RELEASE"},
                                {"taskType": "ACTIVATE_SERVICE", "operation": "PROVISIONING_ACTIVATE",
                                 "dependsOn": ["RESERVE_INVENTORY"], "reversible": true,
                                 "compensation": "PROVISIONING_DEACTIVATE", "pointOfNoReturn": true}
                            ],
                            "MODIFY": [{"taskType": "MODIFY_SERVICE", "operation": "PROVISIONING_MODIFY", "reversible": false}],
                            "DELETE": [{"taskType": "DEACTIVATE_SERVICE", "operation": "PROVISIONING_DEACTIVATE",
                                        "dependsOnChildren": ["DEACTIVATE_SERVICE"], "reversible": false}]
                        }
                    }}),
        )
        .await;
    expect_status(response, StatusCode::OK).await;
    app.command(offering, "submit-for-review").await;
    let response = app
        .request(
            Method::POST,
            &format!("/product-offerings/{offering}/publish"),
        )
        .header("X-Channel", "SALES_PORTAL")
        .header("X-Business-Transaction-Id", "bt-launch-1")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .json(&json!({"reason": "launch"}))
        .send()
        .await
        .unwrap();
    expect_status(response, StatusCode::OK).await;

    // v2: derived with a change, published (superseding v1), then v1 archived, v2 retired and
    // archived.
    let response = app
        .post(
            &format!("/product-offerings/{offering}/versions"),
            &json!({"name": "Main offering v2"}),
        )
        .await;
    expect_status(response, StatusCode::CREATED).await;
    app.command(offering, "submit-for-review").await;
    app.command(offering, "publish").await;

    // Price books: created on v2, published, a new version published over it (retiring v1).
    let book = create_price_book(app, "CT-PB", offering).await;
    publish_price_book(app, book).await;
    let response = app
        .post(
            &format!("/price-books/{book}/versions"),
            &json!({"name": "Price book v2"}),
        )
        .await;
    expect_status(response, StatusCode::CREATED).await;
    publish_price_book(app, book).await;

    lifecycle(app, offering, "archive", json!({"version": 1})).await;
    lifecycle(app, offering, "retire", json!({"reason": "end of sale"})).await;
    app.command(offering, "archive").await;
    offering
}

/// The `x-topic` annotation of an event type's schema.
fn topic_of(event_type: &str) -> Option<String> {
    let file = format!("{event_type}.schema.json");
    event_contracts::schema_files()
        .iter()
        .find(|(name, _)| *name == file)
        .and_then(|(_, text)| serde_json::from_str::<Value>(text).ok())
        .and_then(|schema| schema["x-topic"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn every_envelope_the_catalog_writes_satisfies_its_contract() {
    let app = TestApp::spawn().await;
    drive_every_command(&app).await;
    let rows = outbox(&app).await;

    let mut failures = Vec::new();
    let mut seen = BTreeSet::new();
    for (topic, key, event_type, envelope) in &rows {
        seen.insert(event_type.clone());
        if let Err(error) = event_contracts::validate(envelope) {
            failures.push(format!("{error}\n    envelope: {envelope}"));
        }
        // What the schema cannot say: agreement with the outbox columns and between fields.
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
        expect(
            event_type.ends_with(&format!(".v{}", envelope["eventVersion"])),
            "eventVersion = the eventType suffix",
        );
        if event_type == "audit.evidence-submitted.v1" {
            let payload = &envelope["payload"];
            expect(
                envelope["eventId"] == payload["auditEventId"],
                "eventId = auditEventId",
            );
            expect(
                envelope["partitionKey"] == envelope["businessTransactionId"],
                "audit is keyed by business transaction",
            );
            expect(
                envelope["aggregateId"] == payload["resource"]["resourceId"]
                    && envelope["aggregateVersion"] == payload["resource"]["resourceVersion"],
                "the aggregate is the audited resource",
            );
        } else {
            expect(
                envelope["partitionKey"] == envelope["aggregateId"],
                "keyed by aggregate id",
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

    // Every contract the catalog owns (its own events and the audit evidence it submits) was
    // exercised, and nothing was written without one.
    let contracts: BTreeSet<String> = event_contracts::event_types()
        .unwrap()
        .into_iter()
        .filter(|event_type| event_type.starts_with("catalog.") || event_type.starts_with("audit."))
        .map(str::to_owned)
        .collect();
    assert_eq!(seen, contracts, "event types written vs contracts");
    let traced = rows
        .iter()
        .filter(|(_, _, _, envelope)| envelope.get("traceparent").is_some())
        .count();
    assert!(
        traced >= 2,
        "the publish event and its audit carry traceparent"
    );
    let profiles = rows
        .iter()
        .filter(|(_, _, _, envelope)| {
            envelope["payload"]["content"]["fulfilmentProfile"].is_object()
        })
        .map(|(_, _, event_type, _)| event_type.as_str())
        .collect::<BTreeSet<_>>();
    assert_eq!(
        profiles,
        BTreeSet::from([
            "catalog.product-offering.draft-updated.v1",
            "catalog.product-offering.published.v1",
            "catalog.product-offering.version-created.v1",
        ]),
        "fulfilment profiles were validated in every content event that carries one"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_mutated_envelope_is_rejected_with_a_pointer_to_the_field() {
    let app = TestApp::spawn().await;
    app.published_offering("CT-NEG").await;
    let rows = outbox(&app).await;
    let (_, _, _, published) = rows
        .iter()
        .find(|(_, _, event_type, _)| event_type == "catalog.product-offering.published.v1")
        .expect("a published event")
        .clone();
    event_contracts::validate(&published).expect("the real envelope is valid");

    let mut mutated = published.clone();
    mutated["payload"]["version"] = json!("1");
    mutated["payload"]["content"]
        .as_object_mut()
        .unwrap()
        .remove("code");
    mutated["payload"]["toStatus"] = json!("RETIRED");
    mutated["aggregateId"] = json!("");
    let error = event_contracts::validate(&mutated).expect_err("mutated envelope");
    let pointers: Vec<&str> = error
        .violations()
        .iter()
        .map(|v| v.pointer.as_str())
        .collect();
    for expected in [
        "/payload/version",
        "/payload/content/code",
        "/payload/toStatus",
        "/aggregateId",
    ] {
        assert!(pointers.contains(&expected), "{expected} in {pointers:?}");
    }

    // A fulfilment profile keeps its promises too: a reversible task names its compensation.
    let mut bad_profile = published.clone();
    bad_profile["payload"]["content"]["fulfilmentProfile"] = json!({
        "startsSubscription": false,
        "actions": {"ADD": [{"taskType": "RESERVE", "operation": "INVENTORY_RESERVE", "dependsOn": [],
            "dependsOnParent": [], "dependsOnChildren": [], "reversible": true, "compensation": null,
            "pointOfNoReturn": false}]}
    });
    let error =
        event_contracts::validate(&bad_profile).expect_err("reversible without compensation");
    assert!(
        error
            .violations()
            .iter()
            .any(|v| v.pointer.starts_with("/payload/content/fulfilmentProfile")),
        "{error:?}"
    );

    let mut renamed = published;
    renamed["eventType"] = json!("catalog.product-offering.launched.v1");
    assert_eq!(
        event_contracts::validate(&renamed),
        Err(event_contracts::ContractError::UnknownEventType(
            "catalog.product-offering.launched.v1".into()
        ))
    );
    app.stop().await;
}
