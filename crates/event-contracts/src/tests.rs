use serde_json::{Value, json};

use super::*;

const EVENT_TYPES: [&str; 71] = [
    "approval.approved.v1",
    "approval.escalated.v1",
    "approval.expired.v1",
    "approval.recalled.v1",
    "approval.rejected.v1",
    "approval.requested.v1",
    "approval.superseded.v1",
    "audit.evidence-submitted.v1",
    "catalog.price-book.created.v1",
    "catalog.price-book.published.v1",
    "catalog.price-book.retired.v1",
    "catalog.price-book.version-created.v1",
    "catalog.product-offering.archived.v1",
    "catalog.product-offering.created.v1",
    "catalog.product-offering.draft-updated.v1",
    "catalog.product-offering.published.v1",
    "catalog.product-offering.retired.v1",
    "catalog.product-offering.returned-to-draft.v1",
    "catalog.product-offering.submitted-for-review.v1",
    "catalog.product-offering.version-created.v1",
    "catalog.product-specification.created.v1",
    "cpq.quote.accepted.v1",
    "cpq.quote.approval-pending.v1",
    "cpq.quote.approved.v1",
    "cpq.quote.cancelled.v1",
    "cpq.quote.converted.v1",
    "cpq.quote.created.v1",
    "cpq.quote.expired.v1",
    "cpq.quote.items-replaced.v1",
    "cpq.quote.price-overridden.v1",
    "cpq.quote.priced.v1",
    "cpq.quote.rejected.v1",
    "cpq.quote.revised.v1",
    "cpq.quote.submitted.v1",
    "cpq.quote.submitted.v2",
    "integration.billing.charge-failed.v1",
    "integration.billing.charge-reversed.v1",
    "integration.billing.charge-triggered.v1",
    "integration.billing.reversal-failed.v1",
    "integration.contract.registered.v1",
    "integration.contract.registration-failed.v1",
    "integration.crm.order-status-update-failed.v1",
    "integration.crm.order-status-updated.v1",
    "integration.inventory.release-failed.v1",
    "integration.inventory.release-succeeded.v1",
    "integration.inventory.reservation-failed.v1",
    "integration.inventory.reservation-succeeded.v1",
    "integration.notification.send-failed.v1",
    "integration.notification.sent.v1",
    "integration.provisioning.activation-failed.v1",
    "integration.provisioning.activation-succeeded.v1",
    "integration.provisioning.deactivation-failed.v1",
    "integration.provisioning.deactivation-succeeded.v1",
    "integration.provisioning.modification-failed.v1",
    "integration.provisioning.modification-succeeded.v1",
    "oms.fallout.status-changed.v1",
    "oms.fulfillment-task.compensated.v1",
    "oms.fulfillment-task.dispatched.v1",
    "oms.fulfillment-task.failed.v1",
    "oms.fulfillment-task.status-changed.v1",
    "oms.fulfillment-task.succeeded.v1",
    "oms.order.amended.v1",
    "oms.order.cancelled.v1",
    "oms.order.completed.v1",
    "oms.order.created.v1",
    "oms.order.decomposed.v1",
    "oms.order.entered-fallout.v1",
    "oms.order.failed.v1",
    "oms.order.fulfillment-started.v1",
    "oms.order.status-changed.v1",
    "oms.order.validated.v1",
];

const BOOK: &str = "0192f2b4-3c1e-7a51-9a3b-5d9e8c7b6a01";

fn envelope(event_type: &str, aggregate_type: &str, payload: Value) -> Value {
    json!({
        "eventId": "0192f2b4-3c1e-7a51-9a3b-5d9e8c7b6a99",
        "eventType": event_type,
        "eventVersion": 1,
        "occurredAt": "2026-11-21T10:15:30.123456789Z",
        "tenantId": "acme",
        "aggregateType": aggregate_type,
        "aggregateId": BOOK,
        "aggregateVersion": 3,
        "correlationId": "corr-1",
        "causationId": "0192f2b4-3c1e-7a51-9a3b-5d9e8c7b6a02",
        "businessTransactionId": "corr-1",
        "actorId": "jane",
        "partitionKey": BOOK,
        "payload": payload
    })
}

fn retired() -> Value {
    envelope(
        "catalog.price-book.retired.v1",
        "PriceBook",
        json!({"priceBookId": BOOK, "version": 1, "supersededBy": 2}),
    )
}

fn published_price_book() -> Value {
    envelope(
        "catalog.price-book.published.v1",
        "PriceBook",
        json!({
            "priceBookId": BOOK,
            "version": 2,
            "content": {
                "priceBookId": BOOK,
                "tenantId": "acme",
                "code": "PB-1",
                "currency": "USD",
                "version": 2,
                "name": "Price book",
                "charges": [
                    {"offeringId": BOOK, "offeringVersion": 1, "chargeType": "RECURRING",
                     "period": "MONTH", "unitPrice": "149.00", "tierMode": null, "tiers": null},
                    {"offeringId": BOOK, "offeringVersion": 1, "chargeType": "ONE_TIME",
                     "period": null, "unitPrice": null, "tierMode": "SLAB", "tiers": [
                        {"fromQuantity": 1, "toQuantity": 4, "unitPrice": "15.00"},
                        {"fromQuantity": 5, "toQuantity": null, "unitPrice": "12.00"}
                    ]}
                ],
                "createdAt": "2026-11-21T10:15:30.123456Z",
                "createdBy": "jane"
            }
        }),
    )
}

fn pointers(error: &ContractError) -> Vec<&str> {
    error
        .violations()
        .iter()
        .map(|v| v.pointer.as_str())
        .collect()
}

#[test]
fn every_embedded_schema_loads_and_every_catalog_event_has_one() {
    assert_eq!(event_types().expect("schemas load"), EVENT_TYPES);
    // Envelope and shared definitions are embedded too, but are not events.
    for support in [
        "envelope.v1.schema.json",
        "common.v1.schema.json",
        "catalog.v1.schema.json",
        "cpq.v1.schema.json",
        "approval.v1.schema.json",
        "integration.v1.schema.json",
        "oms.v1.schema.json",
    ] {
        assert!(schema_files().iter().any(|(name, _)| *name == support));
    }
}

#[test]
fn a_conforming_envelope_passes() {
    validate(&retired()).expect("valid retired");
    validate(&published_price_book()).expect("valid published");
    let mut traced = retired();
    traced["traceparent"] = json!("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    validate(&traced).expect("traceparent is optional but allowed");
}

#[test]
fn unknown_and_missing_event_types_are_refused() {
    let mut unknown = retired();
    unknown["eventType"] = json!("catalog.price-book.retired.v9");
    assert_eq!(
        validate(&unknown),
        Err(ContractError::UnknownEventType(
            "catalog.price-book.retired.v9".into()
        ))
    );
    assert_eq!(
        validate(&json!({"payload": {}})),
        Err(ContractError::MissingEventType)
    );
    assert_eq!(validate(&json!([1])), Err(ContractError::MissingEventType));
}

#[test]
fn every_violation_is_reported_with_a_pointer_to_the_field() {
    let mut event = published_price_book();
    let object = event.as_object_mut().expect("object");
    object.remove("tenantId");
    object.insert("extra".into(), json!(true));
    event["aggregateVersion"] = json!("3");
    event["payload"]["content"]["charges"][0]["unitPrice"] = json!(149.0);
    event["payload"]["content"]["charges"][1]["tiers"][1]["unitPrice"] = json!("-1");
    let error = validate(&event).expect_err("invalid");
    let found = pointers(&error);
    for expected in [
        "/tenantId",
        "/extra",
        "/aggregateVersion",
        "/payload/content/charges/0/unitPrice",
        "/payload/content/charges/1/tiers/1/unitPrice",
    ] {
        assert!(found.contains(&expected), "{expected} not in {found:?}");
    }
    let text = error.to_string();
    assert!(text.starts_with("catalog.price-book.published.v1 breaks its contract"));
    assert!(text.contains("/tenantId"), "{text}");
}

#[test]
fn envelope_fields_are_pinned_per_event_type() {
    let mut event = retired();
    event["eventVersion"] = json!(2);
    event["aggregateType"] = json!("ProductOffering");
    event["occurredAt"] = json!("2026-11-21 10:15:30");
    let error = validate(&event).expect_err("invalid");
    let found = pointers(&error);
    for expected in ["/eventVersion", "/aggregateType", "/occurredAt"] {
        assert!(found.contains(&expected), "{expected} not in {found:?}");
    }
}

#[test]
fn payloads_accept_additional_fields_but_the_envelope_does_not() {
    let mut event = retired();
    event["payload"]["newOptionalField"] = json!("fine");
    validate(&event).expect("open payload");
    event["newEnvelopeField"] = json!("no");
    let error = validate(&event).expect_err("closed envelope");
    assert_eq!(pointers(&error), ["/newEnvelopeField"]);
}

#[test]
fn charge_shapes_follow_the_pricing_rules() {
    let mut both = published_price_book();
    both["payload"]["content"]["charges"][0]["tierMode"] = json!("RANGE");
    assert!(validate(&both).is_err(), "flat and tiered at once");
    let mut no_period = published_price_book();
    no_period["payload"]["content"]["charges"][0]["period"] = json!(null);
    assert!(validate(&no_period).is_err(), "recurring without a period");
}

#[test]
fn pointer_tokens_are_escaped() {
    assert_eq!(escape_pointer_token("a/b~c"), "a~1b~0c");
}
